#include "engine/log_json.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "caseloop/calendar.h"
#include "caseloop/case.h"
#include "caseloop/case_types.h"
#include "caseloop/time.h"

namespace caseloop {
namespace {

using nlohmann::json;

std::string Str(std::string_view s) { return std::string(s); }

json CalendarJson(const Calendar& c) {
  json j = json::object();
  j["tz"] = FormatUtcOffset(c.utc_offset_minutes);
  j["workdays"] = FormatWorkdays(c.workdays);
  j["periods"] = FormatPeriods(c.periods);
  return j;
}

json CategoryJson(const CategoryInfo& c) {
  json j = json::object();
  j["kind"] = Str(Name(c.kind));
  j["code"] = c.code;
  j["name"] = c.name;
  j["limit"] = FormatTimeLimit(c.limit);
  j["emergency_limit"] = c.emergency_limit ? json(FormatTimeLimit(*c.emergency_limit)) : json(nullptr);
  j["verify_limit"] = FormatTimeLimit(c.verify_limit);
  return j;
}

json PolicyJson(const Policy& p) {
  json j = json::object();
  j["enforce_permissions"] = p.enforce_permissions;
  j["rework_fresh_limit"] = p.rework_fresh_limit;
  j["yellow_percent"] = p.yellow_percent;
  j["auto_supervise_after_working_minutes"] = p.auto_supervise_after_working_minutes;
  j["grid_group_digits"] = p.grid_group_digits;
  return j;
}

json ChangeJson(const ConfigChange& c) {
  json j = json::object();
  switch (c.type) {
    case ConfigChangeType::kSetCalendar:
      return CalendarJson(c.calendar);
    case ConfigChangeType::kAddHoliday:
    case ConfigChangeType::kAddWorkday:
      j["date"] = FormatLocalDate(c.date);
      return j;
    case ConfigChangeType::kDefineUnit:
      j["id"] = c.unit.id;
      j["name"] = c.unit.name;
      return j;
    case ConfigChangeType::kDefineInspector:
      j["id"] = c.inspector.id;
      j["grid_prefix"] = c.inspector.grid_prefix;
      return j;
    case ConfigChangeType::kDefineStaff: {
      j["id"] = c.staff.id;
      json roles = json::array();
      for (Role r : c.staff.roles) roles.push_back(Str(Name(r)));
      j["roles"] = std::move(roles);
      return j;
    }
    case ConfigChangeType::kDefineCategory:
      return CategoryJson(c.category);
    case ConfigChangeType::kDefineRoute:
      j["kind"] = Str(Name(c.route.kind));
      j["code"] = c.route.code;
      j["unit"] = c.route.unit;
      j["grid_prefix"] = c.route.grid_prefix;
      return j;
    case ConfigChangeType::kSetWeights:
      j["handling"] = c.weights.handling;
      j["on_time"] = c.weights.on_time;
      j["rework"] = c.weights.rework;
      j["overdue"] = c.weights.overdue;
      j["extension"] = c.weights.extension;
      return j;
    case ConfigChangeType::kSetPolicy:
      return PolicyJson(c.policy);
  }
  return j;
}

}  // namespace

std::string ConfigChangeFieldsJson(const ConfigChange& change) {
  try {
    // Replace invalid UTF-8 rather than throw: names come from configuration text.
    return ChangeJson(change).dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "{}";
  }
}

Result<LoggedEvent> DecodeLoggedEvent(EventRecord record, int offset_minutes) {
  LoggedEvent out;
  if (record.stream == kConfigStream) {
    Result<ConfigChange> change = DecodeConfigChange(record.payload, record.schema_version);
    if (!change.ok()) {
      return Status::Corruption("log position " + std::to_string(record.position) + " (stream " +
                                record.stream + ", type " + record.type + "): " + change.status().message());
    }
    out.fields_json = ConfigChangeFieldsJson(*change);
  } else if (!record.stream.empty() && record.stream[0] == '$') {
    out.fields_json = "{}";
  } else {
    Result<CaseEvent> event = DecodeCaseEvent(record);
    if (!event.ok()) {
      return Status::Corruption("log position " + std::to_string(record.position) + " (stream " +
                                record.stream + ", type " + record.type + "): " + event.status().message());
    }
    out.fields_json = CaseEventFieldsJson(*event, offset_minutes);
    out.event = std::move(event).value();
  }
  out.record = std::move(record);
  return out;
}

}  // namespace caseloop
