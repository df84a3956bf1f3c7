// PostgresConnection against a real PostgreSQL 15 (support/postgres_server.h): types, errors,
// transactions, the writers' lock across connections, a lost connection, TLS and a hot standby.
#include "store/postgres_connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

#include "support/postgres_server.h"

namespace touchpass::store::sql {
namespace {

using testing::PostgresServer;

constexpr const char* kCreateTable =
    "CREATE TABLE items (id int8 PRIMARY KEY, name text, data bytea, flag bool, small int2, "
    "medium int4, label varchar(20))";

// One server for a suite, started before its first test and removed after its last.
class ServerSuite : public ::testing::Test {
 protected:
  static void start_server(const PostgresServer::Options& options) {
    if (auto reason = PostgresServer::unavailable()) {
      skip_reason_ = *reason;
      return;
    }
    server_ = PostgresServer::start(options, &setup_error_);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_NE(server_, nullptr) << setup_error_;
  }

  static std::unique_ptr<PostgresConnection> connect(const PostgresServer& server) {
    auto connection = PostgresConnection::open(server.conninfo());
    EXPECT_TRUE(connection.ok()) << connection.error().message;
    return connection.ok() ? std::move(connection.value()) : nullptr;
  }

  // Runs a statement that returns no rows; the failure's message if it did not run.
  static void run(Connection& connection, std::string_view sql) {
    Query q(connection, sql);
    const Status s = q.run("run the test's statement");
    ASSERT_TRUE(s.ok()) << sql << ": " << s.message();
  }

  static std::int64_t count_items(Connection& connection) {
    Query q(connection, "SELECT count(*) FROM items");
    EXPECT_EQ(q.step(), Step::row) << q.error("count").message;
    return q.integer(0);
  }

  static inline std::string skip_reason_;
  static inline std::string setup_error_;
  static inline std::unique_ptr<PostgresServer> server_;
};

class PostgresConnectionTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() { start_server({}); }

  void SetUp() override {
    ServerSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    connection_ = connect(*server_);
    ASSERT_NE(connection_, nullptr);
    run(*connection_, "DROP TABLE IF EXISTS items");
    run(*connection_, kCreateTable);
  }

