#!/usr/bin/python3
"""The HTML report in headless Chromium (label `browser`).

Imports the Boston 311 sample into a scratch database with the caseloop CLI,
writes a one-day, a one-quarter and a ten-year report in Chinese, opens each in
headless Chromium (Selenium, chromium-driver) and checks:
  - the Chinese text renders with a CJK font, not as boxes: the font stack's
    CJK face is available (document.fonts), and two different Chinese
    characters drawn in the page's font differ pixel by pixel (missing glyphs
    all draw the same box);
  - no label is cut off: every SVG text lies inside its SVG, no table is wider
    than the page's main column, no cell's text overflows it;
  - the chart has the bucket size that fits the period (days, weeks, years);
and saves a full-page screenshot (on screen, and in print on the width of A4:
NAME-print.png) and an A4 print-to-PDF of each under OUTDIR.
Exit 77 (ctest: skipped) with a message only when Chromium or its driver is
not installed.

usage: report_browser_test.py CASELOOP_CLI OUTDIR DATA_DIR
"""
import base64
import collections
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


def find(*names):
    for n in names:
        p = shutil.which(n) or (n if os.path.exists(n) else None)
        if p:
            return p
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cli, outdir, data = sys.argv[1:]
    # CASELOOP_CHROMIUM / CASELOOP_CHROMEDRIVER name other binaries (or, naming none, test the skip).
    chromium = (find(os.environ["CASELOOP_CHROMIUM"]) if "CASELOOP_CHROMIUM" in os.environ
                else find("chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome"))
    driver_bin = (find(os.environ["CASELOOP_CHROMEDRIVER"]) if "CASELOOP_CHROMEDRIVER" in os.environ
                  else find("chromedriver", "/usr/bin/chromedriver"))
    if not chromium or not driver_bin:
        print("SKIPPED: Chromium or chromedriver is not installed "
              "(Debian: apt-get install chromium chromium-driver python3-selenium fonts-noto-cjk)")
        return SKIP
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.print_page_options import PrintOptions
    except ImportError as e:
        print(f"FAIL: Chromium is installed but Selenium is not ({e}); apt-get install python3-selenium")
        return 1

    os.makedirs(outdir, exist_ok=True)
    boston = os.path.join(data, "boston311_raw_sample.csv")
    if not os.path.exists(boston):
        print(f"FAIL: no Boston sample at {boston}")
        return 1
    # The busiest day of the sample, for the one-day report.
    days = collections.Counter(r["OPEN_DT"][:10] for r in csv.DictReader(open(boston, encoding="utf-8")))
    busiest = days.most_common(1)[0][0]
    next_day = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(busiest, "%Y-%m-%d")) + 36 * 3600))

    work = tempfile.mkdtemp(prefix="caseloop-browser-")
    failures = []
    try:
        db = os.path.join(work, "db")
        t0 = time.time()
        subprocess.run([cli, "--db", db, "--durability", "none", "import", boston, "--id", "CASE_ENQUIRY_ID",
                        "--created", "OPEN_DT", "--unit", "SUBJECT", "--due", "TARGET_DT", "--closed",
                        "CLOSED_DT", "--category", "TYPE"], check=True, stdout=subprocess.DEVNULL)
        print(f"imported the Boston sample in {time.time() - t0:.1f} s")
        reports = [
            ("one-day", busiest, next_day, "每日"),
            ("one-quarter", "2019-04-01", "2019-07-01", "每周"),
            ("ten-years", "2015-01-01", "2025-01-01", "每年"),
        ]
        for name, frm, to, _ in reports:
            subprocess.run([cli, "--db", db, "report", f"from={frm}", f"to={to}", "--lang", "zh", "--html",
                            os.path.join(outdir, f"report-{name}.html")], check=True, stderr=subprocess.DEVNULL)

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,900", "--hide-scrollbars", "--force-device-scale-factor=1"):
            options.add_argument(a)
        driver = webdriver.Chrome(service=Service(driver_bin), options=options)
        try:
            for name, frm, to, heading in reports:
                failures += check_report(driver, PrintOptions, os.path.join(outdir, f"report-{name}.html"), name,
                                         heading, outdir)
        finally:
            driver.quit()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    print(f"screenshots and PDFs in {outdir}")
    return 1 if failures else 0


# Two different Chinese characters drawn in the font of <body>: the pixels
# must differ (a missing glyph is the same box for both), and the CJK face of
# the font stack must be there (a FontFace of local("Noto Sans CJK SC") loads;
# document.fonts.check() says true for any font it has no face for).
JS_CJK = r"""
return (async () => {
const family = getComputedStyle(document.body).fontFamily;
const c = document.createElement('canvas'); c.width = 64; c.height = 64;
const g = c.getContext('2d', {willReadFrequently: true});
function draw(ch) {
  g.clearRect(0, 0, 64, 64); g.fillStyle = '#000'; g.font = '48px ' + family; g.fillText(ch, 4, 52);
  return Array.from(g.getImageData(0, 0, 64, 64).data);
}
const a = draw('理'), b = draw('案');
let diff = 0; for (let i = 3; i < a.length; i += 4) if (a[i] !== b[i]) diff++;
g.font = '48px ' + family;
return {family: family, differ: diff, ink: a.filter((v, i) => i % 4 === 3 && v > 0).length,
        notoCjk: await new FontFace('probe', 'local("Noto Sans CJK SC")').load().then(() => true, () => false),
        width: g.measureText('受理').width, lang: document.documentElement.lang};
})();
"""

