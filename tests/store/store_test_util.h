// Helpers shared by the store tests.
#ifndef CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_
#define CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

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

inline NewEvent MakeEvent(std::string type, std::string payload) {
  NewEvent e;
  e.type = std::move(type);
  e.payload = std::move(payload);
  e.actor = "I1";
  return e;
}

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_
