#include "store/store_internal.h"

#include <fmt/format.h>

#include <random>

namespace caseloop {

std::string_view DurabilityName(Durability d) {
  switch (d) {
    case Durability::kSync:
      return "sync";
    case Durability::kBuffered:
      return "buffered";
    case Durability::kNone:
      return "none";
  }
  return "unknown";
}

Result<Durability> ParseDurability(std::string_view name) {
  if (name == "sync") return Durability::kSync;
  if (name == "buffered") return Durability::kBuffered;
  if (name == "none") return Durability::kNone;
  return Status::InvalidArgument(
      fmt::format("unknown durability \"{}\" (expected sync, buffered or none)", name));
}

namespace store_internal {

std::string EncodeBE64(std::uint64_t v) {
  std::string s;
  AppendBE64(s, v);
  return s;
}

void AppendBE64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::optional<std::uint64_t> DecodeBE64(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string PositionKey(std::uint64_t position) { return EncodeBE64(position); }

std::string StreamPrefix(std::string_view stream) {
  std::string k(stream);
  k.push_back('\0');
  return k;
}

std::string StreamIndexKey(std::string_view stream, std::uint64_t version) {
  std::string k = StreamPrefix(stream);
  AppendBE64(k, version);
  return k;
}

std::optional<std::pair<std::string, std::uint64_t>> ParseStreamIndexKey(std::string_view key) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return std::nullopt;
  auto version = DecodeBE64(key.substr(key.size() - 8));
  std::string stream(key.substr(0, key.size() - 9));
  if (stream.find('\0') != std::string::npos) return std::nullopt;
  return std::make_pair(std::move(stream), *version);
}

std::string EncodeCommandEntry(const CommandEntry& e) {
  std::string s;
  AppendBE64(s, e.result.first_position);
  AppendBE64(s, e.result.last_position);
  AppendBE64(s, e.result.next_expected_version);
  s += e.stream;
  return s;
}

std::optional<CommandEntry> DecodeCommandEntry(std::string_view s) {
  if (s.size() < 24) return std::nullopt;
  CommandEntry e;
  e.result.first_position = *DecodeBE64(s.substr(0, 8));
  e.result.last_position = *DecodeBE64(s.substr(8, 8));
  e.result.next_expected_version = *DecodeBE64(s.substr(16, 8));
  e.stream = std::string(s.substr(24));
  return e;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xFF) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

Status ValidateStoreOptions(const StoreOptions& options, std::string_view name) {
  if (options.max_group_writers < 1)
    return Status::InvalidArgument(fmt::format("{}.max_group_writers must be at least 1, got 0", name));
  if (options.group_commit_window.count() < 0) {
    return Status::InvalidArgument(fmt::format("{}.group_commit_window must not be negative, got {} us", name,
                                               options.group_commit_window.count()));
  }
  return Status::Ok();
}

Status ValidateStream(std::string_view stream) {
  if (stream.empty()) return Status::InvalidArgument("stream name is empty");
  if (stream.size() > kMaxStreamBytes) {
    return Status::InvalidArgument(
        fmt::format("stream name of {} bytes is longer than {}", stream.size(), kMaxStreamBytes));
  }
  if (stream.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("stream name contains a NUL byte");
  }
  return Status::Ok();
}

Status PrepareAppend(std::string_view stream, std::vector<NewEvent>& events, const AppendOptions& options) {
  CASELOOP_RETURN_IF_ERROR(ValidateStream(stream));
  if (events.empty()) return Status::InvalidArgument(fmt::format("stream {}: append of no events", stream));
  if (options.command_id.size() > kMaxIdBytes) {
    return Status::InvalidArgument(
        fmt::format("stream {}: command id longer than {} bytes", stream, kMaxIdBytes));
  }
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    NewEvent& e = events[i];
    if (e.type.empty() || e.type.size() > kMaxTypeBytes) {
      return Status::InvalidArgument(fmt::format("stream {}: event {} has a type of {} bytes (1..{} allowed)",
                                                 stream, i, e.type.size(), kMaxTypeBytes));
    }
    if (e.event_id.size() > kMaxIdBytes) {
      return Status::InvalidArgument(
          fmt::format("stream {}: event {} has an id longer than {} bytes", stream, i, kMaxIdBytes));
    }
    if (e.event_id.empty()) e.event_id = NewEventId();
    bytes += e.type.size() + e.event_id.size() + e.actor.size() + e.correlation_id.size() +
             e.causation_id.size() + e.payload.size() + 64;
  }
  if (bytes > kMaxAppendBytes) {
    return Status::InvalidArgument(
        fmt::format("stream {}: append of {} bytes exceeds the limit of {}", stream, bytes, kMaxAppendBytes));
  }
  return Status::Ok();
}

Status CheckExpected(std::string_view stream, const ExpectedVersion& expected, std::uint64_t current) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::kAny:
      return Status::Ok();
    case ExpectedVersion::Kind::kNoStream:
      if (current == 0) return Status::Ok();
      return Status::Conflict(
          fmt::format("stream {}: expected no stream, actual version {}", stream, current));
    case ExpectedVersion::Kind::kExact:
      if (current == expected.version) return Status::Ok();
      if (expected.version == 0) {
        return Status::Conflict(
            fmt::format("stream {}: expected no stream, actual version {}", stream, current));
      }
      return Status::Conflict(
          fmt::format("stream {}: expected version {}, actual {}", stream, expected.version, current));
  }
  return Status::InvalidArgument(fmt::format("stream {}: bad expected-version kind", stream));
}

Status CommandReused(std::string_view command_id, std::string_view new_stream, std::string_view old_stream) {
  return Status::Conflict(fmt::format("command id {} was already used for stream {}, not {}", command_id,
                                      old_stream, new_stream));
}

std::function<void(std::size_t)>& LeaderHookForTesting() {
  static std::function<void(std::size_t)> hook;
  return hook;
}

std::atomic<std::uint64_t>& LeaderWaitsForTesting() {
  static std::atomic<std::uint64_t> waits{0};
  return waits;
}

std::string NewEventId() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return fmt::format("{:016x}{:016x}", gen(), gen());
}

}  // namespace store_internal
}  // namespace caseloop
