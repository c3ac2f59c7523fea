// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cc).
//
// A fuzz target defines LLVMFuzzerTestOneInput. It is linked either with
// libFuzzer (-DCASELOOP_FUZZ=ON, scripts/fuzz.sh) or with replay_main.cc,
// which runs it over the seed corpus and the regression inputs as a ctest.
// A broken property calls FuzzCheck, which prints and aborts, so that both
// libFuzzer and the replay test report the input.
#ifndef CASELOOP_TESTS_FUZZ_FUZZ_UTIL_H_
#define CASELOOP_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace caseloop::fuzz {

inline void FuzzCheck(bool ok, const char* what, const std::string& detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Splits `text` at '\n' (a trailing '\r' stays in the line).
inline std::vector<std::string_view> Lines(std::string_view text, std::size_t max_lines) {
  std::vector<std::string_view> out;
  while (!text.empty() && out.size() < max_lines) {
    std::size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// Consumes bytes from the front of the input.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  std::uint8_t Byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  std::string_view Rest() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace caseloop::fuzz

#endif  // CASELOOP_TESTS_FUZZ_FUZZ_UTIL_H_
