#include "projections/evaluation_keys.h"

#include "projections/codec.h"

namespace caseloop::projections::ev {
namespace {

// Value format versions (the first byte). Do not renumber.
constexpr std::uint8_t kCaseStateVersion = 1;
constexpr std::uint8_t kReportVersion = 1;
constexpr std::uint8_t kFeedbackVersion = 1;
constexpr std::uint8_t kZoneVersion = 1;

}  // namespace

Status Malformed(std::string_view key) {
  return Status::Corruption("evaluation projection: malformed value at key " + std::string(key));
}

std::string TimeKey(const char* prefix, Instant t, std::string_view case_id) {
  std::string k = prefix;
  AppendOrderedI64(&k, MicrosOf(t));
  k.append(case_id);
  return k;
}

std::string UnitRecordKey(std::string_view unit, Instant t) {
  std::string k = kUnitRecordPrefix;
  k.append(unit);
  k.push_back('\0');
  AppendOrderedI64(&k, MicrosOf(t));
  return k;
}

std::string CounterDayKey(std::string_view unit, std::int64_t day) {
  std::string k = kCounterPrefix;
  k.append(unit);
  k.push_back('\0');
  AppendOrderedI64(&k, day);
  return k;
}

std::string CounterKey(std::string_view unit, std::int64_t day, std::int64_t bucket) {
  std::string k = CounterDayKey(unit, day);
  AppendOrderedI64(&k, bucket);
  return k;
}

std::string InspectorKey(std::int64_t day, std::int64_t bucket, std::string_view inspector) {
  std::string k = kInspectorPrefix;
  AppendOrderedI64(&k, day);
  AppendOrderedI64(&k, bucket);
  k.append(inspector);
  return k;
}

std::string CentreKey(std::int64_t day, std::string_view field) {
  std::string k = kCentrePrefix;
  AppendOrderedI64(&k, day);
  k.append(field);
  return k;
}

std::string EncodeVector(const std::int64_t* v, int n) {
  Writer w;
  for (int i = 0; i < n; ++i) w.I64(v[i]);
  return w.Take();
}

Status DecodeVector(std::string_view key, std::string_view value, std::int64_t* v, int n) {
  Reader r(value);
  for (int i = 0; i < n; ++i) v[i] = r.I64();
  if (!r.ok() || !r.done()) {
    return Status::Corruption("evaluation projection: malformed counters at key " + std::string(key));
  }
  return Status::Ok();
}

std::string EncodeCaseEval(const CaseEval& c) {
  Writer w;
  w.U8(kCaseStateVersion);
  w.OptI64(c.report_us);
  w.Str(c.unit);
  w.Varint(c.units.size());
  for (const auto& [u, t] : c.units) {
    w.Str(u);
    w.I64(t);
  }
  w.OptI64(c.feedback_us);
  w.Bool(c.feedback_on_time);
  return w.Take();
}

Result<CaseEval> DecodeCaseEval(std::string_view key, std::string_view v) {
  Reader r(v);
  CaseEval c;
  std::uint8_t version = r.U8();
  c.report_us = r.OptI64();
  c.unit = r.Str();
  std::uint64_t n = r.Varint();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string u = r.Str();
    std::int64_t t = r.I64();
    c.units.emplace_back(std::move(u), t);
  }
  c.feedback_us = r.OptI64();
  c.feedback_on_time = r.Bool();
  if (!r.ok() || version != kCaseStateVersion) return Malformed(key);
  return c;
}

std::string EncodeReport(const ReportRecord& r) {
  Writer w;
  w.U8(kReportVersion);
  w.Str(r.reporter);
  w.U8(static_cast<std::uint8_t>(r.source));
  w.U8(static_cast<std::uint8_t>(r.kind));
  w.Str(r.category);
  w.Str(r.grid);
  w.OptTime(r.registered);
  return w.Take();
}

Result<ReportRecord> DecodeReport(std::string_view key, std::string_view v) {
  Reader r(v);
  ReportRecord rec;
  std::uint8_t version = r.U8();
  rec.reporter = r.Str();
  rec.source = static_cast<ReportSource>(r.U8());
  rec.kind = static_cast<CaseKind>(r.U8());
  rec.category = r.Str();
  rec.grid = r.Str();
  rec.registered = r.OptTime();
  if (!r.ok() || version != kReportVersion) return Malformed(key);
  return rec;
}

std::string EncodeFeedback(const FeedbackRecord& f) {
  Writer w;
  w.U8(kFeedbackVersion);
  w.Str(f.verifier);
  w.OptTime(f.verify_deadline);
  w.OptTime(f.verified);
  return w.Take();
}

Result<FeedbackRecord> DecodeFeedback(std::string_view key, std::string_view v) {
  Reader r(v);
  FeedbackRecord f;
  std::uint8_t version = r.U8();
  f.verifier = r.Str();
  f.verify_deadline = r.OptTime();
  f.verified = r.OptTime();
  if (!r.ok() || version != kFeedbackVersion) return Malformed(key);
  return f;
}

std::string EncodeZone(const DayZone& z) {
  Writer w;
  w.U8(kZoneVersion);
  w.I64(z.offset_minutes);
  w.Varint(z.since);
  if (!z.zone.empty()) w.Str(z.zone);  // absent: the bytes of a grid without a zone, as before zones
  return w.Take();
}

Result<DayZone> DecodeZone(std::string_view v) {
  Reader r(v);
  DayZone z;
  std::uint8_t version = r.U8();
  const std::int64_t offset = r.I64();
  z.since = r.Varint();
  if (r.ok() && !r.done()) z.zone = r.Str();
  // The calendar refuses offsets of a day or more; anything else is damage.
  if (!r.ok() || !r.done() || version != kZoneVersion || offset <= -24 * 60 || offset >= 24 * 60) {
    return Malformed(kZoneKey);
  }
  z.offset_minutes = static_cast<int>(offset);
  return z;
}

}  // namespace caseloop::projections::ev
