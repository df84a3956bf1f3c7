// The PostgreSQL store (DESIGN.md §7): several touchpassd hosts share one database — any of
// them verifies, any may issue — instead of a home-made sync. Writers serialize on the
// database's write lock (so the audit chain stays one chain); nothing is remembered between
// calls, so a revoke on one host holds on every other at once. A host on a read-only
// standby verifies and is refused every write with a clear error.
#pragma once

#include <memory>
#include <string>

#include "core/secret.h"
#include "core/status.h"
#include "store/sql_store.h"

namespace touchpass::store {

struct PostgresSettings {
  std::string conninfo;  // a libpq connection string or URI (host, dbname, user, sslmode…)
  SecretBytes password;  // empty: none (or in the connection string, or ~/.pgpass)
  int readers = 4;       // connections for verification's look-ups
};

// Connects (1 + settings.readers connections) and migrates the schema. A database that is not
// a touchpass store, or holds a newer schema, is refused (invalid_argument) and left alone;
// a database that cannot be reached is io_error naming where, never the password.
Result<std::unique_ptr<SqlStore>> open_postgres_store(const PostgresSettings& settings);

}  // namespace touchpass::store
