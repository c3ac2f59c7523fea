// Keys and value codecs of the evaluation projection. Every key is under
// "ev/" (docs/projections.md, "Evaluation projection", has the table):
//   ev/c/<case>                               -> CaseEval while the case is open
//   ev/n/<unit>                               -> "" (every unit that ever had a dispatch)
//   ev/u/<unit>\0<be64 first dispatch><case>  -> the case's timeline for that unit (timeline.h)
//   ev/r/<be64 report time><case>             -> ReportRecord
//   ev/f/<be64 feedback time><case>           -> FeedbackRecord
//   ev/g/ ev/j/ ev/v/ <be64 time><case>       -> "" registered / rejected / voided at that time
//   ev/z/<be64 close time><case>              -> 1 byte: on_time of the surviving feedback
//   ev/k/<unit>\0<be64 day of first dispatch><be64 change bucket> -> UnitCounts deltas
//   ev/i/<be64 day><be64 change bucket><inspector>               -> InspectorField deltas
//   ev/e/<be64 day><field>                                      -> CentreField counts
//   ev/~zone                                  -> DayZone: the day grid of the counters
//
// On-disk format: every layout here is stored; a change means bumping the
// evaluation projection's format version (evaluation_projection.h).
//
// Thread-safety: pure functions.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_KEYS_H_
#define CASELOOP_PROJECTIONS_EVALUATION_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/case_types.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop::projections::ev {

inline constexpr char kCasePrefix[] = "ev/c/";
inline constexpr char kUnitListPrefix[] = "ev/n/";
inline constexpr char kUnitListEnd[] = "ev/n0";
inline constexpr char kUnitRecordPrefix[] = "ev/u/";
inline constexpr char kReportPrefix[] = "ev/r/";
inline constexpr char kFeedbackPrefix[] = "ev/f/";
inline constexpr char kRegisteredPrefix[] = "ev/g/";
inline constexpr char kRejectedPrefix[] = "ev/j/";
inline constexpr char kVoidedPrefix[] = "ev/v/";
inline constexpr char kClosedPrefix[] = "ev/z/";
inline constexpr char kCounterPrefix[] = "ev/k/";
inline constexpr char kInspectorPrefix[] = "ev/i/";
inline constexpr char kCentrePrefix[] = "ev/e/";
inline constexpr char kZoneKey[] = "ev/~zone";
inline constexpr std::size_t kPrefixLen = 5;  // every prefix above but the zone key is 5 bytes

Status Malformed(std::string_view key);

// ev/r/, ev/f/, ev/g/, ev/j/, ev/v/, ev/z/: <prefix><be64 time><case>.
std::string TimeKey(const char* prefix, Instant t, std::string_view case_id);
// ev/u/<unit>\0<be64 t>: the start of the unit's records first dispatched at t.
std::string UnitRecordKey(std::string_view unit, Instant t);
// ev/k/<unit>\0<be64 day>[<be64 bucket>].
std::string CounterDayKey(std::string_view unit, std::int64_t day);
std::string CounterKey(std::string_view unit, std::int64_t day, std::int64_t bucket);
// ev/i/<be64 day><be64 bucket><inspector>.
std::string InspectorKey(std::int64_t day, std::int64_t bucket, std::string_view inspector);
// ev/e/<be64 day><field>.
std::string CentreKey(std::int64_t day, std::string_view field);

// Vector counters (ev/k/, ev/i/, ev/e/ field "a"): n zig-zag varints.
std::string EncodeVector(const std::int64_t* v, int n);
// Errors: Corruption naming `key` unless exactly n values.
Status DecodeVector(std::string_view key, std::string_view value, std::int64_t* v, int n);

// Centre day counters: ev/e/<be64 local day><field>. Field "a": the six
// figures below; "c<kind>/<category>": reports of the category; "g<grid>":
// reports of the grid (grouped by prefix at query time). Every record counts
// on the local day of its own time. On-disk format: do not reorder.
enum CentreField : int {
  kReceived = 0,
  kRegistered,
  kRejected,
  kVoided,
  kClosed,
  kClosedOnTime,
  kCentreSize
};
// Grids are counted by their first 9 digits (county + street, domain.md §2):
// enough for any policy.grid_group_digits up to 9 (the default); a larger
// grouping is answered record by record.
inline constexpr std::size_t kGridCounterDigits = 9;

// Inspector counters: ev/i/<be64 day of the record><be64 change bucket><inspector>.
// On-disk format: do not reorder.
enum InspectorField : int {
  kReports = 0,
  kValid,
  kVerifications,
  kVerifiedOnTime,
  kInspectorSteps,
  kInspectorSize
};

// ev/c/<case>: what the projection must remember about an open case.
struct CaseEval {
  std::optional<std::int64_t> report_us;
  std::string unit;                                         // current unit, "" none
  std::vector<std::pair<std::string, std::int64_t>> units;  // unit -> first dispatch (record key)
  std::optional<std::int64_t> feedback_us;                  // latest feedback (ev/f key)
  bool feedback_on_time = false;
};
std::string EncodeCaseEval(const CaseEval& c);
Result<CaseEval> DecodeCaseEval(std::string_view key, std::string_view v);

// ev/r/: one report.
struct ReportRecord {
  std::string reporter;
  ReportSource source = ReportSource::kInspector;
  CaseKind kind = CaseKind::kEvent;
  std::string category;
  std::string grid;
  std::optional<Instant> registered;
};
std::string EncodeReport(const ReportRecord& r);
Result<ReportRecord> DecodeReport(std::string_view key, std::string_view v);

// ev/f/: one feedback and its verification.
struct FeedbackRecord {
  std::string verifier;
  std::optional<Instant> verify_deadline;
  std::optional<Instant> verified;
};
std::string EncodeFeedback(const FeedbackRecord& f);
Result<FeedbackRecord> DecodeFeedback(std::string_view key, std::string_view v);

// ev/~zone: the UTC offset of the day grid the counters were built with, and
// the log position of the calendar change it was taken from (0: the
// calendar's default, no change seen); then, only when the calendar has one,
// its IANA zone name (which the grid follows instead of the offset).
struct DayZone {
  int offset_minutes = 0;
  std::uint64_t since = 0;
  std::string zone;
  bool operator==(const DayZone&) const = default;
};
std::string EncodeZone(const DayZone& z);
Result<DayZone> DecodeZone(std::string_view v);

}  // namespace caseloop::projections::ev

#endif  // CASELOOP_PROJECTIONS_EVALUATION_KEYS_H_
