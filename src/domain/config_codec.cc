// Encoding of configuration changes as "$config" event payloads.
//
// Payload (schema version 1): uint8 change type, then only the fields that
// type reads, in this order:
//   calendar_set:      int32 utc_offset_minutes, uint8 workdays,
//                      uint32 n, n × (int32 start_minute, int32 end_minute)
//   holiday_added, workday_added: int32 date (days since 1970-01-01)
//   unit_defined:      string id, string name
//   inspector_defined: string id, string grid_prefix
//   staff_defined:     string id, uint32 n, n × uint8 role
//   category_defined:  uint8 kind, string code, string name, limit,
//                      bool has_emergency [limit], limit verify_limit
//                      (limit = uint8 unit, int64 amount)
//   route_defined:     uint8 kind, string code, string unit, string grid_prefix
//   weights_set:       n × double, the weights of the weighted rows of
//                      kUnitMetrics (caseloop/unit_metrics.h) in table order:
//                      handling, on_time, rework, overdue, extension. A weight
//                      added to the table later is appended; a payload written
//                      before it ends early and the new weight keeps its default.
//   policy_set:        bool enforce_permissions, bool rework_fresh_limit,
//                      int32 yellow_percent, int64 auto_supervise_after_working_minutes,
//                      int32 grid_group_digits
//   calendar_zone_set: string zone (type 20; empty: the fixed offset again)
//   year_calendar_set: int32 year, string name, uint32 n, n × int32 holiday,
//                      uint32 m, m × int32 workday (dates as days since 1970-01-01)
// On-disk format: do not reorder; add a schema version and an upcaster.
#include <fmt/format.h>

#include <sstream>

#include "caseloop/config.h"
#include "caseloop/unit_metrics.h"
#include "domain/codec_util.h"

