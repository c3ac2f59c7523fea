// The unit metric table (caseloop/unit_metrics.h): it covers every figure of
// UnitRates once, the score it drives is the formula of domain.md §7 to the
// last bit, and the docs that list its figures agree with it.
// docs/projections.md carries the generated table; to regenerate it:
//   CASELOOP_UPDATE_DOCS=1 ./build/bin/projections_test -tc='*metric table*docs*'
#include "caseloop/unit_metrics.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "projections/timeline.h"
#include "projections/unit_figures.h"

namespace caseloop {
namespace {

std::string KeyOfCount(std::int64_t UnitRates::*field) {
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.kind == UnitMetric::Kind::kCount && m.count == field) return std::string(m.key);
  }
  return "?";
}

// Member pointers compare for equality only: small sets as vectors.
template <typename T>
bool AddUnique(std::vector<T>& v, T x) {
  if (std::find(v.begin(), v.end(), x) != v.end()) return false;
  v.push_back(x);
  return true;
}
template <typename T>
bool Has(const std::vector<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
template <typename T>
bool SameMembers(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (const T& x : a) {
    if (!Has(b, x)) return false;
  }
  return true;
}

std::string Num(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

// The table as markdown, for docs/projections.md.
std::string MetricsMarkdown() {
  const Weights defaults;
  std::string out =
      "| key | kind | report column | definition | in the score |\n"
      "|---|---|---|---|---|\n";
  for (const UnitMetric& m : kUnitMetrics) {
    std::string definition, score = "—";
    if (m.kind == UnitMetric::Kind::kCount) {
      definition = m.minuend != nullptr
                       ? "`" + KeyOfCount(m.minuend) + "` − `" + KeyOfCount(m.subtrahend) + "`"
                       : "counted by the evaluation projection";
    } else {
      const std::string den = KeyOfCount(m.denominator);
      definition = "`" + KeyOfCount(m.numerator) + "` / `" + den + "` (null when `" + den + "` = 0)";
    }
    if (m.weight != nullptr) {
      score = "`" + std::string(m.weight_key) + "` (default " + Num(defaults.*m.weight) + ") × " +
              (m.inverted ? "(1 − rate), a null rate as 0" : "rate");
    }
    out += "| `" + std::string(m.key) + "` | " + (m.kind == UnitMetric::Kind::kCount ? "count" : "rate") +
           " | " + std::string(m.label) + " " + std::string(m.term) + " | " + definition + " | " + score +
           " |\n";
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

constexpr char kBegin[] = "<!-- BEGIN GENERATED: kUnitMetrics (tests/projections/unit_metrics_test.cc) -->\n";
constexpr char kEnd[] = "<!-- END GENERATED -->";

TEST_CASE("metric table: docs/projections.md holds the generated table") {
  const std::string path = std::string(CASELOOP_SOURCE_DIR) + "/docs/projections.md";
  std::string text = ReadFile(path);
  const std::size_t begin = text.find(kBegin);
  REQUIRE_MESSAGE(begin != std::string::npos, path, " lacks the marker line ", kBegin);
  const std::size_t from = begin + sizeof(kBegin) - 1;
  const std::size_t end = text.find(kEnd, from);
  REQUIRE_MESSAGE(end != std::string::npos, path, " lacks the end marker ", kEnd);
  const std::string current = text.substr(from, end - from);
  const std::string wanted = MetricsMarkdown();
  const char* update = std::getenv("CASELOOP_UPDATE_DOCS");
  if (update != nullptr && std::string(update) == "1" && current != wanted) {
    text.replace(from, end - from, wanted);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE_MESSAGE(out.good(), "cannot write ", path);
    MESSAGE("rewrote the table in ", path);
    return;
  }
  CHECK_MESSAGE(current == wanted, path,
                " is out of date with kUnitMetrics; regenerate it with\n"
                "  CASELOOP_UPDATE_DOCS=1 <build>/bin/projections_test -tc='*metric table*docs*'\n"
                "Expected between the markers:\n",
                wanted);
}

TEST_CASE("metric table: docs/cli.md lists the rates keys and the weights in table order") {
  const std::string cli = ReadFile(std::string(CASELOOP_SOURCE_DIR) + "/docs/cli.md");
  std::string keys = "{\"unit\",\"unit_name\"";
  std::string weights = "`weights";
  const Weights defaults;
  for (const UnitMetric& m : kUnitMetrics) {
    keys += ",\"" + std::string(m.key) + "\"";
    if (m.weight != nullptr)
      weights += " [" + std::string(m.weight_key) + "=" + Num(defaults.*m.weight) + "]";
  }
  keys += ",\"score\",\"grade\"}";
  weights += "`";
  CHECK_MESSAGE(cli.find(keys) != std::string::npos, "docs/cli.md should list the rates keys as ", keys);
  CHECK_MESSAGE(cli.find(weights) != std::string::npos, "docs/cli.md should show the weights line as ",
                weights);
}

TEST_CASE("metric table: every figure of UnitRates once, in a consistent order") {
  std::set<std::string> keys, weight_keys;
  std::vector<std::int64_t UnitRates::*> counts_seen;
  std::vector<std::optional<double> UnitRates::*> rates_seen;
  std::vector<double Weights::*> weights_seen;
  double default_sum = 0;
  const Weights defaults;
  for (const UnitMetric& m : kUnitMetrics) {
    CAPTURE(std::string(m.key));
    CHECK(keys.insert(std::string(m.key)).second);
    CHECK(!m.label.empty());
    CHECK(!m.term.empty());
    if (m.kind == UnitMetric::Kind::kCount) {
      REQUIRE(m.count != nullptr);
      CHECK(m.rate == nullptr);
      CHECK(rates_seen.empty());  // counts first
      CHECK(AddUnique(counts_seen, m.count));
      CHECK((m.minuend == nullptr) == (m.subtrahend == nullptr));
      if (m.minuend != nullptr) {
        CHECK(Has(counts_seen, m.minuend));  // operands come first
        CHECK(Has(counts_seen, m.subtrahend));
      }
    } else {
      REQUIRE(m.rate != nullptr);
      CHECK(m.count == nullptr);
      CHECK(AddUnique(rates_seen, m.rate));
      CHECK(Has(counts_seen, m.numerator));
      CHECK(Has(counts_seen, m.denominator));
      CHECK(!m.name.empty());
    }
    if (m.weight != nullptr) {
      CHECK(m.kind == UnitMetric::Kind::kRate);
      CHECK(weight_keys.insert(std::string(m.weight_key)).second);
      CHECK(AddUnique(weights_seen, m.weight));
      CHECK(FindWeightedMetric(m.weight_key) == &m);
      default_sum += defaults.*m.weight;
    }
  }
  // Every field of UnitRates but unit, score and grade.
  CHECK(SameMembers(counts_seen, {&UnitRates::due, &UnitRates::handled, &UnitRates::on_time, &UnitRates::late,
                                  &UnitRates::overdue_open, &UnitRates::reworked, &UnitRates::extended}));
  CHECK(SameMembers(rates_seen, {&UnitRates::handling_rate, &UnitRates::on_time_rate, &UnitRates::rework_rate,
                                 &UnitRates::overdue_open_rate, &UnitRates::extension_rate}));
  // Every field of Weights; the defaults are §7's 30/20/20/20/10.
  CHECK(SameMembers(weights_seen, {&Weights::handling, &Weights::on_time, &Weights::rework, &Weights::overdue,
                                   &Weights::extension}));
  CHECK(default_sum == 100);
  CHECK(FindWeightedMetric("due") == nullptr);
  // The counts the projection gives are the table's counts that are not derived.
  std::vector<std::int64_t UnitRates::*> counted(projections::kCountFields.begin(),
                                                 projections::kCountFields.end());
  std::vector<std::int64_t UnitRates::*> underived;
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.kind == UnitMetric::Kind::kCount && m.minuend == nullptr) underived.push_back(m.count);
  }
  CHECK(SameMembers(counted, underived));
}

TEST_CASE("metric table: a weights_set payload is one double per weighted row, in table order") {
  ConfigChange c;
  c.type = ConfigChangeType::kSetWeights;
  double v = 1.5;
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight != nullptr) c.weights.*m.weight = (v += 1);
  }
  const std::string payload = EncodeConfigChange(c);
  CHECK(payload.size() == 2 + 8 * 5);  // the archive's byte-order flag, the type, the five weights
  auto back = DecodeConfigChange(payload, 1);
  REQUIRE(back.ok());
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight != nullptr) CHECK(back->weights.*m.weight == c.weights.*m.weight);
  }
  // The first five are in every payload: a shorter one is damage, and so is a longer one.
  CHECK(DecodeConfigChange(payload.substr(0, payload.size() - 8), 1).status().IsCorruption());
  CHECK(DecodeConfigChange(payload + std::string(8, '\0'), 1).status().IsCorruption());
}

