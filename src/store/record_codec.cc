// Record envelope: magic/version header, a body in cereal's PortableBinary
// little-endian layout (written and read by hand), CRC32C trailer. See
// record_codec.h and docs/format.md.
//
// The body used to go through cereal over a std::istream/std::ostringstream,
// with one std::string per field: ~6,500 instructions to decode a 250-byte
// record, most of them in the stream machinery. The layout cereal writes is simple and fixed (cereal
// 1.3, portable_binary.hpp and helpers.hpp: one uint8 endianness flag, every
// arithmetic value at its natural width with the bytes in little-endian order,
// a string as its size_type length -- CEREAL_SIZE_TYPE, uint64_t -- and then
// its bytes), so it is read here in place. tests/store/record_codec_test.cc
// keeps the cereal encoder and decoder as the reference: same bytes, same
// results and the same error messages.
#include "store/record_codec.h"

#include <fmt/format.h>

#include <bit>
#include <boost/crc.hpp>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace caseloop {
namespace {

// CRC-32C as used by iSCSI, ext4 and RocksDB. Boost.CRC is Debian-packaged and
// header-only; RocksDB's own crc32c is not part of its public API, and Debian
// 12 packages no CRC32C library.
using Crc32cComputer = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
// The SSE4.2 crc32 instruction computes CRC32C (reflected, no final xor):
// 8 bytes per instruction, then the tail byte by byte.
__attribute__((target("sse4.2"))) std::uint32_t Crc32cSse42(std::string_view data) {
  const char* p = data.data();
  std::size_t n = data.size();
  std::uint64_t crc = 0xFFFFFFFFu;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian: byte order as the CRC reads it
    crc = _mm_crc32_u64(crc, word);
  }
  auto crc32 = static_cast<std::uint32_t>(crc);
  for (; n > 0; ++p, --n) crc32 = _mm_crc32_u8(crc32, static_cast<unsigned char>(*p));
  return crc32 ^ 0xFFFFFFFFu;
}
#endif

using CrcFunction = std::uint32_t (*)(std::string_view);

CrcFunction ChooseCrc32c() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) return &Crc32cSse42;
#endif
  return &Crc32cPortable;
}

// Widths as cereal writes them. Part of the on-disk format.
constexpr std::size_t kSizeTagBytes = 8;  // cereal::size_type (CEREAL_SIZE_TYPE = uint64_t)

template <typename T>
void PutLittleEndian(char*& out, T value) {
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) *out++ = static_cast<char>((v >> (8 * i)) & 0xFF);
}

void PutString(char*& out, std::string_view s) {
  PutLittleEndian<std::uint64_t>(out, s.size());
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  out += s.size();
}

std::uint32_t GetFixed32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string Where(std::uint64_t position) {
  return position == 0 ? std::string("record") : fmt::format("record at position {}", position);
}

// Reads the body in place. On the first failure it keeps an error (the words
// cereal's decoder used, so that messages did not change) and every later
// read fails too; the caller checks ok() once at the end.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : p_(body.data()), left_(body.size()) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return left_; }

  template <typename T>
  void Fixed(T& out) {
    if (!ok()) return;
    if (left_ < sizeof(T)) {
      // cereal: PortableBinaryInputArchive::loadBinary
      error_ = fmt::format("Failed to read {} bytes from input stream! Read {}", sizeof(T), left_);
      left_ = 0;
      return;
    }
    using U = std::make_unsigned_t<T>;
    U v = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&v, p_, sizeof(T));  // one load (GCC 12 does not merge the loop below)
    } else {
      for (std::size_t i = 0; i < sizeof(T); ++i)
        v |= static_cast<U>(static_cast<unsigned char>(p_[i])) << (8 * i);
    }
    out = static_cast<T>(v);
    p_ += sizeof(T);
    left_ -= sizeof(T);
  }

  void String(std::string_view& out) {
    std::uint64_t size = 0;
    static_assert(sizeof(size) == kSizeTagBytes);
    Fixed(size);
    if (!ok()) return;
    if (size > left_) {  // checked before anything is allocated or copied
      error_ = "length prefix exceeds the record";
      return;
    }
    out = std::string_view(p_, static_cast<std::size_t>(size));
    p_ += size;
    left_ -= static_cast<std::size_t>(size);
  }

 private:
  const char* p_;
  std::size_t left_;
  std::string error_;
};

}  // namespace

