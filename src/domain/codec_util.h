// cereal helpers shared by the config and case codecs (not installed).
//
// Payloads are cereal PortableBinary archives (little-endian, fixed-width
// integers). Enums travel as their uint8 values and are range-checked on
// reading; optional values as a bool flag followed by the value. A decoding
// problem throws DecodeError (or a cereal::Exception), which the public
// Decode* functions catch and turn into Corruption.
#ifndef CASELOOP_DOMAIN_CODEC_UTIL_H_
#define CASELOOP_DOMAIN_CODEC_UTIL_H_

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cstdint>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>

#include "caseloop/time.h"

namespace caseloop::codec {

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An input streambuf over borrowed bytes: decoding reads them in place
// instead of copying them into an istringstream first.
class SpanBuf : public std::streambuf {
 public:
  explicit SpanBuf(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());  // a get area only: never written
    setg(p, p, p + bytes.size());
  }
};

using Out = cereal::PortableBinaryOutputArchive;
using In = cereal::PortableBinaryInputArchive;

template <typename E>
void PutEnum(Out& ar, E v) {
  ar(static_cast<std::uint8_t>(v));
}

// Reads an enum stored as uint8 and checks it is <= max.
template <typename E>
E GetEnum(In& ar, E max, const char* what) {
  std::uint8_t v = 0;
  ar(v);
  if (v > static_cast<std::uint8_t>(max)) {
    throw DecodeError(std::string("bad ") + what + " value " + std::to_string(v));
  }
  return static_cast<E>(v);
}

inline void PutLimit(Out& ar, const TimeLimit& t) {
  PutEnum(ar, t.unit);
  ar(t.amount);
}

inline TimeLimit GetLimit(In& ar) {
  TimeLimit t;
  t.unit = GetEnum(ar, TimeLimit::Unit::kWorkingDays, "time limit unit");
  ar(t.amount);
  return t;
}

inline void PutInstant(Out& ar, Instant t) { ar(static_cast<std::int64_t>(MicrosOf(t))); }
inline Instant GetInstant(In& ar) {
  std::int64_t us = 0;
  ar(us);
  return InstantFromMicros(us);
}

// Reads a bool stored as one byte, which must be 0 or 1: loading any other
// byte into a bool is undefined behaviour (found by tests/fuzz/record_fuzz.cc).
inline bool GetBool(In& ar, const char* what) {
  std::uint8_t v = 0;
  ar(v);
  if (v > 1) throw DecodeError(std::string("bad ") + what + " flag value " + std::to_string(v));
  return v == 1;
}

template <typename T, typename PutFn>
void PutOptional(Out& ar, const std::optional<T>& v, PutFn put) {
  ar(v.has_value());
  if (v) put(ar, *v);
}

template <typename T, typename GetFn>
std::optional<T> GetOptional(In& ar, GetFn get) {
  if (!GetBool(ar, "presence")) return std::nullopt;
  return get(ar);
}

// Reads a string written by cereal (uint64 length, bytes), refusing a length
// above `limit` (the payload's size) before allocating anything: a corrupted
// length must not make the decoder allocate gigabytes.
inline void GetString(In& ar, std::string& s, std::size_t limit) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  if (n > limit) throw DecodeError("string length " + std::to_string(n) + " exceeds the payload");
  s.resize(static_cast<std::size_t>(n));
  ar(cereal::binary_data(s.data(), s.size()));
}

// Throws DecodeError when the input has bytes left over.
inline void ExpectEnd(std::istream& is) {
  if (is.peek() != std::char_traits<char>::eof()) throw DecodeError("trailing bytes after the payload");
}

}  // namespace caseloop::codec

#endif  // CASELOOP_DOMAIN_CODEC_UTIL_H_
