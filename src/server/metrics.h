// The server's counters, printed in the Prometheus text format (0.0.4) by
// /metrics. Written by hand rather than with prometheus-cpp: a handful of
// counters and one histogram take less code than the library's registry, and
// its pull exposer would bring a second HTTP server (civetweb) next to Beast.
#ifndef CASELOOP_SERVER_METRICS_H_
#define CASELOOP_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace caseloop::server {

// Thread-safety: thread-safe.
class Metrics {
 public:
  // Bucket upper bounds of the command latency histogram, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                      0.05,   0.1,   0.2,   0.5,   1,    2.5};

  void CountRequest(const std::string& route, int status) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{route, status}];
  }
  void ObserveCommand(std::chrono::nanoseconds latency) {
    const double s = std::chrono::duration<double>(latency).count();
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      if (s <= kBuckets[i]) ++buckets_[i];
    }
    ++count_;
    sum_ += s;
  }
  // A command the engine refused or could not make durable (the histogram
  // holds the acknowledged ones).
  void CountCommandFailure() {
    std::lock_guard<std::mutex> lock(mu_);
    ++failed_;
  }
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::int64_t> subscribers{0};

  // The server's part of /metrics.
  std::string Text() const {
    std::string out;
    std::lock_guard<std::mutex> lock(mu_);
    out += "# HELP caseloop_http_requests_total HTTP requests answered, by route pattern and status.\n";
    out += "# TYPE caseloop_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out += "caseloop_http_requests_total{route=\"" + key.first + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP caseloop_command_seconds Time from a command's request to its durable acknowledgment.\n";
    out += "# TYPE caseloop_command_seconds histogram\n";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "caseloop_command_seconds_bucket{le=\"" + Num(kBuckets[i]) + "\"} " +
             std::to_string(buckets_[i]) + "\n";
    }
    out += "caseloop_command_seconds_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
    out += "caseloop_command_seconds_sum " + Num(sum_) + "\n";
    out += "caseloop_command_seconds_count " + std::to_string(count_) + "\n";
    out += "# HELP caseloop_commands_failed_total Commands refused by the engine or not made durable.\n";
    out += "# TYPE caseloop_commands_failed_total counter\ncaseloop_commands_failed_total " +
           std::to_string(failed_) + "\n";
    out +=
        "# HELP caseloop_http_connections Open HTTP connections.\n# TYPE caseloop_http_connections gauge\n";
    out += "caseloop_http_connections " + std::to_string(connections.load()) + "\n";
    out += "# HELP caseloop_subscribers Open event streams.\n# TYPE caseloop_subscribers gauge\n";
    out += "caseloop_subscribers " + std::to_string(subscribers.load()) + "\n";
    return out;
  }

 private:
  static std::string Num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::array<std::uint64_t, kBuckets.size()> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t failed_ = 0;
  double sum_ = 0;
};

}  // namespace caseloop::server

#endif  // CASELOOP_SERVER_METRICS_H_
