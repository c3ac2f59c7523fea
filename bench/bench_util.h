// bench/bench_util.h — what every scenario of caseloop_bench shares: run
// options, result rows (printed as an aligned table and as JSON lines),
// latency statistics, temporary directories and timing.
//
// Thread-safety: Report is used by the scenario's own thread only; the other
// helpers are plain values or functions.
#ifndef CASELOOP_BENCH_BENCH_UTIL_H_
#define CASELOOP_BENCH_BENCH_UTIL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop::bench {

struct BenchOptions {
  // Small sizes and short runs: the ctest smoke pass (whole run < ~30 s).
  bool quick = false;
  // JSON lines on stdout (one object per row); the tables then go to stderr.
  bool json = false;
  // The program's own path (the memory scenario re-runs it as a child).
  std::string self;
};

// One result row. Every row carries scenario, durability, clients and
// events_per_s (null where no event rate applies); the rest is per scenario.
class Row {
 public:
  Row(std::string_view scenario, std::optional<Durability> durability, int clients);
  // Adds a field; fields print in the order added. A nullopt prints as null
  // (JSON) or "-" (table).
  Row& Set(std::string_view key, std::optional<double> value, int decimals = 0);
  Row& Set(std::string_view key, std::string_view value);
  Row& SetInt(std::string_view key, std::int64_t value);
  const nlohmann::ordered_json& json() const { return j_; }
  // Table cell texts, in field order (without "scenario").
  std::vector<std::pair<std::string, std::string>> Cells() const;

 private:
  nlohmann::ordered_json j_;
  std::map<std::string, int> decimals_;  // per floating-point field
};

// Collects a scenario's rows and prints them: JSON lines at once (with
// --json), the aligned table when the scenario ends (Finish).
class Report {
 public:
  Report(const BenchOptions& options, std::string scenario, std::string title);
  void Add(Row row);
  // A free-form note printed under the table (e.g. how the data was built).
  void Note(std::string text);
  // Prints the table. Returns the number of rows.
  std::size_t Finish();
  const std::vector<Row>& rows() const { return rows_; }

 private:
  const BenchOptions& options_;
  std::string scenario_;
  std::string title_;
  std::vector<Row> rows_;
  std::vector<std::string> notes_;
};

// Latency samples in nanoseconds.
class Latencies {
 public:
  void Reserve(std::size_t n) { ns_.reserve(n); }
  void Add(std::int64_t ns) { ns_.push_back(ns); }
  void Merge(const Latencies& other);
  std::size_t size() const { return ns_.size(); }
  // The q-quantile (0 < q <= 1) in microseconds, nearest rank; nullopt when
  // empty. Sorts the samples on first use after an Add.
  std::optional<double> QuantileUs(double q);

 private:
  std::vector<std::int64_t> ns_;
  bool sorted_ = false;
};

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// at destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string Sub(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

using SteadyClock = std::chrono::steady_clock;
inline std::int64_t NanosSince(SteadyClock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count();
}
inline double SecondsSince(SteadyClock::time_point t0) { return NanosSince(t0) / 1e9; }

// Rate per second, nullopt when no time passed.
inline std::optional<double> PerSecond(double count, double seconds) {
  if (seconds <= 0) return std::nullopt;
  return count / seconds;
}
// a / b, nullopt when either is missing or b is 0.
std::optional<double> Ratio(std::optional<double> a, std::optional<double> b);

// The 1-minute load average, or nullopt.
std::optional<double> LoadAverage();

// Peak and current resident set size of this process, in KiB (VmHWM, VmRSS
// of /proc/self/status); nullopt when unreadable.
std::optional<std::int64_t> PeakRssKib();
std::optional<std::int64_t> CurrentRssKib();
// Resets VmHWM to the current RSS (writes "5" to /proc/self/clear_refs), so
// that PeakRssKib() then measures the peak of one phase. False when refused.
bool ResetPeakRss();

// CPU time (user + system) of the whole process so far, in seconds.
double ProcessCpuSeconds();

// Status -> "what: message" for failures printed by the driver.
Status Annotate(const Status& s, std::string_view what);

}  // namespace caseloop::bench

#endif  // CASELOOP_BENCH_BENCH_UTIL_H_
