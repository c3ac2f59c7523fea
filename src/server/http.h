// A request and an answer as the handler sees them, independent of the HTTP
// library (Boost.Beast lives in server.cc only), so that the handler can be
// driven directly (tests, the fuzz target).
#ifndef CASELOOP_SERVER_HTTP_H_
#define CASELOOP_SERVER_HTTP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/engine.h"

namespace caseloop::server {

struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string target;  // "/api/v1/cases/A1?at=..."
  // Header names in lower case; the last value of a repeated header wins.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote;  // "127.0.0.1:53122", for the access log

  const std::string* Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones
  // For the access log and metrics: the route pattern ("/api/v1/cases/{id}/{command}") and the actor.
  std::string route;
  std::string actor;
  // An event stream (GET /api/v1/events): the first log position to send,
  // which events the caller may see (called on a server thread) and the
  // UTC offset of the times printed.
  std::optional<std::uint64_t> events_from;
  std::function<bool(const LoggedEvent&)> events_filter;
  int events_offset = 0;
};

// Percent-decodes one URL path segment, or one query or form name or value
// (%XX is a byte). With `form` (application/x-www-form-urlencoded), '+' is a
// space and tab and line ends are allowed (a description may have lines).
// nullopt: a bad escape, text that is not UTF-8, or a control character.
std::optional<std::string> PercentDecode(std::string_view s, bool form);

}  // namespace caseloop::server

#endif  // CASELOOP_SERVER_HTTP_H_
