// A fresh, empty database of either backend for one store test: a file in a temporary
// directory (SQLite), or a schema of its own on a PostgreSQL server that the test program
// starts once (support/postgres_server.h) and stops at its end.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/sql_connection.h"
#include "store/sql_store.h"

namespace touchpass::store {

enum class Backend { sqlite, postgresql };

// For test names: "SQLite" or "PostgreSQL".
std::string backend_name(Backend backend);

class StoreDatabase {
 public:
  virtual ~StoreDatabase() = default;
  // A new empty database; nullptr with the reason in `skip` when this backend cannot run here
  // (no PostgreSQL programs), or with `error` when it should but failed.
  static std::unique_ptr<StoreDatabase> create(Backend backend, std::string* skip,
                                               std::string* error);
  // Opens the store on this database (as touchpassd would at start); again and again.
  virtual Result<std::unique_ptr<SqlStore>> open() = 0;
  // A connection of its own to the database, as an attacker with write access has one.
  virtual Result<std::unique_ptr<sql::Connection>> raw() = 0;
};

}  // namespace touchpass::store
