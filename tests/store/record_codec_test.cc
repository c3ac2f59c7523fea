// The record envelope: CRC, round trip, golden bytes, and corrupt input.
//
// The golden files pin the on-disk format: if a change makes these tests fail,
// it changed the format — bump kRecordFormatVersion and keep reading the old
// one instead of regenerating the files. To (re)create missing golden files
// deliberately: CASELOOP_UPDATE_GOLDEN=1 ./store_test -tc="record codec: golden*"
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "store/record_codec.h"

using namespace caseloop;

namespace {

const std::string kGoldenDir = std::string(CASELOOP_SOURCE_DIR) + "/tests/store/golden/";

EventRecord MinimalRecord() {
  EventRecord r;
  r.position = 1;
  r.stream = "C1";
  r.version = 1;
  r.type = "CaseReported";
  r.schema_version = 1;
  r.recorded_us = 0;
  return r;
}

EventRecord FullRecord() {
  EventRecord r;
  r.position = 4242;
  r.stream = "C2025-000117";
  r.version = 7;
  r.type = "CaseDispatched";
  r.schema_version = 2;
  r.recorded_us = 1743388200123456;  // 2025-03-31T02:30:00.123456Z
  r.event_id = "0123456789abcdef0123456789abcdef";
  r.command_id = "dispatch-C2025-000117-3";
  r.correlation_id = "corr-9";
  r.causation_id = "ev-41";
  r.actor = "D1";
  r.payload = std::string("\x01\x00\x02unit=U3;limit=4wh\xff", 21);
  return r;
}

EventRecord ConfigRecord() {
  EventRecord r;
  r.position = 0xFFFFFFFFFFull;
  r.stream = "$config";
  r.version = 1;
  r.type = "ConfigChanged";
  r.schema_version = 1;
  r.recorded_us = -1;  // before the epoch: signed
  r.event_id = "e";
  r.actor = "$system";
  r.payload = "{\"calendar\":\"+08:00\"}";
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void CheckSame(const EventRecord& a, const EventRecord& b) {
  CHECK(a.position == b.position);
  CHECK(a.stream == b.stream);
  CHECK(a.version == b.version);
  CHECK(a.type == b.type);
  CHECK(a.schema_version == b.schema_version);
  CHECK(a.recorded_us == b.recorded_us);
  CHECK(a.event_id == b.event_id);
  CHECK(a.command_id == b.command_id);
  CHECK(a.correlation_id == b.correlation_id);
  CHECK(a.causation_id == b.causation_id);
  CHECK(a.actor == b.actor);
  CHECK(a.payload == b.payload);
}

// Re-seals `bytes` (whose body was edited) with a valid CRC.
std::string Reseal(std::string bytes) {
  bytes.resize(bytes.size() - 4);
  std::uint32_t crc = Crc32c(bytes);
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return bytes;
}

}  // namespace

TEST_CASE("record codec: CRC32C check value") {
  CHECK(Crc32c("123456789") == 0xE3069283u);
  CHECK(Crc32cPortable("123456789") == 0xE3069283u);
  CHECK(Crc32c("") == 0u);
  CHECK(Crc32cPortable("") == 0u);
}

TEST_CASE("record codec: Crc32c (hardware where available) equals the Boost.CRC reference") {
  std::mt19937_64 rng(20250331);
  std::string buffer(300 + 16, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  for (std::size_t offset = 0; offset < 16; ++offset) {  // every alignment of the 8-byte loads
    for (std::size_t len = 0; len <= 300; ++len) {
      const std::string_view data = std::string_view(buffer).substr(offset, len);
      CAPTURE(offset);
      CAPTURE(len);
      REQUIRE(Crc32c(data) == Crc32cPortable(data));
    }
  }
  const std::string zeros(4096, '\0');
  const std::string ones(4096, '\xff');
  CHECK(Crc32c(zeros) == Crc32cPortable(zeros));
  CHECK(Crc32c(ones) == Crc32cPortable(ones));
}

TEST_CASE("record codec: round trip") {
  for (const EventRecord& r : {MinimalRecord(), FullRecord(), ConfigRecord()}) {
    std::string bytes = EncodeRecord(r);
    CHECK(static_cast<std::uint8_t>(bytes[0]) == kRecordMagic);
    CHECK(static_cast<std::uint8_t>(bytes[1]) == kRecordFormatVersion);
    auto d = DecodeRecord(bytes, r.position);
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    CheckSame(*d, r);
    CHECK(DecodeRecord(bytes).ok());  // position 0: not checked
  }
}

TEST_CASE("record codec: golden files pin the format") {
  const std::pair<const char*, EventRecord> cases[] = {
      {"record_minimal.bin", MinimalRecord()},
      {"record_full.bin", FullRecord()},
      {"record_config.bin", ConfigRecord()},
  };
  const bool update = std::getenv("CASELOOP_UPDATE_GOLDEN") != nullptr;
  for (const auto& [name, record] : cases) {
    CAPTURE(name);
    const std::string path = kGoldenDir + name;
    if (update) {
      std::ofstream(path, std::ios::binary) << EncodeRecord(record);
    }
    std::string golden = ReadFile(path);
    REQUIRE_MESSAGE(!golden.empty(), "missing golden file " << path);
    CHECK(EncodeRecord(record) == golden);
    auto d = DecodeRecord(golden, record.position);
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    CheckSame(*d, record);
  }
  // The documented layout of the minimal record, byte by byte (docs/format.md).
  std::string min = ReadFile(kGoldenDir + "record_minimal.bin");
  const std::string expected_body = std::string("\xCE\x01\x01", 3) +               // magic, format, LE
                                    std::string("\x01\0\0\0\0\0\0\0", 8) +         // position 1
                                    std::string("\x02\0\0\0\0\0\0\0", 8) + "C1" +  // stream
                                    std::string("\x01\0\0\0\0\0\0\0", 8) +         // version 1
                                    std::string("\x0C\0\0\0\0\0\0\0", 8) + "CaseReported" +
                                    std::string("\x01\0\0\0", 4) +  // schema version
                                    std::string(8, '\0') +          // recorded_us
                                    std::string(6 * 8, '\0');       // six empty strings
  REQUIRE(min.size() == expected_body.size() + 4);
  CHECK(min.substr(0, expected_body.size()) == expected_body);
  CHECK(min.substr(expected_body.size()) == Reseal(expected_body + "????").substr(expected_body.size()));
}

TEST_CASE("record codec: every single-byte flip is Corruption naming the position") {
  std::string bytes = EncodeRecord(FullRecord());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto d = DecodeRecord(bad, 4242);
      REQUIRE(!d.ok());
      CHECK(d.status().IsCorruption());
      CHECK(d.status().message().find("position 4242") != std::string::npos);
    }
  }
}

