// The SQLite store's schema and its migrations. Internal to src/store.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "store/sqlite_connection.h"

namespace touchpass::store::sql {

// The schema version the migrations reach.
inline constexpr std::int64_t kSqliteSchemaVersionMigrated = 10;

// Brings the database to kSchemaVersion, one transaction per version. A database with tables
// but no version (someone else's), or one newer than this build, is refused (invalid_argument)
// and left alone.
Status migrate(SqliteConnection& db);

}  // namespace touchpass::store::sql
