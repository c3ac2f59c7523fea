// src/store/live_store.h — the RocksDB stores this process has open
// read-write, for online backups (backup.cc): a backup of a store that an
// engine of this process is using goes through that engine's open database.
#ifndef CASELOOP_STORE_LIVE_STORE_H_
#define CASELOOP_STORE_LIVE_STORE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "caseloop/status.h"

namespace rocksdb {
class DB;
}

namespace caseloop::store_internal {

struct LiveDb {
  rocksdb::DB* db = nullptr;
  std::uint64_t head = 0;  // the published log head when `fn` was called
  std::string path;        // the directory as the store was opened
};

// Calls fn(live) with the database of the store open read-write in this
// process in directory `dir` (the same directory: device and inode), and
// keeps that store from closing until fn returns (its Close waits; appends,
// reads and projection commits go on). NotFound when this process has no
// store open read-write there. fn must not close the store.
Status WithLiveDb(const std::string& dir, const std::function<Status(const LiveDb&)>& fn);

}  // namespace caseloop::store_internal

#endif  // CASELOOP_STORE_LIVE_STORE_H_