TEST_CASE("record codec: truncated and garbage input never decodes") {
  std::string bytes = EncodeRecord(FullRecord());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CHECK(DecodeRecord(bytes.substr(0, n), 9).status().IsCorruption());
  }
  CHECK(DecodeRecord("", 0).status().IsCorruption());
  CHECK(DecodeRecord(std::string(100, '\xCE'), 0).status().IsCorruption());
  CHECK(DecodeRecord(bytes + "x", 4242).status().IsCorruption());
}

TEST_CASE("record codec: valid checksum over a bad body is still Corruption") {
  std::string bytes = EncodeRecord(MinimalRecord());
  SUBCASE("a future format version is detected") {
    std::string v2 = bytes;
    v2[1] = 2;
    auto d = DecodeRecord(Reseal(v2), 1);
    REQUIRE(d.status().IsCorruption());
    CHECK(d.status().message().find("unsupported record format version 2") != std::string::npos);
  }
  SUBCASE("bad magic") {
    std::string m = bytes;
    m[0] = 'X';
    CHECK(DecodeRecord(Reseal(m), 1).status().message().find("magic") != std::string::npos);
  }
  SUBCASE("big-endian body") {
    std::string m = bytes;
    m[2] = 0;
    CHECK(DecodeRecord(Reseal(m), 1).status().IsCorruption());
  }
  SUBCASE("a huge length prefix does not allocate") {
    std::string m = bytes;
    // The stream's length prefix follows magic, format, endianness and position.
    for (int i = 0; i < 8; ++i) m[3 + 8 + i] = static_cast<char>(0x7F);
    auto d = DecodeRecord(Reseal(m), 1);
    REQUIRE(d.status().IsCorruption());
    CHECK(d.status().message().find("length") != std::string::npos);
  }
  SUBCASE("stored at the wrong position") {
    auto d = DecodeRecord(bytes, 2);
    REQUIRE(d.status().IsCorruption());
    CHECK(d.status().message() == "record at position 2: holds position 1");
  }
}
