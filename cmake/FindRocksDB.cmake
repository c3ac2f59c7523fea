# Finds Debian's librocksdb-dev, which ships no CMake package config.
# Defines the imported target RocksDB::rocksdb.
if(TARGET RocksDB::rocksdb)
  set(RocksDB_FOUND TRUE)
  return()
endif()
find_path(ROCKSDB_INCLUDE_DIR rocksdb/db.h)
find_library(ROCKSDB_LIBRARY rocksdb)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RocksDB REQUIRED_VARS ROCKSDB_LIBRARY ROCKSDB_INCLUDE_DIR)
if(RocksDB_FOUND)
  add_library(RocksDB::rocksdb UNKNOWN IMPORTED)
  set_target_properties(RocksDB::rocksdb PROPERTIES IMPORTED_LOCATION "${ROCKSDB_LIBRARY}"
                                                    INTERFACE_INCLUDE_DIRECTORIES "${ROCKSDB_INCLUDE_DIR}")
endif()
