#include "store/sqlite_connection.h"

#include <climits>
#include <string>

namespace touchpass::store::sql {

namespace {

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql) {
    if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
      rc_ = SQLITE_TOOBIG;
      return;
    }
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bind_integer(int index, std::int64_t value) override {
    check(sqlite3_bind_int64(stmt_, index, value));
  }
  void bind_text(int index, std::string_view value) override {
    if (value.size() > static_cast<std::size_t>(INT_MAX)) return check(SQLITE_TOOBIG);
    check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                            SQLITE_TRANSIENT));
  }
  void bind_blob(int index, std::span<const std::uint8_t> value) override {
    if (value.size() > static_cast<std::size_t>(INT_MAX)) return check(SQLITE_TOOBIG);
    // A zero-length blob must still be a blob, not NULL.
    static const std::uint8_t kEmpty = 0;
    check(sqlite3_bind_blob(stmt_, index, value.empty() ? &kEmpty : value.data(),
                            static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  void bind_null(int index) override { check(sqlite3_bind_null(stmt_, index)); }

  Step step() override {
    if (rc_ != SQLITE_OK) return Step::error;
    switch (sqlite3_step(stmt_)) {
      case SQLITE_ROW:
        return Step::row;
      case SQLITE_DONE:
        return Step::done;
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return Step::unique_violation;
      default:
        return Step::error;
    }
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const override {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  Bytes blob(int column) const override {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
    return p ? Bytes(p, p + n) : Bytes();
  }

 private:
  // Keeps the first failure (preparing or binding); step() then reports it.
  void check(int rc) {
    if (rc_ == SQLITE_OK && rc != SQLITE_OK) rc_ = rc;
  }
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::filesystem::path& path,
                                                                 bool read_only) {
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(db));
  if (rc != SQLITE_OK) {
    return connection->error(read_only ? "open a read connection" : "open " + path.string());
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  return connection;
}

SqliteConnection::~SqliteConnection() {
  sqlite3_close_v2(db_);
}

std::unique_ptr<Statement> SqliteConnection::prepare(std::string_view sql) {
  return std::make_unique<SqliteStatement>(db_, sql);
}

Status SqliteConnection::exec(const char* sql, std::string_view what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return {};
  return error(what);
}

Status SqliteConnection::begin_write(Durability durability) {
  // What verification learns may lose its last seconds in a power cut; issuing and revoking
  // may not.
  const bool relaxed = durability == Durability::relaxed;
  if (relaxed == synchronous_full_) {
    const char* pragma = relaxed ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL";
    if (Status s = exec(pragma, "configure the database"); !s.ok()) return s;
    synchronous_full_ = !relaxed;
  }
  Status begun = exec("BEGIN IMMEDIATE", "begin a transaction");
  in_transaction_ = begun.ok();
  if (!begun.ok()) end_transaction();
  return begun;
}

Status SqliteConnection::commit() {
  Status committed = exec("COMMIT", "commit a transaction");
  if (!committed.ok()) return committed;  // still open: the caller rolls back
  in_transaction_ = false;
  end_transaction();
  return committed;
}

void SqliteConnection::rollback() {
  if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_transaction_ = false;
  end_transaction();
}

void SqliteConnection::end_transaction() {
  if (synchronous_full_) return;
  // Should this fail, the next durable write sets it again (or fails) before it begins.
  synchronous_full_ =
      sqlite3_exec(db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) == SQLITE_OK;
}

Error SqliteConnection::error(std::string_view what) const {
  return Error{Code::io_error, "The store failed to " + std::string(what) + ": " +
                                   (db_ ? sqlite3_errmsg(db_) : "out of memory") + "."};
}

}  // namespace touchpass::store::sql
