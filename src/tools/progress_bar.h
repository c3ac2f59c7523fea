// tools/progress_bar.h — a progress bar on stderr (private to src/tools).
#ifndef CASELOOP_TOOLS_PROGRESS_BAR_H_
#define CASELOOP_TOOLS_PROGRESS_BAR_H_

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

namespace caseloop::tools {

// A one-line progress bar drawn on stderr with '\r', redrawn at most ten
// times a second. Does nothing when disabled (stderr is not a terminal).
//
// Thread-safety: one bar is drawn by one thread.
class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label) : enabled_(enabled), label_(std::move(label)) {}
  ~ProgressBar() { Finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Update(double fraction, std::string_view detail);
  // Draws 100 % and ends the line (once).
  void Finish();

 private:
  void Draw(double fraction, std::string_view detail);
  bool enabled_;
  bool finished_ = false;
  std::string label_;
  std::string last_detail_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_PROGRESS_BAR_H_
