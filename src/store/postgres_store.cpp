#include "store/postgres_store.h"

#include "store/postgres_connection.h"
#include "store/postgres_schema.h"
#include "store/sql_support.h"

namespace touchpass::store {

Result<std::unique_ptr<SqlStore>> open_postgres_store(const PostgresSettings& settings) {
  return sql::guarded([&]() -> Result<std::unique_ptr<SqlStore>> {
    if (settings.readers < 1) {
      return Error{Code::invalid_argument, "The store needs at least one read connection."};
    }
    auto writer = sql::PostgresConnection::open(settings.conninfo, settings.password);
    if (!writer.ok()) return writer.error();
    if (Status s = sql::migrate_postgres(**writer); !s.ok()) return s;
    SqlStore::Connections connections;
    connections.writer = std::move(*writer);
    for (int i = 0; i < settings.readers; ++i) {
      auto reader = sql::PostgresConnection::open(settings.conninfo, settings.password);
      if (!reader.ok()) return reader.error();
      connections.readers.push_back(std::move(*reader));
    }
    return std::make_unique<SqlStore>(std::move(connections), false);
  });
}

}  // namespace touchpass::store
