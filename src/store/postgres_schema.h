// The PostgreSQL store's schema and its migrations (the same tables as the SQLite store's,
// sqlite_schema.cpp, in PostgreSQL's types). Internal to src/store.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "store/sql_connection.h"

namespace touchpass::store::sql {

// The schema version the migrations reach.
inline constexpr std::int64_t kPostgresSchemaVersion = 2;

// Brings the database's schema to kPostgresSchemaVersion, one transaction per version, under
// the store's write lock (so hosts starting together migrate once). A database that has
// tables of its own but no touchpass schema version, or one newer than this build, is refused
// (invalid_argument) and left alone.
Status migrate_postgres(Connection& db);

}  // namespace touchpass::store::sql