// domain.md §7 written out: the reference the table-driven ScoreUnit must
// match bit for bit (it is the code ScoreUnit replaced).
UnitRates ScoreBySpec(UnitRates r, const Weights& w) {
  auto ratio = [](std::int64_t n, std::int64_t d) -> std::optional<double> {
    if (d == 0) return std::nullopt;
    return static_cast<double>(n) / static_cast<double>(d);
  };
  r.late = r.handled - r.on_time;
  r.overdue_open = r.due - r.handled;
  r.handling_rate = ratio(r.handled, r.due);
  r.on_time_rate = ratio(r.on_time, r.due);
  r.rework_rate = ratio(r.reworked, r.handled);
  r.overdue_open_rate = ratio(r.overdue_open, r.due);
  r.extension_rate = ratio(r.extended, r.due);
  r.score.reset();
  r.grade.reset();
  const double total = w.handling + w.on_time + w.rework + w.overdue + w.extension;
  if (r.due == 0 || !(total > 0)) return r;
  double sum = *r.handling_rate * w.handling + *r.on_time_rate * w.on_time +
               (1 - r.rework_rate.value_or(0)) * w.rework + (1 - *r.overdue_open_rate) * w.overdue +
               (1 - *r.extension_rate) * w.extension;
  double score = sum * (100.0 / total);
  r.score = std::round(score * 100.0) / 100.0;
  r.grade = GradeOf(*r.score);
  return r;
}

