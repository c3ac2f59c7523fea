// Shared by the import tests (import_test.cc, import_bulk_test.cc): the data
// files of ../shared/data and the column mapping of the Boston 311 sample.
#ifndef CASELOOP_TESTS_TOOLS_IMPORT_TEST_UTIL_H_
#define CASELOOP_TESTS_TOOLS_IMPORT_TEST_UTIL_H_

#include <string>

#include "caseloop/tools.h"

namespace caseloop::test {

// A file of the shared data folder (CASELOOP_SHARED_DIR/data/NAME).
inline std::string Data(const char* name) { return std::string(CASELOOP_SHARED_DIR) + "/data/" + name; }

// ImportOptions for boston311_raw_sample.csv, the columns docs/cli.md names.
inline ImportOptions BostonOptions() {
  ImportOptions o;
  o.file = Data("boston311_raw_sample.csv");
  o.id_column = "CASE_ENQUIRY_ID";
  o.created_column = "OPEN_DT";
  o.unit_column = "SUBJECT";
  o.due_column = "TARGET_DT";
  o.closed_column = "CLOSED_DT";
  o.category_column = "TYPE";
  return o;
}

}  // namespace caseloop::test

#endif  // CASELOOP_TESTS_TOOLS_IMPORT_TEST_UTIL_H_
