#include "store/postgres_connection.h"

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <poll.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "core/secret.h"

namespace touchpass::store::sql {
namespace {

// The type oids (pg_type.oid) the store reads and binds; fixed since PostgreSQL 7.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kUnknownOid = 0;  // a NULL parameter: the server infers its type

constexpr int kBinary = 1;
constexpr const char* kUniqueViolation = "23505";
constexpr const char* kReadOnlyTransaction = "25006";  // a write on a hot standby
constexpr const char* kLostInTransaction =
    "the connection to the database was lost during the transaction";

// Frees a result after wiping its values (rows may hold secrets).
struct ResultClearer {
  void operator()(PGresult* result) const {
    const int rows = PQntuples(result);
    const int columns = PQnfields(result);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < columns; ++c) {
        const int length = PQgetlength(result, r, c);
        if (length > 0) OPENSSL_cleanse(PQgetvalue(result, r, c), static_cast<std::size_t>(length));
      }
    }
    PQclear(result);
  }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// The first line of a libpq message, without trailing blanks or full stop.
std::string first_line(const char* message) {
  std::string text = message ? message : "";
  if (const auto newline = text.find('\n'); newline != std::string::npos) text.resize(newline);
  while (!text.empty() && (text.back() == ' ' || text.back() == '.' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

// What went wrong with `result` (or, when there is none, with the connection).
std::string describe_failure(const PGresult* result, PGconn* conn) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary ? first_line(primary) : first_line(PQerrorMessage(conn));
  if (message.empty()) message = "the database gave no reason";
  // The server reports in_hot_standby (PostgreSQL 14 and later) whenever it changes.
  const char* standby = PQparameterStatus(conn, "in_hot_standby");
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (standby && std::strcmp(standby, "on") == 0) {
    message += " (the database is a read-only hot standby)";
  } else if (state && std::strcmp(state, kReadOnlyTransaction) == 0) {
    message += " (the database accepts no writes)";
  }
  return message;
}

bool succeeded(const PGresult* result) {
  if (!result) return false;
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

bool readable_type(Oid type) {
  switch (type) {
    case kBoolOid:
    case kByteaOid:
    case kNameOid:
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kTextOid:
    case kVarcharOid:
      return true;
    default:
      return false;
  }
}

// A big-endian signed integer of `size` bytes (2, 4 or 8).
std::int64_t big_endian(const char* value, int size) {
  std::uint64_t bits = 0;
  for (int i = 0; i < size; ++i) bits = (bits << 8) | static_cast<unsigned char>(value[i]);
  if (size < 8) {
    const std::uint64_t sign = std::uint64_t{1} << (size * 8 - 1);
    if (bits & sign) bits |= ~((sign << 1) - 1);
  }
  return static_cast<std::int64_t>(bits);
}

// `text` with every occurrence of each secret replaced.
std::string redacted(std::string text, const std::vector<std::string_view>& secrets) {
  for (const std::string_view s : secrets) {
    if (s.empty()) continue;
    for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at)) {
      text.replace(at, s.size(), "(hidden)");
    }
  }
  return text;
}

// A NUL-terminated copy of `text` that wipes itself.
SecretBytes c_string_secret(std::string_view text) {
  SecretBytes secret(text.size() + 1);
  std::memcpy(secret.data(), text.data(), text.size());
  return secret;
}

}  // namespace

PostgresSql to_postgres_sql(std::string_view sql) {
  PostgresSql out;
  out.text.reserve(sql.size() + 16);
  std::size_t i = 0;
  // Copies sql[i, end) unchanged and moves past it.
  const auto copy_to = [&](std::size_t end) {
    end = std::min(end, sql.size());
    out.text.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'' || c == '"') {
      // A doubled quote inside ends this span and starts the next one: the same text.
      const std::size_t close = sql.find(c, i + 1);
      copy_to(close == std::string_view::npos ? sql.size() : close + 1);
    } else if (c == '-' && next == '-') {
      copy_to(sql.find('\n', i));
    } else if (c == '/' && next == '*') {
      const std::size_t close = sql.find("*/", i + 2);
      copy_to(close == std::string_view::npos ? sql.size() : close + 2);
    } else if (c == '?') {
      std::size_t j = i + 1;
      int number = 0;
      while (j < sql.size() && j - i <= 5 && sql[j] >= '0' && sql[j] <= '9') {
        number = number * 10 + (sql[j] - '0');
        ++j;
      }
      if (j == i + 1) number = out.parameter_count + 1;
      out.parameter_count = std::max(out.parameter_count, number);
      out.text += '$';
      out.text += std::to_string(number);
      i = j;
    } else {
      out.text += c;
      ++i;
    }
  }
  return out;
}

