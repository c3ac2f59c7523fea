// CheckCommandWords (caseloop/script.h): the script language's shape check
// of one command, for callers that hold the words before any engine is open
// (the CLI checks a query's arguments before it opens the database).
#include <string>
#include <vector>

#include "caseloop/script.h"
#include "script/lexer.h"
#include "script/syntax.h"

namespace caseloop {

Status CheckCommandWords(const std::vector<std::string>& words) {
  if (words.empty()) return Status::InvalidArgument("no command given");
  std::vector<script::Word> split;
  split.reserve(words.size());
  for (const std::string& w : words) split.push_back(script::WordFromArg(w));
  auto shape = script::ParseArgs(split);
  return shape.ok() ? Status::Ok() : shape.status();
}

}  // namespace caseloop
