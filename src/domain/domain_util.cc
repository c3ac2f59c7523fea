#include "domain/domain_util.h"

#include <fmt/format.h>

namespace caseloop {

Status CheckId(std::string_view id, std::string_view what) {
  if (id.empty()) return Status::InvalidArgument(fmt::format("{} id is empty", what));
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument(
        fmt::format("{} id '{}...': longer than {} bytes", what, id.substr(0, 16), kMaxIdBytes));
  }
  if (id[0] == '$') {
    return Status::InvalidArgument(fmt::format("{} id '{}': ids starting with '$' are reserved", what, id));
  }
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Status::InvalidArgument(
          fmt::format("{} id '{}': contains a space or control character", what, id));
    }
  }
  return Status::Ok();
}

}  // namespace caseloop
