// tools/progress_bar.h — a progress line on stderr (private to src/tools).
#ifndef CASELOOP_TOOLS_PROGRESS_BAR_H_
#define CASELOOP_TOOLS_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace caseloop::tools {

// The text of one progress line (no '\r'): the bar and the fraction done,
// how many `unit`s are done, their rate and the time left, estimated from
// the fraction done so far (e.g. "import [#####-----]  50% 12,000 rows
// 2,400 rows/s ETA 0:05 (day 3/5)"). `seconds` is the time since the start;
// the rate and the estimate are "-" in the first half second. `finished`:
// the total time instead of the estimate ("in 8.3 s").
std::string ProgressLine(std::string_view label, double fraction, std::int64_t done, std::string_view unit,
                         double seconds, bool finished, std::string_view detail = {});

// "12,345": an integer with thousands separators.
std::string GroupThousands(std::int64_t n);

// A one-line progress bar drawn on `out` (stderr) with '\r', redrawn at most
// ten times a second. Does nothing when disabled: the CLI enables it only
// when stderr is a terminal, so that a log or a pipe gets no progress lines.
//
// Thread-safety: one bar is drawn by one thread.
class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label, std::string unit, std::FILE* out = stderr)
      : enabled_(enabled),
        label_(std::move(label)),
        unit_(std::move(unit)),
        out_(out),
        start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() { Finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `fraction` of the work is done, `done` units of it; `detail` is appended.
  void Update(double fraction, std::int64_t done, std::string_view detail = {});
  // Draws 100 % with the total time and ends the line (once).
  void Finish();

 private:
  void Draw(double fraction, bool finished);
  bool enabled_;
  bool finished_ = false;
  std::string label_;
  std::string unit_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  std::int64_t done_ = 0;
  std::string detail_;
};

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_PROGRESS_BAR_H_
