#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/fd.h"
#include "store/sql_support.h"
#include "store/sqlite_connection.h"
#include "store/sqlite_schema.h"

namespace touchpass::store {

static_assert(kSqliteSchemaVersion == sql::kSqliteSchemaVersionMigrated);

Result<std::unique_ptr<SqlStore>> open_sqlite_store(const std::filesystem::path& path) {
  return sql::guarded([&]() -> Result<std::unique_ptr<SqlStore>> {
    // An existing file of 0 bytes is a store that was lost (truncated, or never written), not a
    // new one: taking it for an empty store would silently drop every key and password.
    struct stat existing {};
    if (::stat(path.c_str(), &existing) == 0 && existing.st_size == 0) {
      return Error{Code::invalid_argument,
                   "The store " + path.string() +
                       " is an empty file (0 bytes), not a touchpass store. Restore it from "
                       "your backup, or remove it to start a new store."};
    }
    // Create the file ourselves so that it is never readable by others, not even for a moment.
    if (!UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)).valid()) {
      return Error{Code::io_error,
                   "Cannot open the store " + path.string() + ": " + std::strerror(errno) + "."};
    }
    auto writer = sql::SqliteConnection::open(path, false);
    if (!writer.ok()) return writer.error();
    // journal_size_limit: the WAL file is cut back after a checkpoint instead of keeping its
    // largest size, so a burst of writes does not leave the store bigger for good.
    for (const char* pragma :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
          "PRAGMA secure_delete=ON", "PRAGMA journal_size_limit=1048576"}) {
      // journal_mode returns a row; sqlite3_exec ignores it.
      if (Status s = (*writer)->exec(pragma, "configure the database"); !s.ok()) return s;
    }
    if (Status s = sql::migrate(**writer); !s.ok()) {
      if (s.code() != Code::invalid_argument) return s;
      return Error{s.code(), "The store " + path.string() + ": " + std::string(s.message())};
    }
    SqlStore::Connections connections;
    connections.writer = std::move(*writer);
    const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < std::min(cores, 8u); ++i) {
      auto reader = sql::SqliteConnection::open(path, true);
      if (!reader.ok()) return reader.error();
      connections.readers.push_back(std::move(*reader));
    }
    return std::make_unique<SqlStore>(std::move(connections), true);
  });
}

}  // namespace touchpass::store
