// The SQLite store's schema and its migrations. Internal to src/store.
#pragma once

#include <sqlite3.h>

#include <cstdint>

#include "core/status.h"

namespace touchpass::store::sqlite {

// The schema version this build writes.
inline constexpr std::int64_t kSchemaVersion = 8;

// Brings the database to kSchemaVersion, one transaction per version. A database with tables
// but no version (someone else's), or one newer than this build, is refused (invalid_argument)
// and left alone.
Status migrate(sqlite3* db);

}  // namespace touchpass::store::sqlite
