// src/store/postgres_store.h — the PostgreSQL backend: the log and the
// projection storage in tables of a PostgreSQL database (docs/format.md,
// "PostgreSQL"), over libpq. Built when CMake finds libpq
// (CASELOOP_POSTGRES); otherwise OpenPostgresStorage says so.
#ifndef CASELOOP_STORE_POSTGRES_STORE_H_
#define CASELOOP_STORE_POSTGRES_STORE_H_

#include <string>
#include <string_view>

#include "caseloop/event_store.h"
#include "caseloop/status.h"
#include "store/projection_store.h"

namespace caseloop {

// Whether `path` is a PostgreSQL connection URI ("postgresql://..." or
// "postgres://..."), the form EngineOptions::path uses to choose this backend.
bool IsPostgresUrl(std::string_view path);

// Whether this build has the PostgreSQL backend (CASELOOP_POSTGRES).
bool PostgresBackendBuilt();

// Opens the caseloop tables in the database named by `url` (a libpq
// connection URI), creating them (StoreOptions::create_if_missing) or
// migrating them to this build's schema version. One URI parameter is
// caseloop's own and is removed before libpq sees it:
//   caseloop_projections=NAME  the projection scope (default "main"): the
//   keys and checkpoints this engine's projections own. Every engine sharing
//   the database keeps its projections in a scope of its own; a scope is held
//   by one open storage at a time (a session advisory lock), a second
//   read-write open of it is refused with IOError.
// StoreOptions: durability (kSync commits with synchronous_commit=on, the
// others with it off), read_only, max_group_writers (appends per
// transaction); block_cache_bytes and group_commit_window are ignored.
// Errors: InvalidArgument (a malformed URI or parameter), IOError (cannot
// connect; no caseloop tables without create_if_missing; scope in use),
// Corruption (a schema version newer than this build), Unavailable (built
// without PostgreSQL).
Result<Storage> OpenPostgresStorage(const std::string& url, const StoreOptions& options = {});

}  // namespace caseloop

#endif  // CASELOOP_STORE_POSTGRES_STORE_H_
