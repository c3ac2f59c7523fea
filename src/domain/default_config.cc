// The default district (shared/seed: a Lanzhou district's "三维数字社会"
// operating rules) as a list of configuration changes. docs/domain-rules.md
// describes it in prose.
#include <array>

#include "caseloop/config.h"

namespace caseloop {
namespace {

struct UnitRow {
  const char* id;
  const char* name;
};

// 问题处置责任单位 of the seed document (section 二(三)).
constexpr UnitRow kUnits[] = {
    {"POLICE", "公安局"},
    {"CIVIL", "民政局"},
    {"PLANNING", "规划建设局"},
    {"TRANSPORT", "交通局"},
    {"ENV", "环保局"},
    {"ENFORCE", "城管执法局"},
    {"CITY_INVEST", "公投集团"},
    {"BROADCAST", "广电台"},
    {"COMMERCE", "工商局"},
    {"POWER", "供电局"},
    {"TELECOM", "电信局"},
    {"POST", "邮政局"},
    {"MOBILE", "移动公司"},
    {"UNICOM", "联通公司"},
    {"WATER", "水务局"},
    {"ST_XIHU", "西湖街道"},
    {"ST_JIANLANLU", "建兰路街道"},
    {"ST_XIYUAN", "西园街道"},
    {"ST_XIZHAN", "西站街道"},
    {"ST_DUNHUANGLU", "敦煌路街道"},
    {"ST_GONGJIAWAN", "龚家湾街道"},
    {"ST_YANJIAPING", "晏家坪街道"},
    {"ST_XIUCHUAN", "秀川街道"},
};

// County 620102 + a 3-digit street code: the 9-digit prefix of every grid
// (单元网格) of the street.
struct StreetRow {
  const char* unit;
  const char* grid_prefix;
};
constexpr StreetRow kStreets[] = {
    {"ST_XIHU", "620102001"},       {"ST_JIANLANLU", "620102002"},  {"ST_XIYUAN", "620102003"},
    {"ST_XIZHAN", "620102004"},     {"ST_DUNHUANGLU", "620102005"}, {"ST_GONGJIAWAN", "620102006"},
    {"ST_YANJIAPING", "620102007"}, {"ST_XIUCHUAN", "620102008"},
};

// kLocal: routed to the street office of the grid (per-street prefix rules);
// `unit` (when set) is the grid-less fallback rule (prefix "").
// kTie: the owner cannot be told from the category (a telecom cover may
// belong to any of three carriers): equally specific rules, so the case
// waits in coordination until the dispatcher names the unit.
enum class RouteKind { kOwner, kLocal, kTie };

struct CategoryRow {
  CaseKind kind;
  const char* code;
  const char* name;
  TimeLimit limit;
  std::optional<TimeLimit> emergency;
  RouteKind route;
  const char* unit;  // owner, or fallback for kLocal (nullptr: none)
};

constexpr CaseKind C = CaseKind::kComponent;
constexpr CaseKind E = CaseKind::kEvent;
const TimeLimit wh4 = TimeLimit::WorkingHours(4);
const TimeLimit wd1 = TimeLimit::WorkingDays(1);
const TimeLimit wd2 = TimeLimit::WorkingDays(2);
const TimeLimit wd3 = TimeLimit::WorkingDays(3);
const TimeLimit wd5 = TimeLimit::WorkingDays(5);
const TimeLimit h1 = TimeLimit::NaturalHours(1);
const TimeLimit h2 = TimeLimit::NaturalHours(2);
const TimeLimit h4 = TimeLimit::NaturalHours(4);
constexpr RouteKind O = RouteKind::kOwner;
constexpr RouteKind L = RouteKind::kLocal;
constexpr RouteKind T = RouteKind::kTie;

const CategoryRow kCategories[] = {
    // Components (部件): by owner (部件先属主后属地).
    // 01 公用设施 public utilities
    {C, "0101", "上水井盖", wh4, h2, O, "WATER"},
    {C, "0102", "污水井盖", wh4, h2, O, "WATER"},
    {C, "0103", "雨水井盖", wh4, h2, O, "PLANNING"},
    {C, "0104", "雨水箅子", wd1, {}, O, "PLANNING"},
    {C, "0105", "电力井盖", wh4, h2, O, "POWER"},
    {C, "0106", "通讯井盖", wh4, h2, T, nullptr},
    {C, "0107", "公安井盖", wh4, h2, O, "POLICE"},
    {C, "0108", "电视井盖", wh4, h2, O, "BROADCAST"},
    {C, "0109", "消防栓", wd1, h2, O, "WATER"},
    {C, "0110", "电力设施", wd2, h2, O, "POWER"},
    {C, "0111", "邮筒", wd3, {}, O, "POST"},
    {C, "0112", "通讯交接箱", wd2, {}, T, nullptr},
    // 02 道路交通 road traffic
    {C, "0201", "交通信号灯", wh4, h1, O, "POLICE"},
    {C, "0202", "交通护栏", wd2, {}, O, "POLICE"},
    {C, "0203", "交通标志牌", wd2, {}, O, "POLICE"},
    {C, "0204", "公交候车亭", wd3, {}, O, "TRANSPORT"},
    {C, "0205", "公交站牌", wd3, {}, O, "TRANSPORT"},
    {C, "0206", "路名牌", wd5, {}, O, "CIVIL"},
    {C, "0207", "跨河桥", wd3, h4, O, "PLANNING"},
    {C, "0208", "公共停车场", wd3, {}, O, "POLICE"},
    // 03 市容环境 city appearance
    {C, "0301", "路灯", wd3, {}, O, "POWER"},
    {C, "0302", "门牌", wd5, {}, O, "CIVIL"},
    {C, "0303", "噪音显示屏", wd3, {}, O, "ENV"},
    {C, "0304", "街头座椅", wd3, {}, O, "PLANNING"},
    {C, "0305", "果皮箱", wd1, {}, L, nullptr},
    {C, "0306", "报刊亭", wd3, {}, O, "POST"},
    // 04 园林绿化 landscaping
    {C, "0401", "古树名木", wd1, h4, O, "PLANNING"},
    {C, "0402", "行道树", wd2, h4, O, "PLANNING"},
    {C, "0403", "护树设施", wd3, {}, O, "PLANNING"},
    {C, "0404", "花架花钵", wd3, {}, O, "PLANNING"},
    {C, "0405", "雕塑", wd5, {}, O, "PLANNING"},
    {C, "0406", "喷泉", wd3, {}, O, "PLANNING"},
    // 05 房屋土地 buildings and land
    {C, "0501", "治安岗亭", wd3, {}, O, "POLICE"},
    {C, "0502", "电话亭", wd3, {}, O, "TELECOM"},
    {C, "0503", "信息亭", wd3, {}, O, "POST"},
    // 06 其他设施 other
    {C, "0601", "公安监控探头", wd2, {}, O, "POLICE"},
    {C, "0602", "有线电视立杆", wd3, {}, O, "BROADCAST"},
    {C, "0603", "通讯立杆", wd3, {}, T, nullptr},
    {C, "0604", "水域护栏", wd3, h4, O, "CITY_INVEST"},

    // Events (事件): by locality (事件先属地后属主).
    // 01 市容环境 city appearance
    {E, "0101", "私搭乱建", wd5, {}, L, "ENFORCE"},
    {E, "0102", "暴露垃圾", wh4, {}, L, nullptr},
    {E, "0103", "积存垃圾渣土", wd1, {}, L, "ENFORCE"},
    {E, "0104", "道路不洁", wh4, {}, L, nullptr},
    {E, "0105", "水域不洁", wd1, {}, L, "CITY_INVEST"},
    {E, "0106", "绿地脏乱", wd1, {}, L, nullptr},
    // 02 宣传广告 advertising
    {E, "0201", "违法户外广告", wd3, {}, O, "ENFORCE"},
    {E, "0202", "非法小广告", wd1, {}, L, "ENFORCE"},
    {E, "0203", "占道广告牌", wd1, {}, L, "ENFORCE"},
    {E, "0204", "悬挂横幅", wd1, {}, L, nullptr},
    // 03 施工管理 construction
    {E, "0301", "施工扰民", wd1, h2, O, "ENFORCE"},
    {E, "0302", "工地出入口不洁", wd1, {}, O, "PLANNING"},
    {E, "0303", "道路遗撒", wh4, h2, O, "ENFORCE"},
    {E, "0304", "无证掘路", wd1, h4, O, "PLANNING"},
    // 04 突发事件 emergencies (emergency limits in natural hours)
    {E, "0401", "路面塌陷", wd1, h2, O, "PLANNING"},
    {E, "0402", "自来水管破裂", wh4, h2, O, "WATER"},
    {E, "0403", "污水冒溢", wh4, h2, O, "WATER"},
    {E, "0404", "道路积水", wh4, h2, L, "PLANNING"},
    {E, "0405", "环境污染", wd1, h4, O, "ENV"},
    {E, "0406", "消防隐患", wh4, h1, O, "POLICE"},
    // 05 街面秩序 street order
    {E, "0501", "无证经营摊点", wd1, {}, L, "ENFORCE"},
    {E, "0502", "越门经营", wd1, {}, O, "ENFORCE"},
    {E, "0503", "占道停车", wh4, {}, O, "POLICE"},
    {E, "0504", "人行道违章停车", wh4, {}, O, "ENFORCE"},
    {E, "0505", "流浪乞讨", wd1, h4, O, "CIVIL"},
    {E, "0506", "无照经营", wd3, {}, O, "COMMERCE"},
    {E, "0507", "废品收购占道", wd2, {}, O, "COMMERCE"},
};

constexpr const char* kTieCarriers[] = {"TELECOM", "MOBILE", "UNICOM"};

struct InspectorRow {
  const char* id;
  const char* grid_prefix;
};
constexpr InspectorRow kInspectors[] = {
    {"I1", "620102001"}, {"I2", "620102002"}, {"I3", "620102003"},
    {"I4", "620102004"}, {"I5", "620102"},  // I5 patrols the whole county
};

}  // namespace

std::vector<ConfigChange> DefaultConfigChanges() {
  std::vector<ConfigChange> out;
  auto add = [&out](ConfigChangeType t) -> ConfigChange& {
    out.emplace_back();
    out.back().type = t;
    return out.back();
  };
  add(ConfigChangeType::kSetCalendar).calendar = Calendar{};
  for (const UnitRow& u : kUnits) add(ConfigChangeType::kDefineUnit).unit = {u.id, u.name};
  for (const InspectorRow& i : kInspectors) {
    add(ConfigChangeType::kDefineInspector).inspector = {i.id, i.grid_prefix};
  }
  add(ConfigChangeType::kDefineStaff).staff = {"R1", {Role::kReceiver}};
  add(ConfigChangeType::kDefineStaff).staff = {"L1", {Role::kShiftLeader}};
  add(ConfigChangeType::kDefineStaff).staff = {"D1", {Role::kDispatcher}};
  add(ConfigChangeType::kDefineStaff).staff = {"S1", {Role::kSupervisor}};
  for (const CategoryRow& c : kCategories) {
    CategoryInfo info;
    info.kind = c.kind;
    info.code = c.code;
    info.name = c.name;
    info.limit = c.limit;
    info.emergency_limit = c.emergency;
    add(ConfigChangeType::kDefineCategory).category = info;
  }
  for (const CategoryRow& c : kCategories) {
    auto route = [&](const char* unit, const char* prefix) {
      add(ConfigChangeType::kDefineRoute).route = {c.kind, c.code, unit, prefix};
    };
    switch (c.route) {
      case RouteKind::kOwner:
        route(c.unit, "");
        break;
      case RouteKind::kLocal:
        for (const StreetRow& s : kStreets) route(s.unit, s.grid_prefix);
        if (c.unit != nullptr) route(c.unit, "");
        break;
      case RouteKind::kTie:
        for (const char* carrier : kTieCarriers) route(carrier, "");
        break;
    }
  }
  add(ConfigChangeType::kSetWeights).weights = Weights{};
  add(ConfigChangeType::kSetPolicy).policy = Policy{};
  return out;
}

}  // namespace caseloop