// One statement: its parameters (copies that wipe themselves) and, once run, its result.
class PostgresConnection::PgStatement final : public Statement {
 public:
  PgStatement(PostgresConnection& connection, PostgresSql sql)
      : connection_(connection), sql_(std::move(sql)) {}

  void bind_integer(int index, std::int64_t value) override {
    SecretBytes bytes(8);
    auto bits = static_cast<std::uint64_t>(value);
    for (int i = 7; i >= 0; --i) {
      bytes.data()[i] = static_cast<std::uint8_t>(bits & 0xff);
      bits >>= 8;
    }
    set(index, Parameter{kInt8Oid, false, std::move(bytes)});
  }
  void bind_text(int index, std::string_view value) override {
    set(index, Parameter{kTextOid, false, SecretBytes::copy_of(value)});
  }
  void bind_blob(int index, std::span<const std::uint8_t> value) override {
    set(index, Parameter{kByteaOid, false, SecretBytes::copy_of(value)});
  }
  void bind_null(int index) override { set(index, Parameter{kUnknownOid, true, SecretBytes()}); }

  Step step() override {
    if (!ran_) return run();
    if (outcome_ != Step::row) return outcome_;
    if (++row_ < PQntuples(result_.get())) return Step::row;
    outcome_ = Step::done;
    return outcome_;
  }

  void reset() override {
    result_.reset();
    parameters_.clear();
    bind_error_.clear();
    ran_ = false;
    row_ = -1;
    outcome_ = Step::done;
  }

  bool is_null(int column) const override {
    return !on_row(column) || PQgetisnull(result_.get(), row_, column) != 0;
  }

  std::int64_t integer(int column) const override {
    if (is_null(column)) return 0;
    const char* value = PQgetvalue(result_.get(), row_, column);
    const int length = PQgetlength(result_.get(), row_, column);
    switch (PQftype(result_.get(), column)) {
      case kBoolOid:
        return length == 1 && value[0] != 0 ? 1 : 0;
      case kInt2Oid:
        return length == 2 ? big_endian(value, 2) : 0;
      case kInt4Oid:
        return length == 4 ? big_endian(value, 4) : 0;
      case kInt8Oid:
        return length == 8 ? big_endian(value, 8) : 0;
      default:
        return 0;
    }
  }

