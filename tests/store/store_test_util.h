// Helpers shared by the store tests.
#ifndef CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_
#define CASELOOP_TESTS_STORE_STORE_TEST_UTIL_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

// A copy of this test binary running one test case, started by
// SpawnTestChild; it writes its progress into the pipe whose read end is `fd`.
struct TestChild {
  pid_t pid = -1;  // -1: fork failed
  int fd = -1;     // the pipe's read end (close-on-exec), for the parent
};

// Re-executes this test binary (fork + execve of /proc/self/exe) running
// only the test case `test_case`, with the environment `env`, plus
// `fd_variable`=<the pipe's write end> and the parent's sanitizer options
// (SanitizerEnv). The child's stdout goes to /dev/null; it is killed when
// the parent dies. Everything is built before fork: after it, only exec.
inline TestChild SpawnTestChild(const char* test_case, std::vector<std::string> env,
                                const std::string& fd_variable) {
  TestChild child;
  int fds[2];
  if (pipe(fds) != 0) return child;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  env.push_back(fd_variable + "=" + std::to_string(fds[1]));
  for (std::string& e : SanitizerEnv()) env.push_back(std::move(e));
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string filter = std::string("-tc=") + test_case;
  char* argv[] = {const_cast<char*>("caseloop-test-child"), filter.data(), const_cast<char*>("--no-version"),
                  nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execve("/proc/self/exe", argv, envp.data());
    _exit(99);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return child;
  }
  child.pid = pid;
  child.fd = fds[0];
  return child;
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
