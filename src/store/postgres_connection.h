// PostgresConnection: the store's sql::Connection over libpq (PostgreSQL 15). Statements run with
// PQexecParams, their parameters typed and sent in binary, their results read in binary. Writers
// serialize on a transaction-scoped advisory lock (kWriterLockKey), so every touchpassd on every
// host that shares the database writes one at a time. A connection found broken is re-opened
// (PQreset) once, at the next begin_write or at a statement's first step outside a transaction;
// a statement that failed is never retried: an error stays an error.
// PostgreSQL, unlike SQLite, abandons a transaction at its first failed statement (also a
// unique_violation): the caller rolls back, and commit() of such a transaction is an error.
// Internal to src/store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/sql_connection.h"

struct pg_conn;

namespace touchpass::store::sql {

// The store's SQL (sql_connection.h) with PostgreSQL's placeholders.
struct PostgresSql {
  std::string text;
  int parameter_count = 0;  // the highest parameter number used
};

// Translates the placeholders of the store's dialect: `?N` becomes `$N`, and each bare `?` the
// number after the highest one so far (as SQLite numbers them; `?` alone is $1, $2, … in order).
// Single-quoted literals, double-quoted identifiers and comments are copied unchanged. Pure.
PostgresSql to_postgres_sql(std::string_view sql);

class PostgresConnection final : public Connection {
 public:
  // The advisory lock every writer holds for its transaction: "touchpas" in ASCII.
  static constexpr std::int64_t kWriterLockKey = 0x746f756368706173;

  // Connects with `conninfo`, a libpq connection string or URI (sslmode and the rest pass
  // through). `password`, when given, overrides one in `conninfo`; this function's copies of it
  // are wiped. Defaults that `conninfo` may override: connect_timeout=5, TCP keepalives,
  // application_name=touchpassd; client_encoding is always UTF8. io_error naming the host and
  // database (never the password) when the connection fails; invalid_argument when `conninfo`
  // cannot be parsed.
  // `session_options`: server settings for this connection (e.g. "-c synchronous_commit=off"),
  // added to the connection string's `options`; they hold again after a reconnection.
  static Result<std::unique_ptr<PostgresConnection>> open(
      const std::string& conninfo, std::optional<std::string_view> password = std::nullopt,
      std::string_view session_options = {});

  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;
  // Rolls back an open transaction and closes the connection.
  ~PostgresConnection() override;

  std::unique_ptr<Statement> prepare(std::string_view sql) override;
  // BEGIN READ WRITE, then the writer lock (waiting for any other writer's commit or rollback);
  // relaxed also turns synchronous_commit off for this transaction. io_error when the database
  // is a read-only standby (the message says so) or unreachable.
  Status begin_write(Durability durability) override;
  // COMMIT. io_error when it failed, or when the transaction had already failed (PostgreSQL then
  // rolls it back) or the connection was lost (its outcome is then unknown).
  Status commit() override;
  void rollback() override;
  Error error(std::string_view what) const override;

  // Whether the database accepts no writes (a hot standby, or default_transaction_read_only),
  // as `SHOW transaction_read_only` says; io_error when it cannot be asked.
  Result<bool> read_only();

 private:
  class PgStatement;
  struct ConnCloser {
    void operator()(pg_conn* conn) const;
  };

  explicit PostgresConnection(pg_conn* conn);
  // Re-opens a broken connection (PQreset, once); false (with last_error_ set) if it stays
  // broken.
  bool ensure_connected();
  // Records libpq's last connection error as last_error_.
  void note_connection_error();

  std::unique_ptr<pg_conn, ConnCloser> conn_;
  bool in_transaction_ = false;
  std::string last_error_;
};

}  // namespace touchpass::store::sql
