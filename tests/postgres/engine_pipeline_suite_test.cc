// tests/engine/pipeline_test.cc with every store in PostgreSQL (CASELOOP_ENGINE_TESTS_ON_POSTGRES,
// set for this binary: engine_test_util.h points TempDir and ManualOptions there).
#include "../engine/pipeline_test.cc"
