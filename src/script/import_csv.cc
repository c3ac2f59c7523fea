// The CSV reader and the strptime-style time parser used by ImportCsv.
#include <fmt/format.h>
#include <time.h>

#include <cctype>
#include <cstring>

#include "script/tools_internal.h"

namespace caseloop::tools {

namespace {
constexpr int kEof = -1;
constexpr std::size_t kChunk = 1 << 16;
}  // namespace

int CsvReader::Peek() {
  if (pos_ == buf_.size()) {
    if (eof_) return kEof;
    buf_.resize(kChunk);
    in_.read(buf_.data(), static_cast<std::streamsize>(kChunk));
    buf_.resize(static_cast<std::size_t>(in_.gcount()));
    pos_ = 0;
    if (buf_.empty()) {
      eof_ = true;
      return kEof;
    }
  }
  return static_cast<unsigned char>(buf_[pos_]);
}

int CsvReader::Get() {
  int c = Peek();
  if (c != kEof) {
    ++pos_;
    ++consumed_;
  }
  return c;
}

bool CsvReader::Next(Record& rec) {
  rec.fields.clear();
  rec.error.clear();
  if (!started_) {
    started_ = true;
    // UTF-8 byte order mark.
    if (Peek() == 0xEF) {
      Get();
      if (Peek() == 0xBB) Get();
      if (Peek() == 0xBF) Get();
    }
  }
  // Skip blank lines.
  for (;;) {
    int c = Peek();
    if (c == kEof) return false;
    if (c == '\n') {
      Get();
      ++line_;
    } else if (c == '\r') {
      Get();
      if (Peek() == '\n') Get();
      ++line_;
    } else {
      break;
    }
  }
  rec.line = line_;
  std::string field;
  field.reserve(64);
  for (;;) {
    // At the start of a field.
    field.clear();
    int c = Peek();
    if (c == '"') {
      Get();
      int quote_line = line_;
      bool closed = false;
      for (;;) {
        // Copy runs without a quote or a line break at once.
        if (Peek() != kEof) {
          const char* begin = buf_.data() + pos_;
          const char* end = buf_.data() + buf_.size();
          const char* p = begin;
          while (p != end && *p != '"' && *p != '\n' && *p != '\r') ++p;
          field.append(begin, p);
          pos_ += static_cast<std::size_t>(p - begin);
          consumed_ += static_cast<std::uint64_t>(p - begin);
        }
        c = Get();
        if (c == kEof) break;
        if (c == '"') {
          if (Peek() == '"') {
            Get();
            field.push_back('"');
            continue;
          }
          closed = true;
          break;
        }
        if (c == '\n') {
          ++line_;
        } else if (c == '\r') {
          if (Peek() != '\n') ++line_;
        }
        field.push_back(static_cast<char>(c));
      }
      if (!closed) {
        rec.error = fmt::format("unterminated quoted field (opened on line {}, field {})", quote_line,
                                rec.fields.size() + 1);
        rec.fields.push_back(std::move(field));
        return true;
      }
      c = Peek();
      if (c != ',' && c != '\n' && c != '\r' && c != kEof) {
        rec.error = fmt::format("text after the closing quote of field {}", rec.fields.size() + 1);
        // Resynchronize at the end of the line.
        while ((c = Peek()) != kEof && c != '\n' && c != '\r') Get();
      }
    } else {
      // Unquoted: copy runs of the buffer up to the next delimiter at once.
      while ((c = Peek()) != kEof && c != ',' && c != '\n' && c != '\r') {
        const char* begin = buf_.data() + pos_;
        const char* end = buf_.data() + buf_.size();
        const char* p = begin;
        while (p != end && *p != ',' && *p != '\n' && *p != '\r') ++p;
        field.append(begin, p);
        pos_ += static_cast<std::size_t>(p - begin);
        consumed_ += static_cast<std::uint64_t>(p - begin);
      }
    }
    rec.fields.push_back(std::move(field));
    c = Get();
    if (c == ',') continue;
    if (c == '\r') {
      if (Peek() == '\n') Get();
      ++line_;
    } else if (c == '\n') {
      ++line_;
    }
    return true;  // end of record (or of input)
  }
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Instant> ParseTimeWithFormat(std::string_view text, const std::string& format, int offset_minutes) {
  std::string s(Trim(text));
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("time '{}' does not match format '{}'{}{}", text, format, why.empty() ? "" : ": ", why));
  };
  if (s.empty()) return bad("empty");
  struct tm tm;
  std::memset(&tm, 0, sizeof tm);
  tm.tm_mday = 1;
  const char* end = strptime(s.c_str(), format.c_str(), &tm);
  if (end == nullptr) return bad("");
  if (!Trim(end).empty()) return bad(fmt::format("unexpected '{}' at the end", Trim(end)));
  const int year = tm.tm_year + 1900;
  if (year < 1970 || year > 9999) return bad(fmt::format("year {} is outside 1970..9999", year));
  const int month = tm.tm_mon + 1;
  if (month < 1 || month > 12 || tm.tm_mday < 1 || tm.tm_mday > 31) return bad("no such date");
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(tm.tm_mday));
  int y2, m2, d2;
  CivilFromDays(days, y2, m2, d2);
  if (y2 != year || m2 != month || d2 != tm.tm_mday) {
    return bad(fmt::format("{:04}-{:02}-{:02} is not a date", year, month, tm.tm_mday));
  }
  if (tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
      tm.tm_sec > 60) {
    return bad("no such time of day");
  }
  const std::int64_t secs = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + std::min(tm.tm_sec, 59) -
                            static_cast<std::int64_t>(offset_minutes) * 60;
  return InstantFromMicros(secs * 1000000);
}

LocalFields LocalFieldsOf(Instant t, int offset_minutes) {
  std::int64_t us = MicrosOf(t) + static_cast<std::int64_t>(offset_minutes) * 60 * 1000000;
  std::int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  std::int64_t rem = secs - days * 86400;
  LocalFields f;
  CivilFromDays(days, f.year, f.month, f.day);
  f.hour = static_cast<int>(rem / 3600);
  f.minute = static_cast<int>(rem / 60 % 60);
  f.second = static_cast<int>(rem % 60);
  return f;
}

Instant LocalMidnight(int year, int month, int day, int offset_minutes) {
  std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return InstantFromMicros((days * 86400 - static_cast<std::int64_t>(offset_minutes) * 60) * 1000000);
}

std::string FormatDate(Instant t, int offset_minutes) {
  LocalFields f = LocalFieldsOf(t, offset_minutes);
  return fmt::format("{:04}-{:02}-{:02}", f.year, f.month, f.day);
}

}  // namespace caseloop::tools
