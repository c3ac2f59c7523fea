// Small binary helpers shared by the projections: order-preserving keys and a
// compact value encoding (varints), independent of cereal so that a projection
// value is a few dozen bytes.
//
// On-disk format: the encodings below are stored in the projection keyspace.
// A change here requires a projection rebuild; see docs/projections.md.
#ifndef CASELOOP_PROJECTIONS_CODEC_H_
#define CASELOOP_PROJECTIONS_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "caseloop/time.h"

namespace caseloop::projections {

// 8 bytes, big-endian, sign bit flipped: byte order == numeric order for every
// int64 (so keys sort by time, including instants before 1970).
void AppendOrderedI64(std::string* out, std::int64_t v);
std::int64_t DecodeOrderedI64(std::string_view bytes);  // REQUIRES: bytes.size() >= 8
inline std::string OrderedTime(Instant t) {
  std::string s;
  AppendOrderedI64(&s, MicrosOf(t));
  return s;
}

class Writer {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void Varint(std::uint64_t v);
  void I64(std::int64_t v);  // zig-zag varint
  void Str(std::string_view s);
  void OptI64(const std::optional<std::int64_t>& v);
  void OptTime(const std::optional<Instant>& t);
  std::string& out() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what Writer wrote. Every read on a truncated or malformed input
// returns a zero value and makes ok() false; callers check ok() once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint8_t U8();
  bool Bool() { return U8() != 0; }
  std::uint64_t Varint();
  std::int64_t I64();
  std::string Str();
  std::optional<std::int64_t> OptI64();
  std::optional<Instant> OptTime();
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_CODEC_H_
