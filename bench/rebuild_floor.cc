// The write floor of a rebuild: how long raw RocksDB takes just to write the
// projection keyspace a rebuild ends with, into a fresh database, in the
// cheapest way a memtable allows (the whole keyspace in key order, batches of
// 16384 keys, no write-ahead log). Whatever a rebuild does, it has to write
// at least these keys, so this bounds how close to a raw scan it can get.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "scenarios.h"

namespace caseloop::bench {

Result<WriteFloor> MeasureWriteFloor(const std::string& store_path, const std::string& scratch_path) {
  rocksdb::Options options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, store_path, &names);
  if (!s.ok())
    return Status::IOError("write floor: listing column families of " + store_path + ": " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  int proj_index = -1;
  for (const std::string& n : names) {
    if (n == "proj") proj_index = static_cast<int>(cfs.size());
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  }
  if (proj_index < 0) return Status::NotFound("write floor: no 'proj' column family in " + store_path);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, store_path, cfs, &handles, &raw);
  if (!s.ok()) return Status::IOError("write floor: opening " + store_path + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> src(raw);

  // The destination: the store's projection column family settings (32 MiB
  // write buffer, Snappy; see docs/format.md), nothing else in it.
  rocksdb::Options dst_options;
  dst_options.create_if_missing = true;
  dst_options.write_buffer_size = 32u << 20;
  dst_options.max_background_jobs = 2;
  rocksdb::DB* dst_raw = nullptr;
  s = rocksdb::DB::Open(dst_options, scratch_path, &dst_raw);
  if (!s.ok()) return Status::IOError("write floor: creating " + scratch_path + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> dst(dst_raw);

  WriteFloor out;
  Status error;
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  std::chrono::steady_clock::duration writing{0};
  double writing_cpu = 0;
  rocksdb::WriteBatch batch;
  auto flush = [&] {
    if (batch.Count() == 0) return;
    const auto t0 = SteadyClock::now();
    const double c0 = ProcessCpuSeconds();
    rocksdb::Status ws = dst->Write(wo, &batch);
    writing += SteadyClock::now() - t0;
    writing_cpu += ProcessCpuSeconds() - c0;
    if (!ws.ok() && error.ok()) error = Status::IOError("write floor: " + ws.ToString());
    batch.Clear();
  };
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(
        src->NewIterator(ro, handles[static_cast<std::size_t>(proj_index)]));
    for (it->SeekToFirst(); it->Valid() && error.ok(); it->Next()) {
      batch.Put(it->key(), it->value());
      ++out.keys;
      out.bytes += it->key().size() + it->value().size();
      if (batch.Count() >= 16384) flush();
    }
    flush();
    if (error.ok() && !it->status().ok()) error = Status::IOError("write floor: " + it->status().ToString());
  }
  out.seconds = std::chrono::duration<double>(writing).count();
  out.cpu = writing_cpu;
  for (auto* h : handles) (void)src->DestroyColumnFamilyHandle(h);
  (void)src->Close();
  (void)dst->Close();
  if (!error.ok()) return error;
  return out;
}

}  // namespace caseloop::bench
