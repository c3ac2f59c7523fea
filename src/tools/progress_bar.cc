// ProgressBar (tools/progress_bar.h).
#include "tools/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace caseloop::tools {

void ProgressBar::Update(double fraction, std::string_view detail) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  Draw(fraction, detail);
  last_detail_ = std::string(detail);
}

void ProgressBar::Finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  Draw(1.0, last_detail_);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void ProgressBar::Draw(double fraction, std::string_view detail) {
  constexpr int kWidth = 30;
  fraction = std::clamp(fraction, 0.0, 1.0);
  int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '-');
  std::string line = fmt::format("\r{} [{}] {:3.0f}% {}", label_, bar, fraction * 100, detail);
  // Clear what a longer previous line left.
  line += "\x1b[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace caseloop::tools
