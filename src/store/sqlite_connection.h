// SqliteConnection: sql::Connection (sql_connection.h) on one SQLite database handle. Writers
// are serialized by SQLite itself (BEGIN IMMEDIATE); a relaxed write runs with
// synchronous=NORMAL, every other with the connection's synchronous=FULL. Internal to src/store.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "core/status.h"
#include "store/sql_connection.h"

namespace touchpass::store::sql {

class SqliteConnection final : public Connection {
 public:
  // Opens the database at `path` (which must exist) read-write, or read-only when `read_only`,
  // with extended result codes and a busy timeout of 5 s.
  static Result<std::unique_ptr<SqliteConnection>> open(const std::filesystem::path& path,
                                                        bool read_only);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  std::unique_ptr<Statement> prepare(std::string_view sql) override;
  Status begin_write(Durability durability) override;
  Status commit() override;
  void rollback() override;
  Error error(std::string_view what) const override;

  // Runs `sql` (statements without results, e.g. PRAGMA settings); io_error naming `what`.
  Status exec(const char* sql, std::string_view what);
  // The handle, for what only SQLite has (schema migration by PRAGMA user_version).
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  // Puts synchronous back to FULL after a relaxed transaction.
  void end_transaction();

  sqlite3* db_;
  bool in_transaction_ = false;
  bool synchronous_full_ = true;  // the store opens its connections with synchronous=FULL
};

}  // namespace touchpass::store::sql
