// Record envelope encoding: cereal PortableBinary body, magic/version header,
// CRC32C trailer. See record_codec.h and docs/format.md.
#include <fmt/format.h>

#include <boost/crc.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cstring>
#include <exception>
#include <sstream>
#include <streambuf>

#include "store/record_codec.h"

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

// An input streambuf over borrowed bytes (no copy), which can tell how many
// bytes are left so that length prefixes can be checked before allocating.
class SpanBuf : public std::streambuf {
 public:
  SpanBuf(const char* data, std::size_t size) {
    char* p = const_cast<char*>(data);  // never written: this is a get area only
    setg(p, p, p + size);
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

// Thrown inside the decoder only, caught at its boundary.
struct BadLength : std::exception {
  const char* what() const noexcept override { return "length prefix exceeds the record"; }
};

void LoadString(cereal::PortableBinaryInputArchive& ar, const SpanBuf& buf, std::string& s) {
  cereal::size_type size = 0;
  ar(cereal::make_size_tag(size));
  if (size > buf.remaining()) throw BadLength();
  s.resize(static_cast<std::size_t>(size));
  if (size > 0) ar(cereal::binary_data(s.data(), static_cast<std::size_t>(size)));
}

void PutFixed32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint32_t GetFixed32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string Where(std::uint64_t position) {
  return position == 0 ? std::string("record") : fmt::format("record at position {}", position);
}

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
  std::ostringstream os(std::ios::binary);
  os.put(static_cast<char>(kRecordMagic));
  os.put(static_cast<char>(kRecordFormatVersion));
  {
    // LittleEndian explicitly: the default follows the host and would make
    // the bytes platform-dependent.
    cereal::PortableBinaryOutputArchive ar(os, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    // Field order is part of the on-disk format. Do not reorder.
    ar(r.position, r.stream, r.version, r.type, r.schema_version, r.recorded_us, r.event_id, r.command_id,
       r.correlation_id, r.causation_id, r.actor, r.payload);
  }
  std::string out = std::move(os).str();
  PutFixed32(out, Crc32c(out));
  return out;
}

Result<EventRecord> DecodeRecord(std::string_view bytes, std::uint64_t expected_position) {
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
  EventRecord r;
  SpanBuf buf(bytes.data() + 2, body_end - 2);
  try {
    std::istream is(&buf);
    cereal::PortableBinaryInputArchive ar(is);
    ar(r.position);
    LoadString(ar, buf, r.stream);
    ar(r.version);
    LoadString(ar, buf, r.type);
    ar(r.schema_version, r.recorded_us);
    LoadString(ar, buf, r.event_id);
    LoadString(ar, buf, r.command_id);
    LoadString(ar, buf, r.correlation_id);
    LoadString(ar, buf, r.causation_id);
    LoadString(ar, buf, r.actor);
    LoadString(ar, buf, r.payload);
  } catch (const std::exception& e) {
    return Status::Corruption(fmt::format("{}: undecodable body: {}", Where(expected_position), e.what()));
  }
  if (buf.remaining() != 0) {
    return Status::Corruption(
        fmt::format("{}: {} trailing bytes after the body", Where(expected_position), buf.remaining()));
  }
  if (expected_position != 0 && r.position != expected_position) {
    return Status::Corruption(fmt::format("{}: holds position {}", Where(expected_position), r.position));
  }
  return r;
}

}  // namespace caseloop
