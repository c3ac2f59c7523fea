// src/store/record_codec.h — the on-disk envelope of one event record.
//
// Internal to the store (and to fuzzers): both stores encode and decode
// EventRecords through these functions. The byte layout is described in
// docs/format.md and pinned by tests/store/golden/*.bin.
//
// Layout of an encoded record (all integers little-endian):
//   [0]        kRecordMagic (0xCE)
//   [1]        kRecordFormatVersion (1)
//   [2, n-4)   body: the bytes a cereal PortableBinaryOutputArchive
//              (little-endian) writes for the envelope fields, in the order
//              of EventRecord: an endianness byte 0x01, fixed-width integers,
//              strings as a uint64 length then the bytes. Written and read by
//              hand (cereal is the reference in tests/store/record_codec_test.cc)
//   [n-4, n)   CRC32C (Castagnoli) of bytes [0, n-4)
//
// Thread-safety: all functions are pure and may be called concurrently.
#ifndef CASELOOP_STORE_RECORD_CODEC_H_
#define CASELOOP_STORE_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop {

// Part of the on-disk format. Do not change: a record whose first byte is not
// the magic is reported as corrupt.
inline constexpr std::uint8_t kRecordMagic = 0xCE;
// Bumped whenever the body layout changes; DecodeRecord refuses versions it
// does not know (Corruption "unsupported record format version N").
inline constexpr std::uint8_t kRecordFormatVersion = 1;
// Magic + version + cereal's endianness byte + CRC.
inline constexpr std::size_t kRecordMinSize = 2 + 1 + 4;

// CRC32C (Castagnoli, reflected, init and final xor 0xFFFFFFFF) of `data`.
// Crc32c("123456789") == 0xE3069283. Uses the SSE4.2 crc32 instruction when
// the CPU has it (x86-64, checked once at run time), else Crc32cPortable.
std::uint32_t Crc32c(std::string_view data);
// The same function with Boost.CRC's table-driven code (any CPU); the
// reference the hardware version is tested against.
std::uint32_t Crc32cPortable(std::string_view data);

// Encodes `record` (all fields, including position, stream and version).
// Never fails.
std::string EncodeRecord(const EventRecord& record);

// Decodes bytes produced by EncodeRecord in place: the string fields of the
// view point into `bytes` (valid as long as `bytes` is). The checksum is
// verified before anything is decoded, so corrupt bytes never turn into a
// record. `expected_position`, when non-zero, is the position the record is
// stored at: it names the record in error messages and must equal the
// decoded position. Errors: Corruption ("record at position 17: checksum
// mismatch ..."). Never throws, whatever the input; allocates only for an
// error message.
Result<EventRecordView> DecodeRecordView(std::string_view bytes, std::uint64_t expected_position = 0);

// DecodeRecordView, copied into an EventRecord that owns its strings. Same
// checks and errors.
Result<EventRecord> DecodeRecord(std::string_view bytes, std::uint64_t expected_position = 0);

// An owning copy of a view.
EventRecord ToRecord(const EventRecordView& view);

}  // namespace caseloop

#endif  // CASELOOP_STORE_RECORD_CODEC_H_