TEST_CASE("metric table: ScoreUnit gives §7's formula exactly, for any counts and weights") {
  std::uint64_t s = 20251204;
  auto next = [&s](std::uint64_t n) {  // splitmix64 mod n
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) % n;
  };
  int scored = 0;
  for (int i = 0; i < 20000; ++i) {
    UnitRates r;
    r.due = static_cast<std::int64_t>(next(i % 3 == 0 ? 4 : 5000));
    r.handled = r.due == 0 ? 0 : static_cast<std::int64_t>(next(static_cast<std::uint64_t>(r.due) + 1));
    r.on_time = static_cast<std::int64_t>(next(static_cast<std::uint64_t>(r.handled) + 1));
    r.reworked = static_cast<std::int64_t>(next(static_cast<std::uint64_t>(r.handled) + 1));
    r.extended = static_cast<std::int64_t>(next(static_cast<std::uint64_t>(r.due) + 1));
    Weights w;
    if (i % 2 == 1) {
      for (double* x : {&w.handling, &w.on_time, &w.rework, &w.overdue, &w.extension}) {
        *x = i % 4 == 1 ? static_cast<double>(next(50)) : static_cast<double>(next(1000000)) / 997.0;
      }
    }
    UnitRates got = r;
    projections::ScoreUnit(got, w);
    const UnitRates want = ScoreBySpec(r, w);
    CAPTURE(i);
    CHECK(got.late == want.late);
    CHECK(got.overdue_open == want.overdue_open);
    CHECK(got.handling_rate == want.handling_rate);
    CHECK(got.on_time_rate == want.on_time_rate);
    CHECK(got.rework_rate == want.rework_rate);
    CHECK(got.overdue_open_rate == want.overdue_open_rate);
    CHECK(got.extension_rate == want.extension_rate);
    CHECK(got.score == want.score);
    CHECK(got.grade == want.grade);
    scored += want.score.has_value();
  }
  CHECK(scored > 10000);
}

}  // namespace
}  // namespace caseloop