  std::string text(int column) const override {
    if (is_null(column)) return {};
    return std::string(PQgetvalue(result_.get(), row_, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row_, column)));
  }

  Bytes blob(int column) const override {
    if (is_null(column)) return {};
    const auto* value =
        reinterpret_cast<const std::uint8_t*>(PQgetvalue(result_.get(), row_, column));
    return Bytes(value, value + PQgetlength(result_.get(), row_, column));
  }

 private:
  struct Parameter {
    Oid type = kUnknownOid;
    bool is_null = true;
    SecretBytes value;
  };

  void set(int index, Parameter parameter) {
    if (index < 1 || index > 65535) {
      bind_error_ = "parameter " + std::to_string(index) + " is out of range";
      return;
    }
    if (parameter.value.size() > static_cast<std::size_t>(INT_MAX)) {
      bind_error_ = "parameter " + std::to_string(index) + " is too large";
      return;
    }
    const auto slot = static_cast<std::size_t>(index - 1);
    if (parameters_.size() <= slot) parameters_.resize(slot + 1);
    parameters_[slot] = std::move(parameter);
  }

  bool on_row(int column) const {
    return result_ && outcome_ == Step::row && column >= 0 && column < PQnfields(result_.get());
  }

  Step fail(std::string message, Step outcome = Step::error) {
    connection_.last_error_ = std::move(message);
    outcome_ = outcome;
    return outcome_;
  }

  Step run() {
    ran_ = true;
    if (!bind_error_.empty()) return fail(bind_error_);
    if (!connection_.ensure_connected()) {
      outcome_ = Step::error;
      return outcome_;
    }
    PGconn* conn = connection_.conn_.get();
    const std::size_t count =
        std::max(static_cast<std::size_t>(sql_.parameter_count), parameters_.size());
    parameters_.resize(count);  // unbound parameters are NULL
    static const char kEmpty[1] = {'\0'};
    std::vector<Oid> types(count);
    std::vector<const char*> values(count);
    std::vector<int> lengths(count);
    std::vector<int> formats(count, kBinary);
    for (std::size_t i = 0; i < count; ++i) {
      const Parameter& p = parameters_[i];
      types[i] = p.type;
      if (p.is_null) continue;
      // An empty value is an empty string or blob, never NULL: it needs a pointer.
      values[i] = p.value.empty() ? kEmpty : reinterpret_cast<const char*>(p.value.data());
      lengths[i] = static_cast<int>(p.value.size());
    }
    result_.reset(PQexecParams(conn, sql_.text.c_str(), static_cast<int>(count), types.data(),
                               values.data(), lengths.data(), formats.data(), kBinary));
    const PGresult* result = result_.get();
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) {
      outcome_ = Step::done;
      return outcome_;
    }
    if (status != PGRES_TUPLES_OK) {
      const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
      const bool duplicate = state && std::strcmp(state, kUniqueViolation) == 0;
      const bool read_only = state && std::strcmp(state, kReadOnlyTransaction) == 0;
      return fail(describe_failure(result, conn), duplicate   ? Step::unique_violation
                                                  : read_only ? Step::read_only
                                                              : Step::error);
    }
    for (int column = 0; column < PQnfields(result); ++column) {
      if (!readable_type(PQftype(result, column))) {
        return fail("its column \"" + std::string(PQfname(result, column)) +
                    "\" has a type the store cannot read (PostgreSQL type oid " +
                    std::to_string(PQftype(result, column)) + ")");
      }
    }
    outcome_ = Step::row;
    row_ = -1;
    return step();
  }

  PostgresConnection& connection_;
  PostgresSql sql_;
  std::vector<Parameter> parameters_;
  std::string bind_error_;
  ResultPtr result_;
  bool ran_ = false;
  int row_ = -1;
  Step outcome_ = Step::done;
};

void PostgresConnection::ConnCloser::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

PostgresConnection::PostgresConnection(pg_conn* conn) : conn_(conn) {}

PostgresConnection::~PostgresConnection() {
  rollback();
}

Result<std::unique_ptr<PostgresConnection>> PostgresConnection::open(
    const std::string& conninfo, std::optional<std::string_view> password,
    std::string_view session_options) {
  // Parsed first, to refuse a malformed string without echoing it (it may hold a password) and
  // to know the password libpq may quote back.
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    if (parse_error) {
      OPENSSL_cleanse(parse_error, std::strlen(parse_error));
      PQfreemem(parse_error);
    }
    return Error{Code::invalid_argument,
                 "The store's database connection string cannot be parsed (it is not shown: it "
                 "may hold a password)."};
  }
  SecretBytes conninfo_password;
  std::string server_options;  // the connection string's, then session_options
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    if (std::strcmp(o->keyword, "options") == 0) server_options = o->val;
    if (std::strcmp(o->keyword, "password") == 0) conninfo_password = SecretBytes::copy_of(o->val);
    OPENSSL_cleanse(o->val, std::strlen(o->val));
  }
  PQconninfoFree(options);

  const SecretBytes given_password = password ? c_string_secret(*password) : SecretBytes();
  // Keywords before dbname are defaults the connection string overrides; after it, they win.
  std::vector<const char*> keywords = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "application_name", "dbname"};
  std::vector<const char*> values = {"5", "1", "30", "10", "3", "touchpassd", conninfo.c_str()};
  // The store's text is UTF-8, whatever the environment says.
  keywords.push_back("client_encoding");
  values.push_back("UTF8");
  if (!session_options.empty()) {
    if (!server_options.empty()) server_options += ' ';
    server_options += session_options;
    keywords.push_back("options");
    values.push_back(server_options.c_str());
  }
  if (password) {
    keywords.push_back("password");
    values.push_back(given_password.view().data());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<pg_conn, ConnCloser> conn(
      PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!conn) {
    return Error{Code::io_error, "The store failed to connect to the database: out of memory."};
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    const auto field = [](const char* value) { return std::string(value ? value : "?"); };
    const std::string where = "database \"" + field(PQdb(conn.get())) + "\" on " +
                              field(PQhost(conn.get())) + " port " + field(PQport(conn.get()));
    return Error{Code::io_error, redacted("The store failed to connect to " + where + ": " +
                                              first_line(PQerrorMessage(conn.get())) + ".",
                                          {conninfo_password.view(), password.value_or("")})};
  }
  // Notices (e.g. "table does not exist, skipping") are not errors; libpq would print them.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PostgresConnection>(new PostgresConnection(conn.release()));
}

