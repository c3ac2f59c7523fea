#include "bench_util.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace caseloop::bench {

// ---------------------------------------------------------------------------
// Row

Row::Row(std::string_view scenario, std::optional<Durability> durability, int clients) {
  j_["scenario"] = std::string(scenario);
  if (durability) {
    j_["durability"] = std::string(DurabilityName(*durability));
  } else {
    j_["durability"] = nullptr;
  }
  j_["clients"] = clients;
  j_["events_per_s"] = nullptr;
}

Row& Row::Set(std::string_view key, std::optional<double> value, int decimals) {
  std::string k(key);
  if (value && std::isfinite(*value)) {
    j_[k] = *value;
  } else {
    j_[k] = nullptr;
  }
  decimals_[k] = decimals;
  return *this;
}

Row& Row::Set(std::string_view key, std::string_view value) {
  j_[std::string(key)] = std::string(value);
  return *this;
}

Row& Row::SetInt(std::string_view key, std::int64_t value) {
  j_[std::string(key)] = value;
  return *this;
}

std::vector<std::pair<std::string, std::string>> Row::Cells() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (it.key() == "scenario") continue;
    auto d = decimals_.find(it.key());
    int decimals = d == decimals_.end() ? 0 : d->second;
    const auto& v = it.value();
    std::string text;
    if (v.is_null()) {
      text = "-";
    } else if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_number_integer() || v.is_number_unsigned()) {
      text = fmt::format("{}", v.get<std::int64_t>());
    } else if (v.is_number_float()) {
      text = fmt::format("{:.{}f}", v.get<double>(), decimals);
    } else {
      text = v.dump();
    }
    out.emplace_back(it.key(), std::move(text));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Report

Report::Report(const BenchOptions& options, std::string scenario, std::string title)
    : options_(options), scenario_(std::move(scenario)), title_(std::move(title)) {}

void Report::Add(Row row) {
  if (options_.json) {
    std::cout << row.json().dump() << std::endl;
  }
  rows_.push_back(std::move(row));
}

void Report::Note(std::string text) { notes_.push_back(std::move(text)); }

std::size_t Report::Finish() {
  std::ostream& out = options_.json ? std::cerr : std::cout;
  out << "\n== " << scenario_ << ": " << title_ << "\n";
  // Columns: the union of the rows' fields in first-seen order.
  std::vector<std::string> columns;
  std::vector<std::vector<std::pair<std::string, std::string>>> cells;
  for (const Row& r : rows_) {
    cells.push_back(r.Cells());
    for (const auto& [k, v] : cells.back()) {
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
    }
  }
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) width[c] = columns[c].size();
  auto cell = [&](std::size_t r, const std::string& col) -> std::string {
    for (const auto& [k, v] : cells[r])
      if (k == col) return v;
    return "";
  };
  for (std::size_t r = 0; r < cells.size(); ++r)
    for (std::size_t c = 0; c < columns.size(); ++c)
      width[c] = std::max(width[c], cell(r, columns[c]).size());
  std::string line;
  for (std::size_t c = 0; c < columns.size(); ++c) line += fmt::format("{:>{}}  ", columns[c], width[c]);
  out << line << "\n";
  for (std::size_t r = 0; r < cells.size(); ++r) {
    line.clear();
    for (std::size_t c = 0; c < columns.size(); ++c)
      line += fmt::format("{:>{}}  ", cell(r, columns[c]), width[c]);
    out << line << "\n";
  }
  for (const std::string& n : notes_) out << "  note: " << n << "\n";
  out.flush();
  return rows_.size();
}

// ---------------------------------------------------------------------------
// Latencies

void Latencies::Merge(const Latencies& other) {
  ns_.insert(ns_.end(), other.ns_.begin(), other.ns_.end());
  sorted_ = false;
}

std::optional<double> Latencies::QuantileUs(double q) {
  if (ns_.empty()) return std::nullopt;
  if (!sorted_) {
    std::sort(ns_.begin(), ns_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least q of the samples <= it.
  double rank = std::ceil(q * static_cast<double>(ns_.size()));
  std::size_t i = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  i = std::min(i, ns_.size() - 1);
  return static_cast<double>(ns_[i]) / 1000.0;
}

// ---------------------------------------------------------------------------
// TempDir

TempDir::TempDir(std::string_view tag) {
  static std::atomic<int> counter{0};
  const char* env = std::getenv("TMPDIR");
  std::filesystem::path base = env && *env ? std::filesystem::path(env) : std::filesystem::path("/tmp");
  std::random_device rd;
  path_ = base / fmt::format("caseloop-bench-{}-{}-{}-{:x}", tag, ::getpid(), counter++, rd());
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  std::filesystem::create_directories(path_, ec);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---------------------------------------------------------------------------
// Misc

std::optional<double> Ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a / *b;
}

std::optional<double> LoadAverage() {
  std::ifstream f("/proc/loadavg");
  double l = 0;
  if (f >> l) return l;
  return std::nullopt;
}

namespace {
std::optional<std::int64_t> StatusField(std::string_view name) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.compare(0, name.size(), name) == 0 && line.size() > name.size() && line[name.size()] == ':') {
      std::istringstream in(line.substr(name.size() + 1));
      std::int64_t kib = 0;
      if (in >> kib) return kib;
    }
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::int64_t> PeakRssKib() { return StatusField("VmHWM"); }
std::optional<std::int64_t> CurrentRssKib() { return StatusField("VmRSS"); }

bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

double ProcessCpuSeconds() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

Status Annotate(const Status& s, std::string_view what) {
  if (s.ok()) return s;
  return Status(s.code(), std::string(what) + ": " + s.message());
}

}  // namespace caseloop::bench
