// The SQLite store (DESIGN.md §7): one database file in WAL mode with synchronous=FULL, so
// every enroll, issue and revoke is durable when the call returns. The schema is versioned
// (PRAGMA user_version) and migrated forward on open; a database from a newer touchpass is
// refused rather than touched. One touchpassd per file (its instance lock), so the store may
// remember the grants verification found until its own next write.
#pragma once

#include <filesystem>
#include <memory>

#include "core/status.h"
#include "store/sql_store.h"

namespace touchpass::store {

// The schema version this build writes.
inline constexpr int kSqliteSchemaVersion = 10;

// Opens (creating with mode 0600 if missing) and migrates the database at `path`. A file that
// exists but is empty (0 bytes), or an SQLite database that is not a touchpass store, is
// refused (invalid_argument) and left alone: neither is ever taken for a new, empty store.
Result<std::unique_ptr<SqlStore>> open_sqlite_store(const std::filesystem::path& path);

}  // namespace touchpass::store
