#include <gtest/gtest.h>

#include "store/postgres_connection.h"
#include "store/postgres_store.h"

namespace touchpass::store::sql {
namespace {

TEST(PostgresSqlTest, NumbersBarePlaceholdersInOrder) {
  const PostgresSql sql = to_postgres_sql("INSERT INTO t (a, b, c) VALUES (?, ?, ?)");
  EXPECT_EQ(sql.text, "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)");
  EXPECT_EQ(sql.parameter_count, 3);
}

TEST(PostgresSqlTest, KeepsTheNumberOfNumberedPlaceholders) {
  const PostgresSql sql = to_postgres_sql("SELECT ?2, ?1, ?12 WHERE x = ?2");
  EXPECT_EQ(sql.text, "SELECT $2, $1, $12 WHERE x = $2");
  EXPECT_EQ(sql.parameter_count, 12);
}

TEST(PostgresSqlTest, NumbersABarePlaceholderAfterTheHighestSoFarAsSqliteDoes) {
  EXPECT_EQ(to_postgres_sql("?3, ?, ?1, ?").text, "$3, $4, $1, $5");
}

TEST(PostgresSqlTest, LeavesQuotedTextAndCommentsAlone) {
  const PostgresSql sql = to_postgres_sql(
      "SELECT '?', 'it''s ?', \"odd?name\", \"a\"\"?\" -- why?\n"
      "FROM \"user\" /* ?1 */ WHERE a = ? AND b = '?2'");
  EXPECT_EQ(sql.text,
            "SELECT '?', 'it''s ?', \"odd?name\", \"a\"\"?\" -- why?\n"
            "FROM \"user\" /* ?1 */ WHERE a = $1 AND b = '?2'");
  EXPECT_EQ(sql.parameter_count, 1);
}

TEST(PostgresSqlTest, CopiesAnUnterminatedLiteralUnchanged) {
  EXPECT_EQ(to_postgres_sql("SELECT ? || 'open ?").text, "SELECT $1 || 'open ?");
  EXPECT_EQ(to_postgres_sql("SELECT 1 -- ?").text, "SELECT 1 -- ?");
  EXPECT_EQ(to_postgres_sql("SELECT 1 /* ?").text, "SELECT 1 /* ?");
}

TEST(PostgresSqlTest, LeavesSqlWithoutPlaceholdersAsItIs) {
  const PostgresSql sql = to_postgres_sql("SELECT count(*) FROM grants WHERE revoked = 0");
  EXPECT_EQ(sql.text, "SELECT count(*) FROM grants WHERE revoked = 0");
  EXPECT_EQ(sql.parameter_count, 0);
}

}  // namespace
}  // namespace touchpass::store::sql

namespace touchpass::store {
namespace {

TEST(PostgresStoreTest, AConnectionStringHoldingAPasswordIsRefusedWithoutShowingIt) {
  for (const char* conninfo : {"host=127.0.0.1 dbname=touchpass password=hunter2",
                               "postgresql://touchpass:hunter2@127.0.0.1/touchpass",
                               "host=127.0.0.1 sslkey=/k sslpassword=hunter2"}) {
    PostgresSettings settings;
    settings.conninfo = conninfo;
    auto opened = open_postgres_store(settings);
    ASSERT_FALSE(opened.ok()) << conninfo;
    EXPECT_EQ(opened.code(), Code::invalid_argument) << conninfo;
    EXPECT_NE(opened.error().message.find("postgresql_password_file"), std::string::npos);
    EXPECT_EQ(opened.error().message.find("hunter2"), std::string::npos);
  }
}

}  // namespace
}  // namespace touchpass::store
