// Config queries and ApplyConfigChange (caseloop/config.h).
#include "caseloop/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "caseloop/unit_metrics.h"
#include "core/utf8.h"
#include "domain/domain_util.h"

namespace caseloop {

std::optional<std::string> Config::Route(CaseKind kind, const std::string& code,
                                         const std::string& grid) const {
  const RouteRule* best = nullptr;
  bool tie = false;
  for (const RouteRule& r : routes) {
    if (r.kind != kind || r.code != code) continue;
    if (grid.compare(0, r.grid_prefix.size(), r.grid_prefix) != 0) continue;
    if (best == nullptr || r.grid_prefix.size() > best->grid_prefix.size()) {
      best = &r;
      tie = false;
    } else if (r.grid_prefix.size() == best->grid_prefix.size() && r.unit != best->unit) {
      tie = true;
    }
  }
  if (best == nullptr || tie) return std::nullopt;
  return best->unit;
}

const CategoryInfo* Config::FindCategory(CaseKind kind, const std::string& code) const {
  auto it = categories.find({kind, code});
  return it == categories.end() ? nullptr : &it->second;
}

bool Config::HasRole(const std::string& actor, Role role) const {
  auto it = staff.find(actor);
  if (it == staff.end()) return false;
  return std::find(it->second.roles.begin(), it->second.roles.end(), role) != it->second.roles.end();
}

namespace {

Status CheckGridPrefix(const std::string& prefix, std::string_view what) {
  if (prefix.size() > kGridDigits || !IsDigits(prefix)) {
    return Status::InvalidArgument(
        fmt::format("{}: grid prefix {} must be at most {} digits", what, QuotedText(prefix), kGridDigits));
  }
  return Status::Ok();
}

Status CheckDate(LocalDate d, std::string_view what) {
  // Years 1970..9999, as the text forms allow.
  if (d < 0 || d > 2932896) {
    return Status::InvalidArgument(fmt::format("{}: date {} out of range", what, d));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyConfigChange(Config& config, const ConfigChange& change) {
  switch (change.type) {
    case ConfigChangeType::kSetCalendar: {
      const Calendar& c = change.calendar;
      if (c.utc_offset_minutes < -14 * 60 || c.utc_offset_minutes > 14 * 60) {
        return Status::InvalidArgument(
            fmt::format("calendar: UTC offset {} minutes is out of range", c.utc_offset_minutes));
      }
      Calendar next = config.calendar;
      next.utc_offset_minutes = c.utc_offset_minutes;
      next.workdays = c.workdays;
      next.periods = c.periods;
      Status s = next.Validate();
      if (!s.ok()) return Status::InvalidArgument("calendar: " + s.message());
      config.calendar = std::move(next);
      return Status::Ok();
    }
    case ConfigChangeType::kSetCalendarZone: {
      Calendar next = config.calendar;
      next.zone = change.calendar.zone;
      Status s = next.Validate();
      if (!s.ok()) return Status::InvalidArgument("calendar: " + s.message());
      config.calendar = std::move(next);
      return Status::Ok();
    }
    case ConfigChangeType::kAddHoliday:
      CASELOOP_RETURN_IF_ERROR(CheckDate(change.date, "holiday"));
      config.calendar.extra_workdays.erase(change.date);
      config.calendar.holidays.insert(change.date);
      return Status::Ok();
    case ConfigChangeType::kAddWorkday:
      CASELOOP_RETURN_IF_ERROR(CheckDate(change.date, "workday"));
      config.calendar.holidays.erase(change.date);
      config.calendar.extra_workdays.insert(change.date);
      return Status::Ok();
    case ConfigChangeType::kSetYearCalendar: {
      // One year's holidays and adjusted working days, replacing those of
      // that year (caseloop/year_calendar.h).
      CASELOOP_RETURN_IF_ERROR(CheckYearCalendar(change.year_calendar));
      CASELOOP_RETURN_IF_ERROR(CheckYearCalendarAgainst(change.year_calendar, config.calendar));
      ApplyYearCalendar(config.calendar, change.year_calendar);
      return Status::Ok();
    }
    case ConfigChangeType::kDefineUnit: {
      CASELOOP_RETURN_IF_ERROR(CheckId(change.unit.id, "unit"));
      config.units[change.unit.id] = change.unit;
      return Status::Ok();
    }
    case ConfigChangeType::kDefineInspector: {
      const InspectorInfo& i = change.inspector;
      CASELOOP_RETURN_IF_ERROR(CheckId(i.id, "inspector"));
      CASELOOP_RETURN_IF_ERROR(CheckGridPrefix(i.grid_prefix, "inspector " + i.id));
      config.inspectors[i.id] = i;
      return Status::Ok();
    }
    case ConfigChangeType::kDefineStaff: {
      const StaffInfo& st = change.staff;
      CASELOOP_RETURN_IF_ERROR(CheckId(st.id, "staff"));
      if (st.roles.empty()) {
        return Status::InvalidArgument(fmt::format("staff {}: at least one role is required", st.id));
      }
      StaffInfo info{st.id, {}};
      for (Role r : st.roles) {
        if (static_cast<std::uint8_t>(r) > static_cast<std::uint8_t>(Role::kSupervisor)) {
          return Status::InvalidArgument(fmt::format("staff {}: unknown role {}", st.id, int(r)));
        }
        if (std::find(info.roles.begin(), info.roles.end(), r) == info.roles.end()) info.roles.push_back(r);
      }
      config.staff[st.id] = std::move(info);
      return Status::Ok();
    }
    case ConfigChangeType::kDefineCategory: {
      const CategoryInfo& c = change.category;
      if (static_cast<std::uint8_t>(c.kind) > 1) return Status::InvalidArgument("category: unknown kind");
      std::string what = fmt::format("category {} {}", Name(c.kind), Printable(c.code));
      if (!IsCategoryCode(c.code)) {
        return Status::InvalidArgument(fmt::format("{}: code must be 4 digits", what));
      }
      CASELOOP_RETURN_IF_ERROR(CheckLimit(c.limit, what + " limit"));
      if (c.emergency_limit)
        CASELOOP_RETURN_IF_ERROR(CheckLimit(*c.emergency_limit, what + " emergency_limit"));
      CASELOOP_RETURN_IF_ERROR(CheckLimit(c.verify_limit, what + " verify_limit"));
      config.categories[{c.kind, c.code}] = c;
      return Status::Ok();
    }
    case ConfigChangeType::kDefineRoute: {
      const RouteRule& r = change.route;
      if (static_cast<std::uint8_t>(r.kind) > 1) return Status::InvalidArgument("route: unknown kind");
      std::string what = fmt::format("route {} {}", Name(r.kind), Printable(r.code));
      if (!r.grid_prefix.empty()) what += " grid " + Printable(r.grid_prefix);
      what += " → unit " + Printable(r.unit);
      if (!IsCategoryCode(r.code)) return Status::InvalidArgument(what + ": code must be 4 digits");
      if (r.unit.empty()) return Status::InvalidArgument(what + ": unit is empty");
      CASELOOP_RETURN_IF_ERROR(CheckGridPrefix(r.grid_prefix, what));
      if (config.units.count(r.unit) == 0) return Status::NotFound(what + ": unknown unit");
      if (config.FindCategory(r.kind, r.code) == nullptr)
        return Status::NotFound(what + ": unknown category");
      for (const RouteRule& old : config.routes) {
        if (old.kind == r.kind && old.code == r.code && old.grid_prefix == r.grid_prefix &&
            old.unit == r.unit) {
          return Status::Ok();  // already there
        }
      }
      config.routes.push_back(r);
      return Status::Ok();
    }
    case ConfigChangeType::kSetWeights: {
      // One weight per weighted row of the metric table, in its order.
      const Weights& w = change.weights;
      double sum = 0;
      for (const UnitMetric& m : kUnitMetrics) {
        if (m.weight == nullptr) continue;
        const double v = w.*m.weight;
        if (!std::isfinite(v) || v < 0) {
          return Status::InvalidArgument(
              fmt::format("weights: {} must be a finite number >= 0, got {}", m.weight_key, v));
        }
        sum += v;
      }
      if (!(sum > 0) || !std::isfinite(sum)) {
        return Status::InvalidArgument("weights: the weights must sum to a positive number");
      }
      config.weights = w;
      return Status::Ok();
    }
    case ConfigChangeType::kSetPolicy: {
      const Policy& p = change.policy;
      if (p.yellow_percent < 0 || p.yellow_percent > 100) {
        return Status::InvalidArgument(
            fmt::format("policy: yellow_percent must be within 0..100, got {}", p.yellow_percent));
      }
      if (p.auto_supervise_after_working_minutes < 0) {
        return Status::InvalidArgument("policy: auto_supervise_after_working_minutes must be >= 0");
      }
      if (p.grid_group_digits < 1 || p.grid_group_digits > static_cast<int>(kGridDigits)) {
        return Status::InvalidArgument(
            fmt::format("policy: grid_group_digits must be within 1..15, got {}", p.grid_group_digits));
      }
      config.policy = p;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(
      fmt::format("unknown configuration change type {}", static_cast<int>(change.type)));
}

Status CheckConfigChangeText(const ConfigChange& change) {
  auto check = [](std::string_view text, std::string_view what) {
    return CheckUtf8(text, fmt::format("{} {}", what, QuotedText(text)));
  };
  switch (change.type) {
    case ConfigChangeType::kDefineUnit:
      CASELOOP_RETURN_IF_ERROR(check(change.unit.id, "unit id"));
      return check(change.unit.name, "unit name");
    case ConfigChangeType::kDefineInspector:
      CASELOOP_RETURN_IF_ERROR(check(change.inspector.id, "inspector id"));
      return check(change.inspector.grid_prefix, "inspector grid");
    case ConfigChangeType::kDefineStaff:
      return check(change.staff.id, "staff id");
    case ConfigChangeType::kDefineCategory:
      CASELOOP_RETURN_IF_ERROR(check(change.category.code, "category code"));
      return check(change.category.name, "category name");
    case ConfigChangeType::kDefineRoute:
      CASELOOP_RETURN_IF_ERROR(check(change.route.code, "route code"));
      CASELOOP_RETURN_IF_ERROR(check(change.route.unit, "route unit"));
      return check(change.route.grid_prefix, "route grid");
    case ConfigChangeType::kSetYearCalendar:
      return check(change.year_calendar.name, "year calendar name");
    case ConfigChangeType::kSetCalendar:
    case ConfigChangeType::kSetCalendarZone:  // CheckZoneName admits ASCII names only
    case ConfigChangeType::kAddHoliday:
    case ConfigChangeType::kAddWorkday:
    case ConfigChangeType::kSetWeights:
    case ConfigChangeType::kSetPolicy:
      return Status::Ok();  // no text
  }
  return Status::Ok();
}

namespace {
constexpr std::string_view kConfigEventNames[] = {"calendar_set",     "holiday_added",     "workday_added",
                                                  "unit_defined",     "inspector_defined", "staff_defined",
                                                  "category_defined", "route_defined",     "weights_set",
                                                  "policy_set",       "year_calendar_set"};
}  // namespace

constexpr std::string_view kZoneEventName = "calendar_zone_set";

std::string_view ConfigEventTypeName(ConfigChangeType type) {
  if (type == ConfigChangeType::kSetCalendarZone) return kZoneEventName;
  auto i = static_cast<std::size_t>(type);
  return i < std::size(kConfigEventNames) ? kConfigEventNames[i] : std::string_view("unknown");
}

std::optional<ConfigChangeType> ParseConfigEventType(std::string_view name) {
  if (name == kZoneEventName) return ConfigChangeType::kSetCalendarZone;
  for (std::size_t i = 0; i < std::size(kConfigEventNames); ++i) {
    if (kConfigEventNames[i] == name) return static_cast<ConfigChangeType>(i);
  }
  return std::nullopt;
}

}  // namespace caseloop
