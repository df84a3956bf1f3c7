#include "support/store_database.h"

#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "store/postgres_connection.h"
#include "store/postgres_store.h"
#include "store/sqlite_connection.h"
#include "store/sqlite_store.h"
#include "support/postgres_server.h"

namespace touchpass::store {

namespace {

int next_id() {
  static std::mutex mu;
  static int counter = 0;
  std::lock_guard lock(mu);
  return ++counter;
}

class SqliteDatabase final : public StoreDatabase {
 public:
  SqliteDatabase()
      : dir_(std::filesystem::temp_directory_path() /
             ("touchpass-store-db-" + std::to_string(::getpid()) + "-" +
              std::to_string(next_id()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~SqliteDatabase() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  Result<std::unique_ptr<SqlStore>> open() override { return open_sqlite_store(path()); }
  Result<std::unique_ptr<sql::Connection>> raw() override {
    auto c = sql::SqliteConnection::open(path(), false);
    if (!c.ok()) return c.error();
    return std::unique_ptr<sql::Connection>(std::move(*c));
  }

 private:
  std::filesystem::path path() const { return dir_ / "store.db"; }
  std::filesystem::path dir_;
};

// The program's one PostgreSQL server, started by the first test that needs it.
testing::PostgresServer* shared_server(std::string* skip, std::string* error) {
  static std::mutex mu;
  static std::unique_ptr<testing::PostgresServer> server;
  static std::string failure;
  std::lock_guard lock(mu);
  if (auto why = testing::PostgresServer::unavailable()) {
    *skip = *why;
    return nullptr;
  }
  if (!server && failure.empty()) {
    server = testing::PostgresServer::start({}, &failure);
    if (!server && failure.empty()) failure = "PostgreSQL did not start";
  }
  if (!server) *error = failure;
  return server.get();
}

class PostgresDatabase final : public StoreDatabase {
 public:
  PostgresDatabase(testing::PostgresServer& server, std::string schema)
      : server_(server), schema_(std::move(schema)) {}
  ~PostgresDatabase() override {
    auto admin = connect(server_.conninfo_without_password());
    if (admin.ok()) {
      (void)sql::Query(**admin, "DROP SCHEMA " + schema_ + " CASCADE").run("drop the schema");
    }
  }
  Status create() {
    auto admin = connect(server_.conninfo_without_password());
    if (!admin.ok()) return admin.error();
    return sql::Query(**admin, "CREATE SCHEMA " + schema_).run("create the schema");
  }
  Result<std::unique_ptr<SqlStore>> open() override {
    PostgresSettings settings;
    settings.conninfo = conninfo();
    settings.password = SecretBytes::copy_of(server_.password());
    settings.readers = 2;
    return open_postgres_store(settings);
  }
  Result<std::unique_ptr<sql::Connection>> raw() override { return connect(conninfo()); }

 private:
  std::string conninfo() const {
    return server_.conninfo_without_password() + " options='-c search_path=" + schema_ + "'";
  }
  Result<std::unique_ptr<sql::Connection>> connect(const std::string& conninfo) const {
    auto c = sql::PostgresConnection::open(conninfo, server_.password());
    if (!c.ok()) return c.error();
    return std::unique_ptr<sql::Connection>(std::move(*c));
  }
  testing::PostgresServer& server_;
  std::string schema_;
};

}  // namespace

std::string backend_name(Backend backend) {
  return backend == Backend::sqlite ? "SQLite" : "PostgreSQL";
}

std::unique_ptr<StoreDatabase> StoreDatabase::create(Backend backend, std::string* skip,
                                                     std::string* error) {
  if (backend == Backend::sqlite) return std::make_unique<SqliteDatabase>();
  testing::PostgresServer* server = shared_server(skip, error);
  if (server == nullptr) return nullptr;
  auto db = std::make_unique<PostgresDatabase>(
      *server, "test_" + std::to_string(::getpid()) + "_" + std::to_string(next_id()));
  if (Status s = db->create(); !s.ok()) {
    *error = std::string(s.message());
    return nullptr;
  }
  return db;
}

}  // namespace touchpass::store
