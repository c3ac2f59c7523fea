// CsvReader (tools/csv_reader.h).
#include "tools/csv_reader.h"

#include <fmt/format.h>

#include <algorithm>

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
  if (!status_.ok()) return false;
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
  const std::uint64_t record_start = consumed_;
  // A record longer than the limit ends the reading: there is no telling
  // where the next one would start (an unterminated quote), or there is none
  // (a file that is not CSV, /dev/zero).
  auto over_record = [&] { return consumed_ - record_start > limits_.max_record_bytes; };
  auto stop = [&] {
    status_ = Status::InvalidArgument(
        fmt::format("line {}: a record longer than {} bytes (the limit of a CSV record; an unterminated "
                    "quote, or not a CSV file?)",
                    rec.line, limits_.max_record_bytes));
    rec.fields.clear();
    return false;
  };
  std::string field;
  field.reserve(64);
  bool field_over = false;  // the field has lost bytes beyond max_field_bytes
  // Appends [begin, end) to the field, keeping at most max_field_bytes.
  auto append = [&](const char* begin, const char* end) {
    const std::size_t n = static_cast<std::size_t>(end - begin);
    const std::size_t room = limits_.max_field_bytes - std::min(field.size(), limits_.max_field_bytes);
    field.append(begin, std::min(n, room));
    if (n > room) field_over = true;
  };
  for (;;) {
    // At the start of a field.
    field.clear();
    field_over = false;
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
          append(begin, p);
          pos_ += static_cast<std::size_t>(p - begin);
          consumed_ += static_cast<std::uint64_t>(p - begin);
          if (over_record()) return stop();
        }
        c = Get();
        if (c == kEof) break;
        if (c == '"') {
          if (Peek() == '"') {
            Get();
            const char quote = '"';
            append(&quote, &quote + 1);
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
        const char ch = static_cast<char>(c);
        append(&ch, &ch + 1);
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
        while ((c = Peek()) != kEof && c != '\n' && c != '\r') {
          Get();
          if (over_record()) return stop();
        }
      }
    } else {
      // Unquoted: copy runs of the buffer up to the next delimiter at once.
      while ((c = Peek()) != kEof && c != ',' && c != '\n' && c != '\r') {
        const char* begin = buf_.data() + pos_;
        const char* end = buf_.data() + buf_.size();
        const char* p = begin;
        while (p != end && *p != ',' && *p != '\n' && *p != '\r') ++p;
        append(begin, p);
        pos_ += static_cast<std::size_t>(p - begin);
        consumed_ += static_cast<std::uint64_t>(p - begin);
        if (over_record()) return stop();
      }
    }
    if (field_over && rec.error.empty()) {
      rec.error = fmt::format("field {} is longer than {} bytes (the limit of a CSV field)",
                              rec.fields.size() + 1, limits_.max_field_bytes);
    }
    if (rec.fields.size() < limits_.max_fields) {
      rec.fields.push_back(std::move(field));
    } else if (rec.error.empty()) {
      rec.error = fmt::format("more than {} fields (the limit of a CSV record)", limits_.max_fields);
    }
    c = Get();
    if (c == ',') {
      if (over_record()) return stop();
      continue;
    }
    if (c == '\r') {
      if (Peek() == '\n') Get();
      ++line_;
    } else if (c == '\n') {
      ++line_;
    }
    return true;  // end of record (or of input)
  }
}

}  // namespace caseloop::tools
