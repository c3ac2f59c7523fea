#include "projections/codec.h"

namespace caseloop::projections {

void AppendOrderedI64(std::string* out, std::int64_t v) {
  std::uint64_t u = static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((u >> shift) & 0xFF));
}

std::int64_t DecodeOrderedI64(std::string_view bytes) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<std::uint8_t>(bytes[i]);
  return static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));
}

void Writer::Varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Writer::I64(std::int64_t v) {
  Varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void Writer::Str(std::string_view s) {
  Varint(s.size());
  out_.append(s);
}

void Writer::OptI64(const std::optional<std::int64_t>& v) {
  Bool(v.has_value());
  if (v) I64(*v);
}

void Writer::OptTime(const std::optional<Instant>& t) {
  OptI64(t ? std::optional<std::int64_t>(MicrosOf(*t)) : std::nullopt);
}

std::uint8_t Reader::U8() {
  if (in_.empty()) {
    ok_ = false;
    return 0;
  }
  auto v = static_cast<std::uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return v;
}

std::uint64_t Reader::Varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in_.empty()) break;
    auto b = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  ok_ = false;
  return 0;
}

std::int64_t Reader::I64() {
  std::uint64_t u = Varint();
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::string Reader::Str() {
  std::uint64_t n = Varint();
  if (!ok_ || n > in_.size()) {
    ok_ = false;
    return {};
  }
  std::string s(in_.substr(0, n));
  in_.remove_prefix(n);
  return s;
}

std::optional<std::int64_t> Reader::OptI64() {
  if (!Bool()) return std::nullopt;
  return I64();
}

std::optional<Instant> Reader::OptTime() {
  auto v = OptI64();
  if (!v) return std::nullopt;
  return InstantFromMicros(*v);
}

}  // namespace caseloop::projections