std::unique_ptr<Statement> PostgresConnection::prepare(std::string_view sql) {
  return std::make_unique<PgStatement>(*this, to_postgres_sql(sql));
}

bool PostgresConnection::ensure_connected() {
  // A server that restarted (or closed idle connections) has left an end of stream, often after
  // a FATAL notice, on an idle connection: reading what is pending (it never blocks) turns
  // the connection bad now, so it is reopened before the statement rather than failing it.
  for (int look = 0; look < 3 && !in_transaction_ && PQstatus(conn_.get()) == CONNECTION_OK;
       ++look) {
    pollfd idle{PQsocket(conn_.get()), POLLIN, 0};
    if (idle.fd < 0 || ::poll(&idle, 1, 0) <= 0) break;  // nothing pending: as it should be
    if ((idle.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0 || PQconsumeInput(conn_.get()) == 0) {
      PQreset(conn_.get());
      break;
    }
  }
  if (PQstatus(conn_.get()) == CONNECTION_OK) return true;
  if (in_transaction_) {
    last_error_ = kLostInTransaction;
    return false;
  }
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) == CONNECTION_OK) return true;
  note_connection_error();
  return false;
}

void PostgresConnection::note_connection_error() {
  last_error_ = first_line(PQerrorMessage(conn_.get()));
  if (last_error_.empty()) last_error_ = "the connection to the database failed";
}

Status PostgresConnection::begin_write(Durability durability) {
  if (in_transaction_) {
    return Error{Code::internal, "The store failed to begin a write: one is already open."};
  }
  if (!ensure_connected()) return error("begin a write");
  std::string sql =
      "BEGIN READ WRITE; SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) + ")";
  if (durability == Durability::relaxed) sql += "; SET LOCAL synchronous_commit = off";
  const ResultPtr result(PQexec(conn_.get(), sql.c_str()));
  if (!succeeded(result.get())) {
    last_error_ = describe_failure(result.get(), conn_.get());
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE &&
        PQstatus(conn_.get()) == CONNECTION_OK) {
      const ResultPtr rolled_back(PQexec(conn_.get(), "ROLLBACK"));
    }
    return error("begin a write");
  }
  in_transaction_ = true;
  return {};
}

Status PostgresConnection::commit() {
  if (!in_transaction_) {
    return Error{Code::internal, "The store failed to commit: no write is open."};
  }
  in_transaction_ = false;
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    last_error_ = kLostInTransaction;
    return error("commit");
  }
  const ResultPtr result(PQexec(conn_.get(), "COMMIT"));
  if (!succeeded(result.get())) {
    last_error_ = describe_failure(result.get(), conn_.get());
    return error("commit");
  }
  // COMMIT of a transaction that had failed rolls it back, and says so only here.
  if (std::strcmp(PQcmdStatus(result.get()), "COMMIT") != 0) {
    last_error_ = "a statement of the transaction had failed, so the database rolled it back";
    return error("commit");
  }
  return {};
}

void PostgresConnection::rollback() {
  in_transaction_ = false;
  if (PQstatus(conn_.get()) != CONNECTION_OK) return;
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return;
  const ResultPtr rolled_back(PQexec(conn_.get(), "ROLLBACK"));
}

Error PostgresConnection::error(std::string_view what) const {
  std::string message = "The store failed to " + std::string(what);
  if (!last_error_.empty()) message += ": " + last_error_;
  return Error{Code::io_error, message + "."};
}

Result<bool> PostgresConnection::read_only() {
  const std::string what = "ask whether the database accepts writes";
  if (!ensure_connected()) return error(what);
  const ResultPtr result(PQexec(conn_.get(), "SHOW transaction_read_only"));
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1 ||
      PQnfields(result.get()) != 1) {
    last_error_ = describe_failure(result.get(), conn_.get());
    return error(what);
  }
  return std::strcmp(PQgetvalue(result.get(), 0, 0), "on") == 0;
}

}  // namespace touchpass::store::sql