std::uint32_t Crc32cPortable(std::string_view data) {
  Crc32cComputer crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

std::uint32_t Crc32c(std::string_view data) {
  static const CrcFunction crc = ChooseCrc32c();
  return crc(data);
}

std::string EncodeRecord(const EventRecord& r) {
  const std::size_t size = 2 + 1 + 8 + (kSizeTagBytes + r.stream.size()) + 8 +
                           (kSizeTagBytes + r.type.size()) + 4 + 8 + (kSizeTagBytes + r.event_id.size()) +
                           (kSizeTagBytes + r.command_id.size()) + (kSizeTagBytes + r.correlation_id.size()) +
                           (kSizeTagBytes + r.causation_id.size()) + (kSizeTagBytes + r.actor.size()) +
                           (kSizeTagBytes + r.payload.size()) + 4;
  std::string out(size, '\0');
  char* p = out.data();
  *p++ = static_cast<char>(kRecordMagic);
  *p++ = static_cast<char>(kRecordFormatVersion);
  *p++ = 1;  // cereal's endianness flag: little-endian
  // Field order is part of the on-disk format. Do not reorder.
  PutLittleEndian(p, r.position);
  PutString(p, r.stream);
  PutLittleEndian(p, r.version);
  PutString(p, r.type);
  PutLittleEndian(p, r.schema_version);
  PutLittleEndian(p, r.recorded_us);
  PutString(p, r.event_id);
  PutString(p, r.command_id);
  PutString(p, r.correlation_id);
  PutString(p, r.causation_id);
  PutString(p, r.actor);
  PutString(p, r.payload);
  const std::size_t body_end = static_cast<std::size_t>(p - out.data());
  PutLittleEndian(p, Crc32c(std::string_view(out).substr(0, body_end)));
  return out;
}

Result<EventRecordView> DecodeRecordView(std::string_view bytes, std::uint64_t expected_position) {
  if (bytes.size() < kRecordMinSize) {
    return Status::Corruption(fmt::format("{}: truncated ({} bytes, at least {} expected)",
                                          Where(expected_position), bytes.size(), kRecordMinSize));
  }
  const std::size_t body_end = bytes.size() - 4;
  const std::uint32_t stored = GetFixed32(bytes.data() + body_end);
  const std::uint32_t actual = Crc32c(bytes.substr(0, body_end));
  if (stored != actual) {
    return Status::Corruption(fmt::format("{}: checksum mismatch (stored {:08x}, computed {:08x})",
                                          Where(expected_position), stored, actual));
  }
  const auto magic = static_cast<std::uint8_t>(bytes[0]);
  if (magic != kRecordMagic) {
    return Status::Corruption(fmt::format("{}: bad magic byte 0x{:02x} (expected 0x{:02x})",
                                          Where(expected_position), magic, kRecordMagic));
  }
  const auto format = static_cast<std::uint8_t>(bytes[1]);
  if (format != kRecordFormatVersion) {
    return Status::Corruption(fmt::format("{}: unsupported record format version {} (this build reads {})",
                                          Where(expected_position), format, kRecordFormatVersion));
  }
  if (bytes[2] != 1) {
    return Status::Corruption(fmt::format("{}: body is not little-endian", Where(expected_position)));
  }
  EventRecordView r;
  BodyReader in(bytes.substr(3, body_end - 3));
  in.Fixed(r.position);
  in.String(r.stream);
  in.Fixed(r.version);
  in.String(r.type);
  in.Fixed(r.schema_version);
  in.Fixed(r.recorded_us);
  in.String(r.event_id);
  in.String(r.command_id);
  in.String(r.correlation_id);
  in.String(r.causation_id);
  in.String(r.actor);
  in.String(r.payload);
  if (!in.ok()) {
    return Status::Corruption(fmt::format("{}: undecodable body: {}", Where(expected_position), in.error()));
  }
  if (in.remaining() != 0) {
    return Status::Corruption(
        fmt::format("{}: {} trailing bytes after the body", Where(expected_position), in.remaining()));
  }
  if (expected_position != 0 && r.position != expected_position) {
    return Status::Corruption(fmt::format("{}: holds position {}", Where(expected_position), r.position));
  }
  return r;
}

EventRecord ToRecord(const EventRecordView& v) {
  EventRecord r;
  r.position = v.position;
  r.stream = v.stream;
  r.version = v.version;
  r.type = v.type;
  r.schema_version = v.schema_version;
  r.recorded_us = v.recorded_us;
  r.event_id = v.event_id;
  r.command_id = v.command_id;
  r.correlation_id = v.correlation_id;
  r.causation_id = v.causation_id;
  r.actor = v.actor;
  r.payload = v.payload;
  return r;
}

Result<EventRecord> DecodeRecord(std::string_view bytes, std::uint64_t expected_position) {
  Result<EventRecordView> view = DecodeRecordView(bytes, expected_position);
  if (!view.ok()) return view.status();
  return ToRecord(*view);
}

}  // namespace caseloop
