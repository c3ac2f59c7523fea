// The record envelope: CRC, round trip, golden bytes, and corrupt input.
//
// The golden files pin the on-disk format: if a change makes these tests fail,
// it changed the format — bump kRecordFormatVersion and keep reading the old
// one instead of regenerating the files. To (re)create missing golden files
// deliberately: CASELOOP_UPDATE_GOLDEN=1 ./store_test -tc="record codec: golden*"
#include "store/record_codec.h"

#include <doctest/doctest.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <streambuf>

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

// ---- The reference: the record body through cereal itself ----------------
// The codec writes and reads cereal's PortableBinary layout by hand. These are
// the cereal encoder and decoder it replaced (record format 1): the hand-
// written code must produce the same bytes, accept the same inputs with the
// same fields and reject the others with the same message.

std::string CerealEncode(const EventRecord& r) {
  std::ostringstream os(std::ios::binary);
  os.put(static_cast<char>(kRecordMagic));
  os.put(static_cast<char>(kRecordFormatVersion));
  {
    cereal::PortableBinaryOutputArchive ar(os, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    ar(r.position, r.stream, r.version, r.type, r.schema_version, r.recorded_us, r.event_id, r.command_id,
       r.correlation_id, r.causation_id, r.actor, r.payload);
  }
  std::string out = std::move(os).str();
  const std::uint32_t crc = Crc32cPortable(out);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return out;
}

class SpanBuf : public std::streambuf {
 public:
  SpanBuf(const char* data, std::size_t size) {
    char* p = const_cast<char*>(data);
    setg(p, p, p + size);
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

struct BadLength : std::exception {
  const char* what() const noexcept override { return "length prefix exceeds the record"; }
};

void CerealLoadString(cereal::PortableBinaryInputArchive& ar, const SpanBuf& buf, std::string& s) {
  cereal::size_type size = 0;
  ar(cereal::make_size_tag(size));
  if (size > buf.remaining()) throw BadLength();
  s.resize(static_cast<std::size_t>(size));
  if (size > 0) ar(cereal::binary_data(s.data(), static_cast<std::size_t>(size)));
}

// The body checks of the old DecodeRecord (header checks and CRC are shared
// with the codec under test and pinned separately): "" when the body decodes
// into `r`, else the message after "undecodable body: " / the trailing bytes.
std::string CerealDecodeBody(std::string_view bytes, EventRecord& r) {
  SpanBuf buf(bytes.data() + 2, bytes.size() - 6);
  try {
    std::istream is(&buf);
    cereal::PortableBinaryInputArchive ar(is);
    ar(r.position);
    CerealLoadString(ar, buf, r.stream);
    ar(r.version);
    CerealLoadString(ar, buf, r.type);
    ar(r.schema_version, r.recorded_us);
    CerealLoadString(ar, buf, r.event_id);
    CerealLoadString(ar, buf, r.command_id);
    CerealLoadString(ar, buf, r.correlation_id);
    CerealLoadString(ar, buf, r.causation_id);
    CerealLoadString(ar, buf, r.actor);
    CerealLoadString(ar, buf, r.payload);
  } catch (const std::exception& e) {
    return std::string("undecodable body: ") + e.what();
  }
  if (buf.remaining() != 0) return std::to_string(buf.remaining()) + " trailing bytes after the body";
  return "";
}

std::string RandomString(std::mt19937_64& rng, std::size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

EventRecord RandomRecord(std::mt19937_64& rng) {
  EventRecord r;
  r.position = rng() >> (rng() % 64);
  r.stream = RandomString(rng, 20);
  r.version = rng() >> (rng() % 64);
  r.type = RandomString(rng, 20);
  r.schema_version = static_cast<std::uint32_t>(rng());
  r.recorded_us = static_cast<std::int64_t>(rng());
  r.event_id = RandomString(rng, 40);
  r.command_id = RandomString(rng, 10);
  r.correlation_id = RandomString(rng, 10);
  r.causation_id = RandomString(rng, 10);
  r.actor = RandomString(rng, 10);
  r.payload = RandomString(rng, 300);
  return r;
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

TEST_CASE("record codec: the hand-written body is byte for byte cereal's") {
  std::mt19937_64 rng(7);
  for (const EventRecord& r : {MinimalRecord(), FullRecord(), ConfigRecord(), EventRecord{}}) {
    CHECK(EncodeRecord(r) == CerealEncode(r));
  }
  for (int i = 0; i < 2000; ++i) {
    const EventRecord r = RandomRecord(rng);
    const std::string bytes = EncodeRecord(r);
    REQUIRE(bytes == CerealEncode(r));
    auto d = DecodeRecord(bytes, r.position);
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    CheckSame(*d, r);
  }
}

TEST_CASE("record codec: accepts and rejects exactly what cereal's decoder did, with its messages") {
  // Bodies edited and resealed (valid CRC), so that the body decoder itself
  // is reached: flipped bytes, cut or grown bodies, length prefixes changed.
  std::mt19937_64 rng(11);
  int accepted = 0;
  int rejected = 0;
  auto compare = [&](const std::string& bytes) {
    EventRecord expected;
    const std::string reference = CerealDecodeBody(bytes, expected);
    auto d = DecodeRecord(bytes, 0);
    if (reference.empty()) {
      REQUIRE_MESSAGE(d.ok(), d.status().ToString());
      CheckSame(*d, expected);
      ++accepted;
    } else {
      REQUIRE(d.status().IsCorruption());
      CHECK(d.status().message() == "record: " + reference);
      ++rejected;
    }
  };
  for (int i = 0; i < 3000; ++i) {
    const EventRecord r = i % 3 == 0 ? FullRecord() : RandomRecord(rng);
    std::string body = EncodeRecord(r);
    body.resize(body.size() - 4);
    switch (rng() % 4) {
      case 0: {  // flip bytes after the endianness flag
        for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
          body[3 + rng() % (body.size() - 3)] ^= static_cast<char>(1 + rng() % 255);
        }
        break;
      }
      case 1:  // cut the body
        body.resize(3 + rng() % (body.size() - 3));
        break;
      case 2:  // trailing bytes
        body += RandomString(rng, 10);
        break;
      default: {  // change one length prefix (the stream's, at byte 11, or a random 8-byte window)
        const std::size_t at = rng() % 2 == 0 ? 11 : 3 + rng() % (body.size() - 10);
        const std::uint64_t v = rng() % 2 == 0 ? rng() % 64 : rng();
        for (int b = 0; b < 8; ++b) body[at + b] = static_cast<char>((v >> (8 * b)) & 0xFF);
        break;
      }
    }
    compare(Reseal(body + "????"));
  }
  CHECK(accepted > 100);
  CHECK(rejected > 1000);
}

TEST_CASE("record codec: DecodeRecordView points into the bytes it decoded") {
  const std::string bytes = EncodeRecord(FullRecord());
  auto v = DecodeRecordView(bytes, 4242);
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  const EventRecord full = FullRecord();
  CHECK(v->position == full.position);
  CHECK(v->stream == full.stream);
  CHECK(v->version == full.version);
  CHECK(v->type == full.type);
  CHECK(v->schema_version == full.schema_version);
  CHECK(v->recorded_us == full.recorded_us);
  CHECK(v->event_id == full.event_id);
  CHECK(v->command_id == full.command_id);
  CHECK(v->correlation_id == full.correlation_id);
  CHECK(v->causation_id == full.causation_id);
  CHECK(v->actor == full.actor);
  CHECK(v->payload == full.payload);
  for (std::string_view field : {v->stream, v->type, v->event_id, v->command_id, v->correlation_id,
                                 v->causation_id, v->actor, v->payload}) {
    CHECK(field.data() >= bytes.data());
    CHECK(field.data() + field.size() <= bytes.data() + bytes.size());
  }
  CheckSame(ToRecord(*v), full);
  // The same errors as DecodeRecord.
  std::string bad = bytes;
  bad[20] ^= 1;
  CHECK(DecodeRecordView(bad, 4242).status().message() == DecodeRecord(bad, 4242).status().message());
  CHECK(DecodeRecordView(bytes, 1).status().message() == "record at position 1: holds position 4242");
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
