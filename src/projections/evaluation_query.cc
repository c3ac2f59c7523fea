#include "projections/evaluation_query.h"

#include <algorithm>
#include <string>

namespace caseloop::projections {

Result<Window> WindowOf(const PeriodQuery& q) {
  if (q.to < q.from) {
    return Status::InvalidArgument("period query: 'to' (" + std::to_string(MicrosOf(q.to)) +
                                   " µs) is before 'from' (" + std::to_string(MicrosOf(q.from)) + " µs)");
  }
  Window w;
  w.from = q.from;
  w.at = q.at.value_or(q.to);
  w.end = std::min(q.to, w.at + Micros(1));
  return w;
}

std::optional<double> Ratio(std::int64_t n, std::int64_t d) {
  if (d == 0) return std::nullopt;
  return static_cast<double>(n) / static_cast<double>(d);
}

std::pair<std::int64_t, std::int64_t> WholeDays(const DayGrid& grid, std::int64_t from_us,
                                                std::int64_t end_us) {
  std::int64_t first = grid.DayOf(from_us);
  if (grid.DayStart(first) < from_us) ++first;
  return {first, grid.DayOf(end_us)};
}

}  // namespace caseloop::projections