  std::unique_ptr<PostgresConnection> connection_;
};

TEST_F(PostgresConnectionTest, ReadsBackWhatItBound) {
  const Bytes blob = {0x00, 0x01, 0x7f, 0x80, 0xff};
  constexpr auto kLowest = std::numeric_limits<std::int64_t>::min();
  Query insert(*connection_,
               "INSERT INTO items (id, name, data, flag, small, medium, label) "
               "VALUES (?, ?, ?, ?3 = ?3, ?, ?, ?)");
  ASSERT_EQ(insert.bind(1, kLowest)
                .bind(2, "it's ?1")
                .bind(3, blob)
                .bind(4, std::int64_t{-2})
                .bind(5, std::int64_t{-70000})
                .bind(6, "label")
                .step(),
            Step::done)
      << insert.error("insert").message;
  insert.reset();
  // An empty string and an empty blob stay empty, not NULL; a false reads as 0.
  ASSERT_EQ(insert.bind(1, std::int64_t{2})
                .bind(2, "")
                .bind(3, Bytes{})
                .bind(4, std::int64_t{7})
                .bind(5, std::int64_t{7})
                .bind(6, "")
                .step(),
            Step::done)
      << insert.error("insert").message;
  Query with_false(*connection_, "INSERT INTO items (id, flag) VALUES (?, 1 = 0)");
  ASSERT_EQ(with_false.bind(1, std::int64_t{3}).step(), Step::done);
  Query nulls(*connection_, "INSERT INTO items (id, name, data, small) VALUES (?, ?, ?, ?)");
  ASSERT_EQ(nulls.bind(1, std::int64_t{4})
                .bind(2, std::optional<std::int64_t>())
                .bind_or_null(3, Bytes{})
                .bind(4, std::optional<std::int64_t>())
                .step(),
            Step::done)
      << nulls.error("insert").message;

  Query select(*connection_,
               "SELECT id, name, data, flag, small, medium, label FROM items ORDER BY id");
  ASSERT_EQ(select.step(), Step::row) << select.error("select").message;
  EXPECT_EQ(select.integer(0), kLowest);
  EXPECT_EQ(select.text(1), "it's ?1");
  EXPECT_EQ(select.blob(2), blob);
  EXPECT_EQ(select.integer(3), 1);
  EXPECT_EQ(select.integer(4), -2);
  EXPECT_EQ(select.integer(5), -70000);
  EXPECT_EQ(select.text(6), "label");

  ASSERT_EQ(select.step(), Step::row);
  EXPECT_EQ(select.integer(0), 2);
  EXPECT_FALSE(select.optional_integer(1) == std::nullopt);
  EXPECT_EQ(select.text(1), "");
  EXPECT_EQ(select.optional_integer(2).has_value(), true) << "an empty blob read back as NULL";
  EXPECT_TRUE(select.blob(2).empty());

  ASSERT_EQ(select.step(), Step::row);
  EXPECT_EQ(select.integer(3), 0);

  ASSERT_EQ(select.step(), Step::row);
  EXPECT_EQ(select.optional_integer(1), std::nullopt);
  EXPECT_EQ(select.optional_integer(2), std::nullopt);
  EXPECT_EQ(select.optional_integer(3), std::nullopt);
  EXPECT_EQ(select.optional_integer(4), std::nullopt);
  EXPECT_EQ(select.integer(4), 0);
  EXPECT_TRUE(select.blob(2).empty());

  EXPECT_EQ(select.step(), Step::done);
  EXPECT_EQ(select.step(), Step::done);
}

TEST_F(PostgresConnectionTest, RunsAStatementAgainAfterReset) {
  Query insert(*connection_, "INSERT INTO items (id, name) VALUES (?1, ?2)");
  for (std::int64_t id = 1; id <= 3; ++id) {
    ASSERT_EQ(insert.bind(1, id).bind(2, "n" + std::to_string(id)).step(), Step::done);
    insert.reset();
  }
  Query select(*connection_, "SELECT name FROM items WHERE id = ?");
  ASSERT_EQ(select.bind(1, std::int64_t{2}).step(), Step::row);
  EXPECT_EQ(select.text(0), "n2");
  select.reset();
  ASSERT_EQ(select.bind(1, std::int64_t{3}).step(), Step::row);
  EXPECT_EQ(select.text(0), "n3");
  select.reset();
  EXPECT_EQ(select.bind(1, std::int64_t{9}).step(), Step::done);
}

TEST_F(PostgresConnectionTest, ADuplicateKeyIsAUniqueViolation) {
  run(*connection_, "INSERT INTO items (id) VALUES (1)");
  Query again(*connection_, "INSERT INTO items (id) VALUES (?)");
  EXPECT_EQ(again.bind(1, std::int64_t{1}).step(), Step::unique_violation);
  const Error error = again.error("add the item");
  EXPECT_EQ(error.code, Code::io_error);
  EXPECT_NE(error.message.find("duplicate key"), std::string::npos) << error.message;
  EXPECT_EQ(count_items(*connection_), 1);
}

TEST_F(PostgresConnectionTest, BadSqlIsAnErrorWithTheDatabasesMessage) {
  Query bad(*connection_, "SELEC id FROM items");
  EXPECT_EQ(bad.step(), Step::error);
  const Error error = bad.error("list the items");
  EXPECT_EQ(error.code, Code::io_error);
  EXPECT_EQ(error.message.rfind("The store failed to list the items: syntax error", 0), 0u)
      << error.message;
  EXPECT_EQ(error.message.back(), '.');
  // The connection goes on working.
  EXPECT_EQ(count_items(*connection_), 0);
}

TEST_F(PostgresConnectionTest, AColumnOfATypeItCannotReadIsAnError) {
  Query q(*connection_, "SELECT now() AS stamp");
  EXPECT_EQ(q.step(), Step::error);
  const std::string message = q.error("read the time").message;
  EXPECT_NE(message.find("\"stamp\" has a type the store cannot read"), std::string::npos)
      << message;
}

TEST_F(PostgresConnectionTest, KeepsCommittedWritesAndDropsRolledBackOnes) {
  ASSERT_TRUE(connection_->begin_write(Durability::durable).ok());
  run(*connection_, "INSERT INTO items (id) VALUES (1)");
  ASSERT_TRUE(connection_->commit().ok());

  ASSERT_TRUE(connection_->begin_write(Durability::relaxed).ok());
  run(*connection_, "INSERT INTO items (id) VALUES (2)");
  connection_->rollback();
  {
    Transaction abandoned(*connection_, Durability::durable);
    ASSERT_TRUE(abandoned.begun().ok());
    run(*connection_, "INSERT INTO items (id) VALUES (3)");
  }
  {
    Transaction kept(*connection_, Durability::relaxed);
    ASSERT_TRUE(kept.begun().ok());
    run(*connection_, "INSERT INTO items (id) VALUES (4)");
    ASSERT_TRUE(kept.commit().ok());
  }
  Query ids(*connection_, "SELECT id FROM items ORDER BY id");
  ASSERT_EQ(ids.step(), Step::row);
  EXPECT_EQ(ids.integer(0), 1);
  ASSERT_EQ(ids.step(), Step::row);
  EXPECT_EQ(ids.integer(0), 4);
  EXPECT_EQ(ids.step(), Step::done);
  connection_->rollback();  // harmless without a transaction
}

TEST_F(PostgresConnectionTest, CommittingATransactionWhoseStatementFailedIsAnError) {
  ASSERT_TRUE(connection_->begin_write(Durability::durable).ok());
  run(*connection_, "INSERT INTO items (id) VALUES (1)");
  Query duplicate(*connection_, "INSERT INTO items (id) VALUES (1)");
  EXPECT_EQ(duplicate.step(), Step::unique_violation);
  const Status committed = connection_->commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.code(), Code::io_error);
  EXPECT_NE(committed.message().find("rolled it back"), std::string::npos) << committed.message();
  EXPECT_EQ(count_items(*connection_), 0);
}

