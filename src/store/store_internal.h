// src/store/store_internal.h — pieces shared by the RocksDB and memory stores:
// on-disk key encodings (docs/format.md) and argument checks.
#ifndef CASELOOP_STORE_STORE_INTERNAL_H_
#define CASELOOP_STORE_STORE_INTERNAL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop::store_internal {

// Column family names. Part of the on-disk format. Do not rename.
inline constexpr char kLogCf[] = "log";          // BE64 position -> record
inline constexpr char kStreamsCf[] = "streams";  // stream 0x00 BE64 version -> BE64 position
inline constexpr char kMetaCf[] = "meta";        // see the k*Prefix keys below
inline constexpr char kProjCf[] = "proj";        // projection keys, as given

// Keys of the "meta" column family. Part of the on-disk format. Do not change.
inline constexpr char kFormatKey[] = "format";     // -> decimal store format version
inline constexpr char kHeadPrefix[] = "v/";        // "v/" stream -> BE64 current version
inline constexpr char kCommandPrefix[] = "c/";     // "c/" command id -> CommandEntry
inline constexpr char kSnapshotPrefix[] = "s/";    // "s/" stream -> BE64 version, state
inline constexpr char kCheckpointPrefix[] = "p/";  // "p/" projection name -> BE64 checkpoint
inline constexpr char kAckMarkerKey[] = "ack";     // "1": the store keeps an ACKNOWLEDGED marker

// The store format this build writes and reads (meta "format").
inline constexpr int kStoreFormatVersion = 1;

// Limits checked by Append (both stores).
inline constexpr std::size_t kMaxStreamBytes = 200;
inline constexpr std::size_t kMaxTypeBytes = 64;
inline constexpr std::size_t kMaxIdBytes = 200;
inline constexpr std::size_t kMaxAppendBytes = 64u << 20;

// 8-byte big-endian, so that byte order is numeric order.
std::string EncodeBE64(std::uint64_t v);
void AppendBE64(std::string& out, std::uint64_t v);
// REQUIRES: nothing; returns nullopt unless `s` is exactly 8 bytes.
std::optional<std::uint64_t> DecodeBE64(std::string_view s);

std::string PositionKey(std::uint64_t position);
// stream + 0x00 (streams hold no NUL byte, so no stream's keys fall between
// another's).
std::string StreamPrefix(std::string_view stream);
std::string StreamIndexKey(std::string_view stream, std::uint64_t version);
// Splits a "streams" key; nullopt when malformed.
std::optional<std::pair<std::string, std::uint64_t>> ParseStreamIndexKey(std::string_view key);

// What the command-id index remembers of an append.
struct CommandEntry {
  std::string stream;
  AppendResult result;  // duplicate == false as stored
};
std::string EncodeCommandEntry(const CommandEntry& e);
std::optional<CommandEntry> DecodeCommandEntry(std::string_view s);

// The smallest key greater than every key starting with `prefix`, or "" when
// there is none (prefix empty or all 0xFF).
std::string PrefixSuccessor(std::string_view prefix);

// Checks the options' documented bounds (max_group_writers >= 1, a window
// that is not negative); `name` prefixes the field in the message
// ("StoreOptions", "EngineOptions.store").
Status ValidateStoreOptions(const StoreOptions& options, std::string_view name);

// Checks the stream name: 1..kMaxStreamBytes bytes, no NUL byte.
Status ValidateStream(std::string_view stream);
// Checks an append's arguments and fills in an event id (32 random hex
// digits) where it is empty. recorded_us is stored as given (0 stays 0: a
// host's manual clock may well be at the epoch).
Status PrepareAppend(std::string_view stream, std::vector<NewEvent>& events, const AppendOptions& options);
// "expected version 3" / "expected no stream"; Conflict message for a mismatch.
// Returns OK when `current` satisfies `expected`.
Status CheckExpected(std::string_view stream, const ExpectedVersion& expected, std::uint64_t current);
// Conflict: `command_id` was used for another stream.
Status CommandReused(std::string_view command_id, std::string_view new_stream, std::string_view old_stream);

// Test hook, in the spirit of RocksDB's TEST_SYNC_POINT: when set, the
// RocksDB store's leader calls it with the size of the group it is about to
// write, holding no store mutex (tests block in it to make groups form).
// REQUIRES: set and cleared only while no store is writing.
std::function<void(std::size_t)>& LeaderHookForTesting();
// Test counter: how many times a RocksDB store's leader waited for more
// writers (StoreOptions::group_commit_window), over all stores.
std::atomic<std::uint64_t>& LeaderWaitsForTesting();

// 32 lower-case hex digits from a per-thread random generator.
std::string NewEventId();

}  // namespace caseloop::store_internal

#endif  // CASELOOP_STORE_STORE_INTERNAL_H_
