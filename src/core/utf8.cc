// UTF-8 validity and printable quotes (core/utf8.h). The decoding is
// Boost.Locale's header-only utf_traits (already a dependency through
// Boost's headers), which refuses overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences.
#include "core/utf8.h"

#include <boost/locale/utf.hpp>
#include <cstdio>

namespace caseloop {
namespace {

using Utf8 = boost::locale::utf::utf_traits<char>;
using boost::locale::utf::code_point;

bool IsBad(code_point c) { return c == boost::locale::utf::illegal || c == boost::locale::utf::incomplete; }

void AppendHex(std::string& out, const char* format, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  out += buf;
}

}  // namespace

std::size_t FirstInvalidUtf8(std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p != end) {
    if (static_cast<unsigned char>(*p) < 0x80) {  // ASCII: the common case
      ++p;
      continue;
    }
    const char* start = p;
    if (IsBad(Utf8::decode(p, end))) return static_cast<std::size_t>(start - s.data());
  }
  return std::string_view::npos;
}

Status CheckUtf8(std::string_view s, std::string_view what) {
  std::size_t at = FirstInvalidUtf8(s);
  if (at == std::string_view::npos) return Status::Ok();
  std::string m(what);
  m += " is not valid UTF-8 (byte ";
  AppendHex(m, "0x%02X", static_cast<unsigned char>(s[at]));
  m += " at offset " + std::to_string(at) + ")";
  return Status::InvalidArgument(std::move(m));
}

std::string Printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(s.size() < max_bytes ? s.size() : max_bytes + 8);
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p != end) {
    if (out.size() >= max_bytes) {
      out += "… (" + std::to_string(s.size()) + " bytes)";
      return out;
    }
    const char* start = p;
    const auto lead = static_cast<unsigned char>(*p);
    if (lead < 0x80) {
      ++p;
      if (lead < 0x20 || lead == 0x7f) {
        AppendHex(out, "\\x%02x", lead);
      } else {
        out += static_cast<char>(lead);
      }
      continue;
    }
    code_point c = Utf8::decode(p, end);
    if (IsBad(c)) {
      p = start + 1;  // one byte at a time: the next one may start a good sequence
      AppendHex(out, "\\x%02x", lead);
    } else if (c >= 0x80 && c <= 0x9f) {
      AppendHex(out, "\\u%04x", static_cast<unsigned>(c));
    } else {
      out.append(start, p);
    }
  }
  return out;
}

std::string QuotedText(std::string_view s, std::size_t max_bytes) {
  return "'" + Printable(s, max_bytes) + "'";
}

}  // namespace caseloop
