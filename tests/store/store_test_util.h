// Helpers shared by the store tests.
#ifndef CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_
#define CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "caseloop/event_store.h"

namespace caseloop::testing {

// A fresh directory under the system temp directory, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "store") {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("caseloop-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// "NAME=value" for each sanitizer option variable that is set, so that a
// re-executed child (crash and lock tests) runs with the parent's sanitizer
// options and suppressions.
inline std::vector<std::string> SanitizerEnv() {
  std::vector<std::string> out;
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* v = std::getenv(name)) out.push_back(std::string(name) + "=" + v);
  }
  return out;
}

inline NewEvent MakeEvent(std::string type, std::string payload) {
  NewEvent e;
  e.type = std::move(type);
  e.payload = std::move(payload);
  e.actor = "I1";
  return e;
}

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_
