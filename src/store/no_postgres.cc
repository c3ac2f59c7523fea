// The PostgreSQL backend's entry points in a build without libpq
// (CASELOOP_POSTGRES=OFF): a connection URI is recognized and refused with a
// message saying so, never mistaken for a directory. postgres_store.cc is the
// backend itself.
#include "store/postgres_store.h"

namespace caseloop {

bool IsPostgresUrl(std::string_view path) { return IsDatabaseUri(path); }

bool PostgresBackendBuilt() { return false; }

Result<Storage> OpenPostgresStorage(const std::string&, const StoreOptions&) {
  return Status::Unavailable(
      "this caseloop was built without the PostgreSQL backend (CASELOOP_POSTGRES=OFF: libpq was not found "
      "or was turned off); rebuild with libpq-dev installed");
}

}  // namespace caseloop
