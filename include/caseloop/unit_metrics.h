// caseloop/unit_metrics.h — the figures of a unit's evaluation (UnitRates,
// domain.md §7) as one table: the JSON key of each, its labels in reports,
// how it is derived from the counts, and its weight in the composite score.
// The rates JSON (CLI, scripts, Python), the HTML report's ranking, the score
// (ScoreUnit), the configuration's weights (validation, payload, the Python
// `weights()` defaults) and the generated table in docs/projections.md all
// read kUnitMetrics.
//
// Adding a unit figure: the count is defined once, in the evaluation
// projection (src/projections/timeline.h: a UnitCounts slot and its rule in
// ContributionOf, with the UnitRates field it fills); a UnitRates field holds
// each new figure; one row here says how it is shown and, with a weight, how
// it is scored (the weight itself is a field of Weights, config.h).
//
// Thread-safety: constant data.
#ifndef CASELOOP_UNIT_METRICS_H_
#define CASELOOP_UNIT_METRICS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "caseloop/config.h"
#include "caseloop/queries.h"

namespace caseloop {

struct UnitMetric {
  enum class Kind : std::uint8_t {
    kCount,  // an integer: `count`, from the projection or minuend − subtrahend
    kRate,   // a fraction: `rate` = numerator / denominator, null when the denominator is 0
  };
  Kind kind = Kind::kCount;
  std::string_view key{};    // JSON and Python key, in output order: "on_time_rate"
  std::string_view label{};  // report column, English: "on-time"
  std::string_view term{};   // report column, Chinese: "按期处置率"

  std::int64_t UnitRates::*count = nullptr;
  // A count derived from two others (late = handled − on_time); both null
  // for a count the projection gives.
  std::int64_t UnitRates::*minuend = nullptr;
  std::int64_t UnitRates::*subtrahend = nullptr;

  std::optional<double> UnitRates::*rate = nullptr;
  std::int64_t UnitRates::*numerator = nullptr;
  std::int64_t UnitRates::*denominator = nullptr;
  std::string_view name{};  // a rate in prose: "on-time rate"

  // In the composite score: weight × rate, or weight × (1 − rate) when
  // `inverted` (a null rate then counts as 0). Null: not in the score.
  double Weights::*weight = nullptr;
  std::string_view weight_key{};  // the `weights` setup key and Python keyword: "on_time"
  bool inverted = false;
};

// The figures in output order: counts, then rates. Derived counts follow the
// counts they are derived from. The weighted rows, in order, are the score's
// terms and the layout of a weights_set payload (config.h): append, never
// reorder a weighted row.
inline constexpr UnitMetric kUnitMetrics[] = {
    {.kind = UnitMetric::Kind::kCount,
     .key = "due",
     .label = "due",
     .term = "应处置",
     .count = &UnitRates::due},
    {.kind = UnitMetric::Kind::kCount,
     .key = "handled",
     .label = "handled",
     .term = "处置",
     .count = &UnitRates::handled},
    {.kind = UnitMetric::Kind::kCount,
     .key = "on_time",
     .label = "on time",
     .term = "按期",
     .count = &UnitRates::on_time},
    {.kind = UnitMetric::Kind::kCount,
     .key = "late",
     .label = "late",
     .term = "超期",
     .count = &UnitRates::late,
     .minuend = &UnitRates::handled,
     .subtrahend = &UnitRates::on_time},
    {.kind = UnitMetric::Kind::kCount,
     .key = "overdue_open",
     .label = "overdue open",
     .term = "超期未处置",
     .count = &UnitRates::overdue_open,
     .minuend = &UnitRates::due,
     .subtrahend = &UnitRates::handled},
    {.kind = UnitMetric::Kind::kCount,
     .key = "reworked",
     .label = "reworked",
     .term = "返工",
     .count = &UnitRates::reworked},
    {.kind = UnitMetric::Kind::kCount,
     .key = "extended",
     .label = "extended",
     .term = "延期",
     .count = &UnitRates::extended},
    {.kind = UnitMetric::Kind::kRate,
     .key = "handling_rate",
     .label = "handling",
     .term = "处置率",
     .rate = &UnitRates::handling_rate,
     .numerator = &UnitRates::handled,
     .denominator = &UnitRates::due,
     .name = "handling rate",
     .weight = &Weights::handling,
     .weight_key = "handling"},
    {.kind = UnitMetric::Kind::kRate,
     .key = "on_time_rate",
     .label = "on-time",
     .term = "按期处置率",
     .rate = &UnitRates::on_time_rate,
     .numerator = &UnitRates::on_time,
     .denominator = &UnitRates::due,
     .name = "on-time rate",
     .weight = &Weights::on_time,
     .weight_key = "on_time"},
    {.kind = UnitMetric::Kind::kRate,
     .key = "rework_rate",
     .label = "rework",
     .term = "返工率",
     .rate = &UnitRates::rework_rate,
     .numerator = &UnitRates::reworked,
     .denominator = &UnitRates::handled,
     .name = "rework rate",
     .weight = &Weights::rework,
     .weight_key = "rework",
     .inverted = true},
    {.kind = UnitMetric::Kind::kRate,
     .key = "overdue_open_rate",
     .label = "overdue",
     .term = "超期未处置率",
     .rate = &UnitRates::overdue_open_rate,
     .numerator = &UnitRates::overdue_open,
     .denominator = &UnitRates::due,
     .name = "overdue-open rate",
     .weight = &Weights::overdue,
     .weight_key = "overdue",
     .inverted = true},
    {.kind = UnitMetric::Kind::kRate,
     .key = "extension_rate",
     .label = "extension",
     .term = "延期率",
     .rate = &UnitRates::extension_rate,
     .numerator = &UnitRates::extended,
     .denominator = &UnitRates::due,
     .name = "extension rate",
     .weight = &Weights::extension,
     .weight_key = "extension",
     .inverted = true},
};

// The row whose weight_key is `key`; null when none.
constexpr const UnitMetric* FindWeightedMetric(std::string_view key) {
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight != nullptr && m.weight_key == key) return &m;
  }
  return nullptr;
}

}  // namespace caseloop

#endif  // CASELOOP_UNIT_METRICS_H_
