// What the SQLite store's files share: errors, prepared statements, transactions and the
// guard that keeps exceptions inside the store. Internal to src/store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass::store::sqlite {

inline Error db_error(sqlite3* db, std::string_view what) {
  return Error{Code::io_error, "The store failed to " + std::string(what) + ": " +
                                   (db ? sqlite3_errmsg(db) : "out of memory") + "."};
}

// A prepared statement; finalized on destruction. Columns and parameters are 0- and 1-based
// as in SQLite.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  // Borrows a statement prepared elsewhere; it is reset (not finalized) on destruction.
  Stmt(sqlite3* db, sqlite3_stmt* prepared) : db_(db), stmt_(prepared), borrowed_(true) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (borrowed_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    } else {
      sqlite3_finalize(stmt_);
    }
  }

  Stmt& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Stmt& bind(int i, std::string_view v) {
    return check(
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind(int i, const Bytes& v) {
    // A zero-length blob must still be a blob, not NULL.
    static const std::uint8_t kEmpty = 0;
    return check(sqlite3_bind_blob(stmt_, i, v.empty() ? &kEmpty : v.data(),
                                   static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind(int i, const std::optional<std::int64_t>& v) {
    return v ? bind(i, *v) : check(sqlite3_bind_null(stmt_, i));
  }
  // For a nullable blob column: NULL when `v` is empty.
  Stmt& bind_or_null(int i, const Bytes& v) {
    return v.empty() ? check(sqlite3_bind_null(stmt_, i)) : bind(i, v);
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step() {
    if (rc_ != SQLITE_OK) return rc_;
    return sqlite3_step(stmt_);
  }
  // Runs a statement that returns no rows.
  Status run(std::string_view what) {
    const int rc = step();
    if (rc == SQLITE_DONE) return {};
    return db_error(db_, what);
  }
  int last_rc() const { return rc_; }
  // Makes the statement ready to run again with new bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<std::int64_t> optional_integer(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return integer(col);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  Bytes blob(int col) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
    return p ? Bytes(p, p + n) : Bytes();
  }

 private:
  Stmt& check(int rc) {
    if (rc_ == SQLITE_OK && rc != SQLITE_OK) rc_ = rc;
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool borrowed_ = false;
  int rc_ = SQLITE_OK;
};

inline Status exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return {};
  return db_error(db, what);
}

// BEGIN IMMEDIATE … COMMIT; rolls back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    begun_ = exec(db, "BEGIN IMMEDIATE", "begin a transaction");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (begun_.ok() && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  const Status& begun() const { return begun_; }
  Status commit() {
    Status s = exec(db_, "COMMIT", "commit a transaction");
    committed_ = s.ok();
    return s;
  }

 private:
  sqlite3* db_;
  Status begun_;
  bool committed_ = false;
};

// Steps `q` through all its rows, reading each with `read`.
template <class Read>
auto collect(sqlite3* db, Stmt& q, Read read, std::string_view what)
    -> Result<std::vector<decltype(read(q))>> {
  std::vector<decltype(read(q))> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read(q));
  if (rc != SQLITE_DONE) return db_error(db, std::string(what));
  return out;
}

// Steps `q` through all its rows, reading each with `read`, which returns a Result: the first
// row it refuses ends the reading with its error.
template <class Read>
auto collect_rows(sqlite3* db, Stmt& q, Read read, std::string_view what)
    -> Result<std::vector<std::remove_cvref_t<decltype(*read(q))>>> {
  std::vector<std::remove_cvref_t<decltype(*read(q))>> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto row = read(q);
    if (!row.ok()) return row.error();
    out.push_back(std::move(*row));
  }
  if (rc != SQLITE_DONE) return db_error(db, std::string(what));
  return out;
}

// Runs `body` and turns any exception (allocation failure, a broken OpenSSL) into an error, so
// nothing throws out of the store.
template <class F>
auto guarded(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Error{Code::internal, std::string("The store failed unexpectedly: ") + e.what()};
  }
}

}  // namespace touchpass::store::sqlite
