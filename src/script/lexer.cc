#include "script/lexer.h"

#include <string>

namespace caseloop::script {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

Status WordTooLong(int column) {
  return Status::InvalidArgument("the word at column " + std::to_string(column) + " is longer than " +
                                 std::to_string(kMaxWordBytes) + " bytes");
}

}  // namespace

Result<std::vector<Word>> SplitLine(std::string_view line) {
  std::vector<Word> words;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i >= n || line[i] == '#') break;
    Word w;
    w.column = static_cast<int>(i) + 1;
    std::string text;  // the part before '=' while !w.keyed, then the value
    while (i < n && !IsSpace(line[i])) {
      if (text.size() > kMaxWordBytes) return WordTooLong(w.column);
      char c = line[i];
      if (c == '"') {
        const std::size_t open = i;
        ++i;
        bool closed = false;
        while (i < n) {
          char q = line[i];
          if (q == '\\' && i + 1 < n && (line[i + 1] == '"' || line[i + 1] == '\\')) {
            text += line[i + 1];
            i += 2;
            continue;
          }
          if (q == '"') {
            closed = true;
            ++i;
            break;
          }
          text += q;
          ++i;
        }
        if (!closed) {
          return Status::InvalidArgument("unterminated quote opened at column " + std::to_string(open + 1));
        }
        continue;
      }
      if (c == '=' && !w.keyed) {
        if (text.empty()) {
          return Status::InvalidArgument("missing key before '=' at column " + std::to_string(i + 1));
        }
        w.keyed = true;
        w.key = std::move(text);
        text.clear();
        ++i;
        continue;
      }
      text += c;
      ++i;
    }
    if (text.size() > kMaxWordBytes) return WordTooLong(w.column);
    w.value = std::move(text);
    words.push_back(std::move(w));
  }
  return words;
}

Word WordFromArg(std::string_view arg) {
  Word w;
  auto eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    w.value = std::string(arg);
  } else {
    w.keyed = true;
    w.key = std::string(arg.substr(0, eq));
    w.value = std::string(arg.substr(eq + 1));
  }
  return w;
}

namespace {

// `text` as SplitLine reads it back: bare, or in quotes when it holds a space,
// a quote, a backslash, '=' or '#' (or is empty and `empty_needs_quotes`).
void AppendQuoted(std::string& out, const std::string& text, bool empty_needs_quotes) {
  bool needs = text.empty() && empty_needs_quotes;
  for (char c : text) {
    if (IsSpace(c) || c == '"' || c == '\\' || c == '=' || c == '#') needs = true;
  }
  if (!needs) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string QuoteWord(const Word& w) {
  std::string out;
  if (w.keyed) {
    AppendQuoted(out, w.key, /*empty_needs_quotes=*/false);  // a key is never empty
    out += '=';
  }
  AppendQuoted(out, w.value, /*empty_needs_quotes=*/!w.keyed);
  return out;
}

}  // namespace caseloop::script
