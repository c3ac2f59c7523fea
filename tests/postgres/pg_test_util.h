// Helpers of the PostgreSQL tests: the server of tests/postgres/pg_env.sh and
// a fresh schema per test.
#ifndef CASELOOP_TESTS_POSTGRES_PG_TEST_UTIL_H_
#define CASELOOP_TESTS_POSTGRES_PG_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace caseloop::testing {

// The server's URI; fails the test (never skips) when the binary was not run
// through pg_env.sh.
inline std::string PostgresUrl() {
  const char* url = std::getenv("CASELOOP_TEST_POSTGRES_URL");
  REQUIRE_MESSAGE(
      url != nullptr,
      "CASELOOP_TEST_POSTGRES_URL is not set: run this test through tests/postgres/pg_env.sh (ctest -L "
      "postgres does)");
  return url;
}

// Runs `sql` on the test server; fails the test when it fails.
inline void PgAdmin(const std::string& sql) {
  PGconn* c = PQconnectdb(PostgresUrl().c_str());
  REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  std::string error = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  REQUIRE_MESSAGE(ok, sql << ": " << error);
}

// A schema of its own (dropped at the end), so each test starts from an empty
// database. url() selects it through search_path; `extra` adds parameters.
class PgSchema {
 public:
  PgSchema() {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PgAdmin("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_);
  }
  ~PgSchema() {
    PGconn* c = PQconnectdb(PostgresUrl().c_str());
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + name_ + " CASCADE").c_str()));
    PQfinish(c);
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
  const std::string& name() const { return name_; }
  std::string url(const std::string& extra = "") const {
    std::string u = PostgresUrl();
    u += (u.find('?') == std::string::npos ? "?" : "&");
    u += "options=-csearch_path%3D" + name_;
    if (!extra.empty()) u += "&" + extra;
    return u;
  }

 private:
  std::string name_;
};

// The URI of a fresh, empty schema that lives as long as the server (the
// engine tests on PostgreSQL: one per store a test opens).
inline std::string NewPostgresPath() {
  static std::atomic<int> counter{0};
  const std::string name = "e" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  PgAdmin("CREATE SCHEMA " + name);
  std::string u = PostgresUrl();
  return u + (u.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name;
}

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_POSTGRES_PG_TEST_UTIL_H_
