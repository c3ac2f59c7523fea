#include "json/json_views.h"

#include <cmath>
#include <string>

#include "caseloop/case_types.h"
#include "caseloop/time.h"
#include "caseloop/unit_metrics.h"

namespace caseloop::json {
namespace {

double Round(double x, int decimals) {
  const double scale = std::pow(10.0, decimals);
  double r = std::round(x * scale) / scale;
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

}  // namespace

Json RoundedOrNull(const std::optional<double>& x, int decimals) {
  if (!x || !std::isfinite(*x)) return nullptr;
  return Round(*x, decimals);
}

Json UnitRatesJson(const UnitRates& r) {
  Json j;
  j["unit"] = r.unit;
  j["unit_name"] = r.unit_name;
  // The figures of the metric table, in its order: counts, then rates.
  for (const UnitMetric& m : kUnitMetrics) {
    const std::string key(m.key);
    if (m.kind == UnitMetric::Kind::kCount) {
      j[key] = r.*m.count;
    } else {
      j[key] = RoundedOrNull(r.*m.rate, 4);
    }
  }
  j["score"] = RoundedOrNull(r.score, 2);
  j["grade"] = r.grade ? Json(std::string(1, *r.grade)) : Json(nullptr);
  return j;
}

Json InspectorRatesJson(const InspectorRates& r) {
  Json j;
  j["inspector"] = r.inspector;
  j["reports"] = r.reports;
  j["valid"] = r.valid;
  j["valid_rate"] = RoundedOrNull(r.valid_rate, 4);
  j["verifications"] = r.verifications;
  j["verified_on_time"] = r.verified_on_time;
  j["verification_on_time_rate"] = RoundedOrNull(r.verification_on_time_rate, 4);
  return j;
}

Json CentreJson(const CentreFigures& c) {
  Json j;
  j["received"] = c.received;
  j["registered"] = c.registered;
  j["rejected"] = c.rejected;
  j["voided"] = c.voided;
  j["closed"] = c.closed;
  j["closed_on_time"] = c.closed_on_time;
  return j;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace caseloop::json
