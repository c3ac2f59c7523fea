// CsvReader (tools/csv_reader.h).
#include "tools/csv_reader.h"

#include <fmt/format.h>

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

}  // namespace caseloop::tools
