#include "domain/domain_util.h"

#include <fmt/format.h>

#include "core/utf8.h"

namespace caseloop {

Status CheckId(std::string_view id, std::string_view what) {
  if (id.empty()) return Status::InvalidArgument(fmt::format("{} id is empty", what));
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument(
        fmt::format("{} id '{}...': longer than {} bytes", what, Printable(id.substr(0, 16)), kMaxIdBytes));
  }
  if (id[0] == '$') {
    return Status::InvalidArgument(
        fmt::format("{} id {}: ids starting with '$' are reserved", what, QuotedText(id)));
  }
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Status::InvalidArgument(
          fmt::format("{} id {}: contains a space or control character", what, QuotedText(id)));
    }
  }
  return Status::Ok();
}

Status CheckLimit(const TimeLimit& limit, std::string_view what) {
  if (static_cast<std::uint8_t>(limit.unit) > static_cast<std::uint8_t>(TimeLimit::Unit::kWorkingDays)) {
    return Status::InvalidArgument(fmt::format("{}: unknown time limit unit", what));
  }
  if (limit.amount <= 0) return Status::InvalidArgument(fmt::format("{}: time limit must be positive", what));
  constexpr std::int64_t kMaxMinutes = 10LL * 366 * 24 * 60;
  const std::int64_t max_amount =
      limit.unit == TimeLimit::Unit::kWorkingDays ? kMaxMinutes / (24 * 60) : kMaxMinutes;
  if (limit.amount > max_amount) {
    return Status::InvalidArgument(fmt::format("{}: time limit longer than ten years", what));
  }
  return Status::Ok();
}

}  // namespace caseloop