namespace caseloop {

using codec::GetEnum;
using codec::GetLimit;
using codec::PutEnum;
using codec::PutLimit;

std::string EncodeConfigChange(const ConfigChange& c) {
  std::ostringstream os;
  {
    codec::Out ar(os);
    PutEnum(ar, c.type);
    switch (c.type) {
      case ConfigChangeType::kSetCalendar:
        ar(static_cast<std::int32_t>(c.calendar.utc_offset_minutes), c.calendar.workdays);
        ar(static_cast<std::uint32_t>(c.calendar.periods.size()));
        for (const WorkPeriod& p : c.calendar.periods) {
          ar(static_cast<std::int32_t>(p.start_minute), static_cast<std::int32_t>(p.end_minute));
        }
        break;
      case ConfigChangeType::kAddHoliday:
      case ConfigChangeType::kAddWorkday:
        ar(static_cast<std::int32_t>(c.date));
        break;
      case ConfigChangeType::kDefineUnit:
        ar(c.unit.id, c.unit.name);
        break;
      case ConfigChangeType::kDefineInspector:
        ar(c.inspector.id, c.inspector.grid_prefix);
        break;
      case ConfigChangeType::kDefineStaff:
        ar(c.staff.id, static_cast<std::uint32_t>(c.staff.roles.size()));
        for (Role r : c.staff.roles) PutEnum(ar, r);
        break;
      case ConfigChangeType::kDefineCategory:
        PutEnum(ar, c.category.kind);
        ar(c.category.code, c.category.name);
        PutLimit(ar, c.category.limit);
        codec::PutOptional(ar, c.category.emergency_limit, PutLimit);
        PutLimit(ar, c.category.verify_limit);
        break;
      case ConfigChangeType::kDefineRoute:
        PutEnum(ar, c.route.kind);
        ar(c.route.code, c.route.unit, c.route.grid_prefix);
        break;
      case ConfigChangeType::kSetWeights:
        for (const UnitMetric& m : kUnitMetrics) {
          if (m.weight != nullptr) ar(c.weights.*m.weight);
        }
        break;
      case ConfigChangeType::kSetYearCalendar:
        ar(static_cast<std::int32_t>(c.year_calendar.year), c.year_calendar.name);
        ar(static_cast<std::uint32_t>(c.year_calendar.holidays.size()));
        for (LocalDate d : c.year_calendar.holidays) ar(static_cast<std::int32_t>(d));
        ar(static_cast<std::uint32_t>(c.year_calendar.workdays.size()));
        for (LocalDate d : c.year_calendar.workdays) ar(static_cast<std::int32_t>(d));
        break;
      case ConfigChangeType::kSetCalendarZone:
        ar(c.calendar.zone);
        break;
      case ConfigChangeType::kSetPolicy:
        ar(c.policy.enforce_permissions, c.policy.rework_fresh_limit,
           static_cast<std::int32_t>(c.policy.yellow_percent), c.policy.auto_supervise_after_working_minutes,
           static_cast<std::int32_t>(c.policy.grid_group_digits));
        break;
    }
  }
  return std::move(os).str();
}

namespace {

// The weights every weights_set payload carries (schema 1 as first written).
constexpr std::size_t kFirstWeights = 5;

ConfigChange DecodeV1(std::istream& is, std::size_t limit) {
  codec::In ar(is);
  auto str = [&](std::string& out) { codec::GetString(ar, out, limit); };
  ConfigChange c;
  {
    // Types 0..10, then 20 (11..19 are not defined by this version).
    std::uint8_t type = 0;
    ar(type);
    if (type > static_cast<std::uint8_t>(ConfigChangeType::kSetYearCalendar) &&
        type != static_cast<std::uint8_t>(ConfigChangeType::kSetCalendarZone)) {
      throw codec::DecodeError("bad configuration change type value " + std::to_string(type));
    }
    c.type = static_cast<ConfigChangeType>(type);
  }
  switch (c.type) {
    case ConfigChangeType::kSetCalendar: {
      std::int32_t offset = 0;
      std::uint32_t n = 0;
      ar(offset, c.calendar.workdays, n);
      if (n > 48) throw codec::DecodeError(fmt::format("{} working periods", n));
      c.calendar.utc_offset_minutes = offset;
      c.calendar.periods.clear();
      for (std::uint32_t i = 0; i < n; ++i) {
        std::int32_t a = 0, b = 0;
        ar(a, b);
        c.calendar.periods.push_back({a, b});
      }
      break;
    }
    case ConfigChangeType::kAddHoliday:
    case ConfigChangeType::kAddWorkday: {
      std::int32_t d = 0;
      ar(d);
      c.date = d;
      break;
    }
    case ConfigChangeType::kDefineUnit:
      str(c.unit.id);
      str(c.unit.name);
      break;
    case ConfigChangeType::kDefineInspector:
      str(c.inspector.id);
      str(c.inspector.grid_prefix);
      break;
    case ConfigChangeType::kDefineStaff: {
      std::uint32_t n = 0;
      str(c.staff.id);
      ar(n);
      if (n > 16) throw codec::DecodeError(fmt::format("{} roles", n));
      for (std::uint32_t i = 0; i < n; ++i) c.staff.roles.push_back(GetEnum(ar, Role::kSupervisor, "role"));
      break;
    }
    case ConfigChangeType::kDefineCategory:
      c.category.kind = GetEnum(ar, CaseKind::kEvent, "kind");
      str(c.category.code);
      str(c.category.name);
      c.category.limit = GetLimit(ar);
      c.category.emergency_limit = codec::GetOptional<TimeLimit>(ar, GetLimit);
      c.category.verify_limit = GetLimit(ar);
      break;
    case ConfigChangeType::kDefineRoute:
      c.route.kind = GetEnum(ar, CaseKind::kEvent, "kind");
      str(c.route.code);
      str(c.route.unit);
      str(c.route.grid_prefix);
      break;
    case ConfigChangeType::kSetWeights: {
      std::size_t read = 0;
      for (const UnitMetric& m : kUnitMetrics) {
        if (m.weight == nullptr) continue;
        // The first five are in every payload; a later weight only in those
        // written since it was added.
        if (read >= kFirstWeights && is.peek() == std::char_traits<char>::eof()) break;
        ar(c.weights.*m.weight);
        ++read;
      }
      break;
    }
    case ConfigChangeType::kSetPolicy: {
      std::int32_t yellow = 0, digits = 0;
      c.policy.enforce_permissions = codec::GetBool(ar, "enforce_permissions");
      c.policy.rework_fresh_limit = codec::GetBool(ar, "rework_fresh_limit");
      ar(yellow, c.policy.auto_supervise_after_working_minutes, digits);
      c.policy.yellow_percent = yellow;
      c.policy.grid_group_digits = digits;
      break;
    }
    case ConfigChangeType::kSetCalendarZone:
      str(c.calendar.zone);
      break;
    case ConfigChangeType::kSetYearCalendar: {
      std::int32_t year = 0;
      ar(year);
      c.year_calendar.year = year;
      str(c.year_calendar.name);
      for (auto* list : {&c.year_calendar.holidays, &c.year_calendar.workdays}) {
        std::uint32_t n = 0;
        ar(n);
        if (n > 366) throw codec::DecodeError(fmt::format("{} dates in one year", n));
        for (std::uint32_t i = 0; i < n; ++i) {
          std::int32_t d = 0;
          ar(d);
          list->push_back(d);
        }
      }
      break;
    }
  }
  codec::ExpectEnd(is);
  return c;
}

}  // namespace

Result<ConfigChange> DecodeConfigChange(std::string_view payload, std::uint32_t schema_version) {
  if (schema_version != 1) {
    if (schema_version > 1) {
      return Status::Corruption(fmt::format("configuration change: newer schema {} > 1", schema_version));
    }
    return Status::Corruption(fmt::format("configuration change: unknown schema {}", schema_version));
  }
  try {
    std::istringstream is{std::string(payload)};
    return DecodeV1(is, payload.size());
  } catch (const std::exception& e) {
    return Status::Corruption(fmt::format("configuration change: cannot decode payload: {}", e.what()));
  }
}

}  // namespace caseloop
