// caseloop/config.h — the district's configuration: units, inspectors, staff
// and roles, the category catalogue, routing, the calendar, weights, policies.
//
// Configuration lives as events in its own stream ("$config"), so history
// explains every past decision: a change affects only later commands.
// A Config value is what replaying that stream gives.
//
// Thread-safety: plain values.
#ifndef CASELOOP_CONFIG_H_
#define CASELOOP_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/case_types.h"
#include "caseloop/status.h"
#include "caseloop/time.h"
#include "caseloop/year_calendar.h"

namespace caseloop {

inline constexpr char kConfigStream[] = "$config";

struct UnitInfo {
  std::string id;    // e.g. "WATER"; the routing target
  std::string name;  // e.g. "水务局"
};

struct InspectorInfo {
  std::string id;
  std::string grid_prefix;  // the grids they patrol; "" = none
};

struct StaffInfo {
  std::string id;
  std::vector<Role> roles;
};

struct CategoryInfo {
  CaseKind kind = CaseKind::kEvent;
  std::string code;  // 4 digits: class + subclass
  std::string name;
  TimeLimit limit = TimeLimit::WorkingDays(1);
  // Used for emergency cases; natural hours by convention. Default: none
  // (an emergency case of this category then uses `limit`).
  std::optional<TimeLimit> emergency_limit;
  // From feedback to verification (核查时限). Default: 1 working hour.
  TimeLimit verify_limit = TimeLimit::WorkingHours(1);
};

// kind + category (+ optional grid prefix) -> unit. The most specific match
// (longest grid prefix) wins; no match or a tie -> coordination.
struct RouteRule {
  CaseKind kind = CaseKind::kEvent;
  std::string code;
  std::string unit;
  std::string grid_prefix;  // "" matches every grid
};

// Composite score weights (domain.md §7). Default: 30/20/20/20/10.
struct Weights {
  double handling = 30;
  double on_time = 20;
  double rework = 20;
  double overdue = 20;
  double extension = 10;
};

// Policies (domain.md "policy" marks), with the spec's values as defaults.
struct Policy {
  // Check the actor's role, that a unit acts only on a case dispatched to it,
  // and that an inspector verifies only a case assigned to them. Default: true.
  bool enforce_permissions = true;
  // A failed verification gives the same unit a fresh full limit. When false,
  // the previous deadline stays. Default: true.
  bool rework_fresh_limit = true;
  // Green while elapsed <= yellow_percent % of the limit. Default: 80.
  int yellow_percent = 80;
  // Automatic supervision (督办) this many working minutes after a task went
  // overdue; 0 = off. Default: 0.
  std::int64_t auto_supervise_after_working_minutes = 0;
  // Length of the grid prefix used for the centre's per-grid counts. Default: 9
  // (county + street).
  int grid_group_digits = 9;
};

struct Config {
  Calendar calendar;
  std::map<std::string, UnitInfo> units;
  std::map<std::string, InspectorInfo> inspectors;
  std::map<std::string, StaffInfo> staff;
  std::map<std::pair<CaseKind, std::string>, CategoryInfo> categories;
  std::vector<RouteRule> routes;
  Weights weights;
  Policy policy;

  // The unit that routing gives, or nullopt (no match or a tie: coordination).
  std::optional<std::string> Route(CaseKind kind, const std::string& code, const std::string& grid) const;
  const CategoryInfo* FindCategory(CaseKind kind, const std::string& code) const;
  bool HasRole(const std::string& actor, Role role) const;
};

// A change to the configuration. Exactly the fields its type names are read.
enum class ConfigChangeType : std::uint8_t {
  kSetCalendar = 0,      // calendar.utc_offset_minutes, workdays, periods (holidays and zone kept)
  kAddHoliday = 1,       // date
  kAddWorkday = 2,       // date (adjusted working day)
  kDefineUnit = 3,       // unit
  kDefineInspector = 4,  // inspector
  kDefineStaff = 5,      // staff
  kDefineCategory = 6,   // category
  kDefineRoute = 7,      // route
  kSetWeights = 8,       // weights
  kSetPolicy = 9,        // policy
  kSetYearCalendar =
      10,  // year_calendar: one year's holidays and adjusted working days, replacing that year's
  // 11..19 are taken by another change in progress; the next free value is 21.
  kSetCalendarZone = 20,  // calendar.zone: an IANA zone name; empty goes back to the fixed offset
};

struct ConfigChange {
  ConfigChangeType type = ConfigChangeType::kDefineUnit;
  Calendar calendar;
  LocalDate date = 0;
  UnitInfo unit;
  InspectorInfo inspector;
  StaffInfo staff;
  CategoryInfo category;
  RouteRule route;
  Weights weights;
  Policy policy;
  YearCalendar year_calendar;
};

// Applies one change. Errors: InvalidArgument (bad calendar, empty id, bad
// code, weights that do not sum to a positive number, route to an unknown
// unit — message names the field), NotFound.
Status ApplyConfigChange(Config& config, const ConfigChange& change);

// What a new change must satisfy beyond ApplyConfigChange: its ids, names,
// codes and grid prefixes are valid UTF-8 (else "X\xff" and "X\xfe" would be
// two units that print as the same text). Engine::Configure checks it before
// applying a change; ApplyConfigChange does not, so that a log written before
// the check still replays. Errors: InvalidArgument, e.g.
// "unit name 'caf\xe9' is not valid UTF-8 (byte 0xE9 at offset 3)".
Status CheckConfigChangeText(const ConfigChange& change);

// The default district of shared/seed (Lanzhou Qilihe-style units and their
// duties), the category classes of domain.md §3, routing following
// "components by owner, events by locality", and the default calendar.
std::vector<ConfigChange> DefaultConfigChanges();

// Encodes / decodes a change as an event payload (cereal portable binary).
std::string EncodeConfigChange(const ConfigChange& change);
Result<ConfigChange> DecodeConfigChange(std::string_view payload, std::uint32_t schema_version);
// The event type name of a change: "calendar_set", "holiday_added",
// "workday_added", "unit_defined", "inspector_defined", "staff_defined",
// "category_defined", "route_defined", "weights_set", "policy_set",
// "year_calendar_set", "calendar_zone_set".
std::string_view ConfigEventTypeName(ConfigChangeType type);
std::optional<ConfigChangeType> ParseConfigEventType(std::string_view name);

}  // namespace caseloop

#endif  // CASELOOP_CONFIG_H_
