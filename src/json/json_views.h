// The JSON builders behind caseloop/json.h that build an nlohmann value
// (private to src/json: nlohmann stays out of the installed headers). Keys
// appear in exactly the documented order (docs/cli.md), so every builder
// returns an nlohmann::ordered_json.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_JSON_JSON_VIEWS_H_
#define CASELOOP_JSON_JSON_VIEWS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "caseloop/json.h"
#include "caseloop/queries.h"

namespace caseloop::json {

using Json = nlohmann::ordered_json;

// `x` rounded to `decimals` places; null when absent.
Json RoundedOrNull(const std::optional<double>& x, int decimals);

// rates: {"unit", the kUnitMetrics keys in table order (counts as integers,
// rates to 4 decimals), "score" (2 decimals), "grade" "A".."E"}; nulls as documented.
Json UnitRatesJson(const UnitRates& r);
Json InspectorRatesJson(const InspectorRates& r);
Json CentreJson(const CentreFigures& c);

// One line of output: compact, invalid UTF-8 replaced (never throws).
std::string Dump(const Json& j);

// Hands the members of the flat object `j` to `out` (nested values other than
// arrays of strings are written as their JSON text).
void WriteObject(const Json& j, ObjectWriter& out);

// An ObjectWriter that builds a flat JSON object, times as text at
// `offset_minutes`; a key written twice keeps its first value.
class JsonWriter final : public ObjectWriter {
 public:
  explicit JsonWriter(int offset_minutes) : offset_minutes_(offset_minutes) {}
  void Null(std::string_view key) override { Put(key, nullptr); }
  void Bool(std::string_view key, bool value) override { Put(key, value); }
  void Int(std::string_view key, std::int64_t value) override { Put(key, value); }
  void UInt(std::string_view key, std::uint64_t value) override { Put(key, value); }
  void Double(std::string_view key, double value) override { Put(key, value); }
  void String(std::string_view key, std::string_view value) override { Put(key, std::string(value)); }
  void Time(std::string_view key, Instant value) override;
  void Strings(std::string_view key, const std::vector<std::string>& values) override { Put(key, values); }

  const Json& json() const { return j_; }

 private:
  void Put(std::string_view key, Json value) {
    std::string k(key);
    if (!j_.contains(k)) j_[k] = std::move(value);
  }

  int offset_minutes_;
  Json j_ = Json::object();
};

}  // namespace caseloop::json

#endif  // CASELOOP_JSON_JSON_VIEWS_H_
