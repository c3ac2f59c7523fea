// Small helpers shared by the domain translation units (not installed).
#ifndef CASELOOP_DOMAIN_DOMAIN_UTIL_H_
#define CASELOOP_DOMAIN_DOMAIN_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

inline constexpr std::size_t kGridDigits = 15;  // 单元网格: county 6 + street 3 + community 3 + grid 3
inline constexpr std::size_t kComponentDigits = 16;  // 部件标识码: county 6 + class 2 + subclass 2 + serial 6
inline constexpr std::size_t kMaxIdBytes = 64;

inline bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

inline bool IsCategoryCode(std::string_view s) { return s.size() == 4 && IsDigits(s); }

// An id of a unit, inspector, staff member or case: non-empty, at most 64
// bytes, no spaces or control characters, not starting with '$' (reserved for
// system streams and actors such as "$config" and "$timer").
// Errors: InvalidArgument "<what> id '...' ...".
Status CheckId(std::string_view id, std::string_view what);

// A time limit: a known unit, a positive amount, at most ten years (as
// ParseTimeLimit allows). Errors: InvalidArgument "<what>: ...".
Status CheckLimit(const TimeLimit& limit, std::string_view what);

}  // namespace caseloop

#endif  // CASELOOP_DOMAIN_DOMAIN_UTIL_H_