TEST_F(PostgresConnectionTest, AWriterWaitsUntilTheOtherWriterCommits) {
  auto other = connect(*server_);
  ASSERT_NE(other, nullptr);
  auto observer = connect(*server_);
  ASSERT_NE(observer, nullptr);

  ASSERT_TRUE(connection_->begin_write(Durability::durable).ok());
  run(*connection_, "INSERT INTO items (id) VALUES (1)");
  std::atomic<bool> first_committing{false};
  std::atomic<bool> second_began_before_commit{false};
  Status second_began;
  std::thread second([&] {
    second_began = other->begin_write(Durability::durable);
    second_began_before_commit = !first_committing.load();
    if (!second_began.ok()) return;
    Query insert(*other, "INSERT INTO items (id) VALUES (2)");
    if (insert.step() != Step::done) {
      other->rollback();
      return;
    }
    second_began = other->commit();
  });
  // Waits until the second writer waits for the lock (no time limit but the test's).
  for (;;) {
    Query waiting(*observer,
                  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    ASSERT_EQ(waiting.step(), Step::row) << waiting.error("look at the locks").message;
    if (waiting.integer(0) == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  first_committing = true;
  const Status committed = connection_->commit();
  second.join();
  ASSERT_TRUE(committed.ok()) << committed.message();
  ASSERT_TRUE(second_began.ok()) << second_began.message();
  EXPECT_FALSE(second_began_before_commit);
  EXPECT_EQ(count_items(*connection_), 2);
}

TEST_F(PostgresConnectionTest, AnIdleConnectionTheServerClosedIsReopenedBeforeItsNextStatement) {
  EXPECT_EQ(count_items(*connection_), 0);
  std::string error;
  ASSERT_TRUE(server_->restart(&error)) << error;
  // The server closed it on its way down (its end of stream is pending): reopened first, so
  // no call fails for it.
  EXPECT_EQ(count_items(*connection_), 0);

  ASSERT_TRUE(server_->restart(&error)) << error;
  ASSERT_TRUE(connection_->begin_write(Durability::durable).ok());
  run(*connection_, "INSERT INTO items (id) VALUES (1)");
  ASSERT_TRUE(connection_->commit().ok());
  EXPECT_EQ(count_items(*connection_), 1);
}

TEST_F(PostgresConnectionTest, WhileTheServerIsDownEveryCallFailsAndThenItReconnects) {
  EXPECT_EQ(count_items(*connection_), 0);
  std::string error;
  ASSERT_TRUE(server_->stop(&error)) << error;
  // No answer is made up.
  for (int i = 0; i < 2; ++i) {
    Query lost(*connection_, "SELECT count(*) FROM items");
    EXPECT_EQ(lost.step(), Step::error);
    EXPECT_FALSE(lost.error("count").message.empty());
    EXPECT_FALSE(connection_->begin_write(Durability::durable).ok());
  }
  ASSERT_TRUE(server_->restart(&error)) << error;
  EXPECT_EQ(count_items(*connection_), 0);
}

TEST_F(PostgresConnectionTest, AConnectionLostInATransactionFailsItsCommit) {
  ASSERT_TRUE(connection_->begin_write(Durability::durable).ok());
  run(*connection_, "INSERT INTO items (id) VALUES (1)");
  std::string error;
  ASSERT_TRUE(server_->restart(&error)) << error;

  Query lost(*connection_, "INSERT INTO items (id) VALUES (2)");
  EXPECT_EQ(lost.step(), Step::error);
  // Not re-opened inside the transaction: its statements, and its commit, fail.
  Query after(*connection_, "INSERT INTO items (id) VALUES (3)");
  EXPECT_EQ(after.step(), Step::error);
  EXPECT_NE(after.error("add").message.find("lost during the transaction"), std::string::npos)
      << after.error("add").message;
  EXPECT_FALSE(connection_->commit().ok());
  connection_->rollback();

  EXPECT_EQ(count_items(*connection_), 0);
}

TEST_F(PostgresConnectionTest, ConnectsWithThePasswordGivenApart) {
  auto connection =
      PostgresConnection::open(server_->conninfo_without_password(), server_->password());
  ASSERT_TRUE(connection.ok()) << connection.error().message;
  EXPECT_EQ(count_items(**connection), 0);
  auto read_only = (*connection)->read_only();
  ASSERT_TRUE(read_only.ok()) << read_only.error().message;
  EXPECT_FALSE(*read_only);
}

TEST_F(PostgresConnectionTest, AFailedConnectionNamesTheDatabaseButNeverThePassword) {
  const std::string wrong = "wrong-" + server_->password();
  auto refused = PostgresConnection::open(server_->conninfo_without_password(), wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::io_error);
  const std::string& message = refused.error().message;
  EXPECT_NE(message.find("\"touchpass\" on 127.0.0.1"), std::string::npos) << message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_EQ(message.find(wrong), std::string::npos) << message;

  auto malformed = PostgresConnection::open("host=127.0.0.1 password=hunter2 dbname");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.code(), Code::invalid_argument);
  EXPECT_EQ(malformed.error().message.find("hunter2"), std::string::npos);
}

class PostgresTlsTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() { start_server({.tls = true}); }
};

TEST_F(PostgresTlsTest, ConnectsWithSslmodeRequire) {
  ASSERT_NE(server_->conninfo().find("sslmode=require"), std::string::npos);
  auto connection = connect(*server_);
  ASSERT_NE(connection, nullptr);
  Query ssl(*connection, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_EQ(ssl.step(), Step::row) << ssl.error("ask about TLS").message;
  EXPECT_EQ(ssl.integer(0), 1);
}

class PostgresStandbyTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() { start_server({}); }
};

TEST_F(PostgresStandbyTest, AStandbyServesReadsRefusesWritesUntilPromoted) {
  {
    auto primary = connect(*server_);
    ASSERT_NE(primary, nullptr);
    run(*primary, kCreateTable);
    run(*primary, "INSERT INTO items (id, name) VALUES (1, 'before the standby')");
  }
  std::string error;
  auto standby_server = server_->start_standby(&error);
  ASSERT_NE(standby_server, nullptr) << error;
  auto standby = connect(*standby_server);
  ASSERT_NE(standby, nullptr);

  Query read(*standby, "SELECT name FROM items WHERE id = 1");
  ASSERT_EQ(read.step(), Step::row) << read.error("read").message;
  EXPECT_EQ(read.text(0), "before the standby");
  auto read_only = standby->read_only();
  ASSERT_TRUE(read_only.ok()) << read_only.error().message;
  EXPECT_TRUE(*read_only);
  const Status refused = standby->begin_write(Durability::durable);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::io_error);
  EXPECT_NE(refused.message().find("read-only hot standby"), std::string::npos)
      << refused.message();

  ASSERT_TRUE(standby_server->promote(&error)) << error;
  // pg_ctl returns once the control file says so; backends may see the end of recovery a moment
  // later. Waits for that (no time limit but the test's).
  for (;;) {
    read_only = standby->read_only();
    ASSERT_TRUE(read_only.ok()) << read_only.error().message;
    if (!*read_only) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(standby->begin_write(Durability::durable).ok());
  run(*standby, "INSERT INTO items (id) VALUES (2)");
  ASSERT_TRUE(standby->commit().ok());
  EXPECT_EQ(count_items(*standby), 2);
}

}  // namespace
}  // namespace touchpass::store::sql