# Everything that is cut off: SVG text outside its SVG, tables wider than
# <main>, cells whose content overflows.
JS_CUT = r"""
const out = [];
const main = document.querySelector('main').getBoundingClientRect();
for (const svg of document.querySelectorAll('svg')) {
  const s = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1)
      out.push('svg text "' + t.textContent + '" [' + [r.left, r.top, r.right, r.bottom].map(Math.round) +
               '] outside its svg [' + [s.left, s.top, s.right, s.bottom].map(Math.round) + ']');
  }
  if (s.right > main.right + 1) out.push('an svg wider than the page: ' + Math.round(s.right) + ' > ' + Math.round(main.right));
}
for (const t of document.querySelectorAll('table')) {
  const r = t.getBoundingClientRect();
  if (r.right > main.right + 1)
    out.push('table in #' + t.closest('section').id + ' wider than the page: ' + Math.round(r.right) + ' > ' + Math.round(main.right));
}
for (const c of document.querySelectorAll('th, td, h1, h2, .card')) {
  if (c.scrollWidth > c.clientWidth + 1) out.push('"' + c.textContent.slice(0, 40) + '" overflows its box');
}
return out;
"""

JS_BUCKETS = r"""
const s = document.querySelector('#counts');
return {heading: s.querySelector('h2').textContent, rows: s.querySelectorAll('tbody tr').length,
        ticks: Array.from(s.querySelectorAll('text.tick')).map(t => t.textContent)};
"""


def save_screenshot(driver, path, width):
    height = driver.execute_script("return document.body.getBoundingClientRect().bottom + 24")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def check_report(driver, PrintOptions, path, name, heading, outdir):
    failures = []
    driver.get("file://" + os.path.abspath(path))
    driver.execute_script("return document.fonts.ready.then(() => true)")
    cjk = driver.execute_script(JS_CJK)
    print(f"{name}: font {cjk['family']}; Noto Sans CJK SC available: {cjk['notoCjk']}; "
          f"'受理' {cjk['width']:.1f} px at 48 px; glyphs differ in {cjk['differ']} pixels")
    if cjk["lang"] != "zh-CN":
        failures.append(f"{name}: <html lang={cjk['lang']}>, expected zh-CN")
    if not cjk["notoCjk"]:
        failures.append(f"{name}: Noto Sans CJK SC is not available to the page (fonts-noto-cjk)")
    if cjk["ink"] == 0 or cjk["differ"] < 50:
        failures.append(f"{name}: '理' and '案' draw the same ({cjk['differ']} pixels differ): boxes, not glyphs")
    if not 80 <= cjk["width"] <= 110:  # two ideographs at 48 px are about 96 px wide
        failures.append(f"{name}: '受理' is {cjk['width']:.1f} px wide at 48 px, not two ideographs")
    for problem in driver.execute_script(JS_CUT):
        failures.append(f"{name}: {problem}")
    b = driver.execute_script(JS_BUCKETS)
    print(f"{name}: {b['heading']}: {b['rows']} rows, labels {b['ticks'][:3]}…{b['ticks'][-2:]}")
    if heading not in b["heading"]:
        failures.append(f"{name}: the chart is '{b['heading']}', expected {heading}")
    if b["rows"] > 62:
        failures.append(f"{name}: {b['rows']} columns in the chart")
    # In print, on the width of an A4 page inside its margins (210 mm - 2 x 12 mm = 703 px), nothing
    # is cut off either.
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 703, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    for problem in driver.execute_script(JS_CUT):
        failures.append(f"{name} (print, A4 width): {problem}")
    save_screenshot(driver, os.path.join(outdir, f"report-{name}-print.png"), 703)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    # A full-page screenshot.
    save_screenshot(driver, os.path.join(outdir, f"report-{name}.png"), 1280)
    # Print to PDF on A4, as a reader would.
    po = PrintOptions()
    po.page_width, po.page_height = 21.0, 29.7
    po.background = True
    pdf = base64.b64decode(driver.print_page(po))
    with open(os.path.join(outdir, f"report-{name}.pdf"), "wb") as f:
        f.write(pdf)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    print(f"{name}: {len(pdf)} bytes of PDF, {pages} A4 pages")
    if not pdf.startswith(b"%PDF") or pages < 1:
        failures.append(f"{name}: print to PDF gave no document")
    return failures


if __name__ == "__main__":
    sys.exit(main())
