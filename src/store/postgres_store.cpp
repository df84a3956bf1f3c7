#include "store/postgres_store.h"

#include <libpq-fe.h>

#include <cstring>
#include <optional>
#include <string_view>

#include "store/postgres_connection.h"
#include "store/postgres_schema.h"
#include "store/sql_support.h"

namespace touchpass::store {

namespace {

// Whether the connection string carries a password or a client key's passphrase (false also
// when it cannot be parsed: connecting then says why). It is shown in messages and logs.
bool holds_password(const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return false;
  bool found = false;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const bool secret =
        std::strcmp(o->keyword, "password") == 0 || std::strcmp(o->keyword, "sslpassword") == 0;
    if (secret && o->val != nullptr && o->val[0] != '\0') {
      found = true;
    }
  }
  PQconninfoFree(options);
  return found;
}

}  // namespace

Result<std::unique_ptr<SqlStore>> open_postgres_store(const PostgresSettings& settings) {
  return sql::guarded([&]() -> Result<std::unique_ptr<SqlStore>> {
    if (settings.readers < 1) {
      return Error{Code::invalid_argument, "The store needs at least one read connection."};
    }
    if (holds_password(settings.conninfo)) {
      return Error{Code::invalid_argument,
                   "The PostgreSQL connection string holds a password; put it in its own file "
                   "(postgresql_password_file, mode 0600) instead, where only touchpassd can "
                   "read it."};
    }
    std::optional<std::string_view> password;
    if (!settings.password.empty()) password = settings.password.view();
    auto writer = sql::PostgresConnection::open(settings.conninfo, password);
    if (!writer.ok()) return writer.error();
    if (Status s = sql::migrate_postgres(**writer); !s.ok()) return s;
    SqlStore::Connections connections;
    connections.writer = std::move(*writer);
    for (int i = 0; i < settings.readers; ++i) {
      // Verification's connections write only attempts and failure counts, which may lose
      // their last moments in a crash of the database server, like the SQLite store's batches:
      // they do not wait for the disk.
      auto reader =
          sql::PostgresConnection::open(settings.conninfo, password, "-c synchronous_commit=off");
      if (!reader.ok()) return reader.error();
      connections.readers.push_back(std::move(*reader));
    }
    return std::make_unique<SqlStore>(std::move(connections), false);
  });
}

}  // namespace touchpass::store
