// caseloop_dump DIR — prints everything a caseloop database holds, opened
// read-only: every event record of the global log (all envelope fields, the
// payload as a checksum), every stream's version, and every key of the
// projection keyspace. The corruption test compares a damaged copy's dump
// with the original's: a copy that reads without an error must read the same.
// Exit status 0, or 3 with the error on stderr.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include "caseloop/event_store.h"
#include "store/projection_store.h"
#include "store/record_codec.h"

using namespace caseloop;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: caseloop_dump DIR\n";
    return 2;
  }
  StoreOptions o;
  o.read_only = true;
  o.create_if_missing = false;
  Result<Storage> store = OpenRocksDbStorage(argv[1], o);
  if (!store.ok()) {
    std::cerr << "error: " << store.status().ToString() << "\n";
    return 3;
  }
  EventStore& s = *store->log;
  std::cout << "head " << s.HeadPosition() << "\n";
  for (std::uint64_t from = 1;;) {
    Result<std::vector<EventRecord>> chunk = s.ReadAll(from, 1024);
    if (!chunk.ok()) {
      std::cerr << "error: " << chunk.status().ToString() << "\n";
      return 3;
    }
    for (const EventRecord& r : *chunk) {
      char crc[16];
      std::snprintf(crc, sizeof crc, "%08x", Crc32c(r.payload));
      std::cout << r.position << " " << r.stream << " v" << r.version << " " << r.type << " s"
                << r.schema_version << " t" << r.recorded_us << " id=" << r.event_id
                << " cmd=" << r.command_id << " corr=" << r.correlation_id << " cause=" << r.causation_id
                << " by=" << r.actor << " payload=" << r.payload.size() << ":" << crc << "\n";
      from = r.position + 1;
    }
    if (chunk->size() < 1024) break;
  }
  std::string after;
  for (;;) {
    Result<std::vector<std::string>> streams = s.ListStreams(after, 1024);
    if (!streams.ok()) {
      std::cerr << "error: " << streams.status().ToString() << "\n";
      return 3;
    }
    for (const std::string& name : *streams) {
      Result<std::uint64_t> v = s.StreamVersion(name);
      if (!v.ok()) {
        std::cerr << "error: " << v.status().ToString() << "\n";
        return 3;
      }
      Result<std::vector<EventRecord>> events = s.ReadStream(name);
      if (!events.ok()) {
        std::cerr << "error: " << events.status().ToString() << "\n";
        return 3;
      }
      std::cout << "stream " << name << " v" << *v << " events " << events->size() << "\n";
      after = name;
    }
    if (streams->size() < 1024) break;
  }
  Status scanned = store->projections->Scan("", "", [](std::string_view key, std::string_view value) {
    char crc[16];
    std::snprintf(crc, sizeof crc, "%08x", Crc32c(value));
    std::cout << "kv " << key.size() << ":" << Crc32c(key) << " " << value.size() << ":" << crc << "\n";
    return true;
  });
  if (!scanned.ok()) {
    std::cerr << "error: " << scanned.ToString() << "\n";
    return 3;
  }
  Status closed = s.Close();
  if (!closed.ok()) {
    std::cerr << "error: " << closed.ToString() << "\n";
    return 3;
  }
  return 0;
}
