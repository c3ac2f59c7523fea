// ProgressBar (tools/progress_bar.h).
#include "tools/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace caseloop::tools {
namespace {

// "0:05", "12:34", "1:02:03".
std::string Duration(double seconds) {
  const auto s = static_cast<std::int64_t>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

std::string GroupThousands(std::int64_t n) {
  std::string digits = std::to_string(n);
  const std::size_t first = n < 0 ? 1 : 0;  // after the sign
  for (std::size_t i = digits.size(); i > first + 3; i -= 3) digits.insert(i - 3, 1, ',');
  return digits;
}

std::string ProgressLine(std::string_view label, double fraction, std::int64_t done, std::string_view unit,
                         double seconds, bool finished, std::string_view detail) {
  constexpr int kWidth = 30;
  fraction = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
  const int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '-');
  // Too early for a rate: the first batch has not been timed yet.
  const bool timed = seconds >= 0.5;
  const std::string rate =
      timed ? GroupThousands(static_cast<std::int64_t>(std::llround(static_cast<double>(done) / seconds)))
            : std::string("-");
  std::string when;
  if (finished) {
    when = fmt::format("in {:.1f} s", seconds);
  } else if (timed && fraction > 0) {
    when = "ETA " + Duration(seconds * (1 - fraction) / fraction);
  } else {
    when = "ETA -";
  }
  std::string line = fmt::format("{} [{}] {:3.0f}% {} {} {} {}/s {}", label, bar, fraction * 100,
                                 GroupThousands(done), unit, rate, unit, when);
  if (!detail.empty()) line += fmt::format(" ({})", detail);
  return line;
}

void ProgressBar::Update(double fraction, std::int64_t done, std::string_view detail) {
  if (!enabled_ || finished_) return;
  done_ = done;
  detail_ = std::string(detail);
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  Draw(fraction, /*finished=*/false);
}

void ProgressBar::Finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  Draw(1.0, /*finished=*/true);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::Draw(double fraction, bool finished) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // '\r' redraws the line; "\x1b[K" clears what a longer previous line left.
  std::string line =
      "\r" + ProgressLine(label_, fraction, done_, unit_, seconds, finished, detail_) + "\x1b[K";
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

}  // namespace caseloop::tools
