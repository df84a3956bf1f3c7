// What the store needs of a database, whichever it is (DESIGN.md §7): a connection that prepares
// statements and runs transactions. The store's SQL is written once, for both SQLite and
// PostgreSQL: parameters are `?` (numbered in order) or `?N`; identifiers that are keywords in
// either (user) are double-quoted; booleans are compared with 1 and 0, never used bare.
// Internal to src/store; nothing here throws across it except allocation failures.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <span>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass::store::sql {

// The outcome of one step of a statement.
enum class Step {
  row,               // a row is ready to be read
  done,              // no (more) rows; the statement ran
  unique_violation,  // it would break a UNIQUE or PRIMARY KEY constraint; nothing was written
  read_only,         // it writes, and the database accepts no writes (a hot standby)
  error,             // anything else (the connection's error() says what)
};

// A prepared statement: bind its parameters, step through its rows, read their columns.
// Columns are 0-based, parameters 1-based.
class Statement {
 public:
  virtual ~Statement() = default;

  virtual void bind_integer(int index, std::int64_t value) = 0;
  virtual void bind_text(int index, std::string_view value) = 0;
  // A blob (bytea); an empty one stays an empty blob, never NULL.
  virtual void bind_blob(int index, std::span<const std::uint8_t> value) = 0;
  virtual void bind_null(int index) = 0;

  // Runs the statement on the first call, then moves to its next row.
  virtual Step step() = 0;
  // Makes the statement ready to run again with new bindings.
  virtual void reset() = 0;

  // The current row's columns. A boolean column reads as 1 or 0; NULL as 0 or empty.
  virtual bool is_null(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual Bytes blob(int column) const = 0;
};

// How long a write must last once committed.
enum class Durability {
  durable,  // on stable storage when commit returns (issue, revoke, enroll)
  relaxed,  // may be lost in a crash of the database's host (what verification learns)
};

// One connection to the database, used by one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;

  // A statement for `sql` (see the dialect above). Preparing never fails here: an error shows
  // at its first step.
  virtual std::unique_ptr<Statement> prepare(std::string_view sql) = 0;

  // Begins a write transaction: writers are serialized (on every connection to the database,
  // from any process or host) until it commits or rolls back.
  virtual Status begin_write(Durability durability) = 0;
  virtual Status commit() = 0;
  // Abandons the transaction; nothing it wrote remains. Harmless when none is open.
  virtual void rollback() = 0;

  // io_error saying that the store failed to `what`, with the database's last error.
  virtual Error error(std::string_view what) const = 0;
};

// A statement with the store's conveniences (chained binds, optional values, run()).
class Query {
 public:
  Query(Connection& connection, std::string_view sql)
      : connection_(&connection), owned_(connection.prepare(sql)), statement_(owned_.get()) {}
  // Borrows a statement prepared on `connection` to run it again; it is reset (bindings and
  // all) when the query ends.
  Query(Connection& connection, Statement& prepared)
      : connection_(&connection), statement_(&prepared) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    if (!owned_) statement_->reset();
  }

  Query& bind(int i, std::int64_t v) {
    statement_->bind_integer(i, v);
    return *this;
  }
  Query& bind(int i, std::string_view v) {
    statement_->bind_text(i, v);
    return *this;
  }
  Query& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Query& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Query& bind(int i, const Bytes& v) {
    statement_->bind_blob(i, std::span<const std::uint8_t>(v));
    return *this;
  }
  Query& bind(int i, const std::optional<std::int64_t>& v) {
    if (v) return bind(i, *v);
    statement_->bind_null(i);
    return *this;
  }
  // For a nullable blob column: NULL when `v` is empty.
  Query& bind_or_null(int i, const Bytes& v) {
    if (!v.empty()) return bind(i, v);
    statement_->bind_null(i);
    return *this;
  }

  Step step() { return statement_->step(); }
  // Runs a statement that returns no rows.
  Status run(std::string_view what) {
    if (step() == Step::done) return {};
    return connection_->error(what);
  }
  void reset() { statement_->reset(); }
  Error error(std::string_view what) const { return connection_->error(what); }

  std::int64_t integer(int col) const { return statement_->integer(col); }
  std::optional<std::int64_t> optional_integer(int col) const {
    if (statement_->is_null(col)) return std::nullopt;
    return statement_->integer(col);
  }
  std::string text(int col) const { return statement_->text(col); }
  Bytes blob(int col) const { return statement_->blob(col); }

 private:
  Connection* connection_;
  std::unique_ptr<Statement> owned_;  // null when borrowed
  Statement* statement_;
};

// A write transaction (Connection::begin_write); rolled back unless commit() succeeded.
class Transaction {
 public:
  Transaction(Connection& connection, Durability durability) : connection_(connection) {
    begun_ = connection_.begin_write(durability);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (begun_.ok() && !committed_) connection_.rollback();
  }
  const Status& begun() const { return begun_; }
  Status commit() {
    Status s = connection_.commit();
    committed_ = s.ok();
    return s;
  }

 private:
  Connection& connection_;
  Status begun_;
  bool committed_ = false;
};

}  // namespace touchpass::store::sql
