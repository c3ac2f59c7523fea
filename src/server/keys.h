// The API keys a running server accepts: the keys file (caseloop/server.h,
// KeyStore) loaded into memory and reread when it changes.
#ifndef CASELOOP_SERVER_KEYS_H_
#define CASELOOP_SERVER_KEYS_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "caseloop/server.h"
#include "caseloop/status.h"

namespace caseloop::server {

// BLAKE2b-256 of `key`, as 64 lowercase hex digits.
std::string HashKey(std::string_view key);

// Thread-safety: thread-safe.
class KeyTable {
 public:
  // `file` "" = no keys (every key is unknown).
  explicit KeyTable(std::string file) : file_(std::move(file)) {}
  // Loads the file now. Errors: as KeyStore::List.
  Status Load();
  // The actor of the bearer key `key`, or Unauthenticated-style errors:
  // InvalidArgument naming why (malformed, unknown, revoked). Rereads the
  // file when it changed (checked at most once a second).
  Result<std::string> Authenticate(std::string_view key);

 private:
  struct Entry {
    std::string actor;
    std::string hash;
    bool revoked = false;
  };
  void MaybeReload();

  const std::string file_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> keys_;
  std::chrono::steady_clock::time_point checked_{};
  std::int64_t mtime_ns_ = -1;
  std::int64_t size_ = -1;
};

}  // namespace caseloop::server

#endif  // CASELOOP_SERVER_KEYS_H_
