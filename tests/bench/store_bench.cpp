// touchpass-store-bench: the figures of issue 13 — verification on PostgreSQL against SQLite,
// measured in one run. A benchmark, never a test: it asserts nothing about time; it prints a
// table and the ratios.
//
// For each store (SQLite; PostgreSQL 15 started on loopback by support/postgres_server.h) and
// each store size (default 1,000 and 1,000,000 grants) it starts the real touchpassd and a
// virtual token (the integration harness), enrolls and issues 20 app passwords through the
// daemon, fills the store up to the size with grants no password finds (rows inserted straight
// into the database, through the store's own connection classes), restarts the daemon, and
// measures verify throughput and latency (p50, p99, max) on the verification socket at 1, 2
// and 16 closed-loop clients, each on a persistent connection, cycling through the passwords.
// Each PostgreSQL run uses a schema of its own on the one server.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_clients.h"
#include "daemon/daemon_harness.h"
#include "store/postgres_connection.h"
#include "store/sqlite_connection.h"
#include "support/postgres_server.h"

namespace {

namespace fs = std::filesystem;
using namespace touchpass::bench;
using touchpass::testing::Client;
using touchpass::testing::Deployment;
using touchpass::testing::PostgresServer;
using touchpass::testing::req;
namespace sql = touchpass::store::sql;

constexpr const char* kUsage =
    R"(usage: touchpass-store-bench [options]
  --seconds S        length of each run (default 5)
  --grants A[,B...]  store sizes (default 1000,1000000)
  --clients A[,B...] concurrent clients (default 1,2,16)
  --only NAME        only one store: sqlite or postgresql
)";

constexpr int kPasswords = 20;

struct Options {
  int seconds = 5;
  std::vector<long> grants = {1000, 1000000};
  std::vector<int> clients = {1, 2, 16};
  std::vector<std::string> stores = {"sqlite", "postgresql"};
};

bool parse_list(const std::string& text, std::vector<long>& out) {
  out.clear();
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    try {
      std::size_t used = 0;
      const long v = std::stol(text.substr(at, comma - at), &used);
      if (used != comma - at || v < 1) return false;
      out.push_back(v);
    } catch (...) {
      return false;
    }
    at = comma + 1;
  }
  return !out.empty();
}

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    std::vector<long> list;
    if (a == "--seconds" && has_value && parse_list(argv[++i], list) && list.size() == 1) {
      o.seconds = static_cast<int>(std::min(list[0], 3600L));
    } else if (a == "--grants" && has_value && parse_list(argv[++i], list)) {
      o.grants = list;
    } else if (a == "--clients" && has_value && parse_list(argv[++i], list)) {
      o.clients.assign(list.begin(), list.end());
    } else if (a == "--only" && has_value &&
               (std::string(argv[i + 1]) == "sqlite" || std::string(argv[i + 1]) == "postgresql")) {
      o.stores = {argv[++i]};
    } else {
      std::fprintf(stderr, "%s", kUsage);
      return false;
    }
  }
  return true;
}

// Adds grants until the store holds `total`, all of its first token, in one transaction:
// random grant ids and verifiers (which no password hashes to), users spread over 10,000 names.
// They carry no MAC: no password finds them; they make the table and its index a deployment's
// size. Returns the seconds it took, or a negative number with `error` set.
double fill_grants(sql::Connection& db, long total, std::string& error) {
  const auto start = Clock::now();
  const auto fail = [&](sql::Query& q, const char* what) {
    error = q.error(what).message;
    return -1.0;
  };
  sql::Query count(db, "SELECT count(*) FROM grants");
  if (count.step() != sql::Step::row) return fail(count, "count the grants");
  const long existing = static_cast<long>(count.integer(0));
  sql::Query token(db,
                   "SELECT id, kind, credential FROM tokens WHERE revoked IS NULL ORDER BY id "
                   "LIMIT 1");
  if (token.step() != sql::Step::row) return fail(token, "find the token");
  const std::int64_t token_id = token.integer(0);
  const std::string kind = token.text(1);
  const touchpass::Bytes credential = token.blob(2);
  sql::Transaction tx(db, sql::Durability::relaxed);
  if (!tx.begun().ok()) {
    error = std::string(tx.begun().message());
    return -1.0;
  }
  sql::Query insert(db,
                    "INSERT INTO grants (grant_id, \"user\", name, scopes, created, expires, "
                    "token_id, kind, credential, verifier, proof_auth_data, proof_signature) "
                    "VALUES (?, ?, ?, '', ?, 0, ?, ?, ?, ?, ?, ?)");
  std::uint64_t state = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                        static_cast<std::uint64_t>(std::time(nullptr));
  const std::int64_t now = std::time(nullptr);
  touchpass::Bytes grant_id(16), verifier(32);
  const auto randomize = [&](touchpass::Bytes& b) {
    for (std::size_t i = 0; i < b.size(); i += 8) {
      const std::uint64_t r = next_random(state);
      for (std::size_t j = 0; j < 8 && i + j < b.size(); ++j) {
        b[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
      }
    }
  };
  for (long i = existing; i < total; ++i) {
    randomize(grant_id);
    randomize(verifier);
    insert.bind(1, grant_id)
        .bind(2, "bulk-user-" + std::to_string(i % 10000))
        .bind(3, "bulk-" + std::to_string(i))
        .bind(4, now)
        .bind(5, token_id)
        .bind(6, kind)
        .bind(7, credential)
        .bind(8, verifier)
        .bind(9, touchpass::Bytes())
        .bind(10, touchpass::Bytes());
    if (!insert.run("insert a grant").ok()) return fail(insert, "insert a grant");
    insert.reset();
  }
  if (!tx.commit().ok()) {
    error = "commit the grants";
    return -1.0;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One store under test: its daemon's configuration and a connection to its database.
struct Store {
  std::string name;
  std::string extra_config;
  std::function<std::unique_ptr<sql::Connection>(const Deployment&)> connect;
};

struct Row {
  std::string store;
  long grants = 0;
  int clients = 0;
  LoadResult result;
};

// A deployment of `store` holding `grants` grants and kPasswords issued passwords, measured at
// every client count; its rows are appended to `rows` (and printed).
void measure(const Options& o, const Store& store, long grants, std::vector<Row>& rows) {
  Deployment::Options options;
  options.extra_config = "failure_delay_ms = 0\n" + store.extra_config;
  Deployment d(options);
  if (!d.start_token() || !d.start_daemon()) {
    std::fprintf(stderr, "%s: touchpassd did not start\n%s", store.name.c_str(),
                 d.daemon_log().c_str());
    return;
  }
  auto client = Client::connect(d.socket());
  const auto enrolled = client ? client->call(req("enroll"), "123456") : std::nullopt;
  if (!enrolled || enrolled->final.kind != touchpass::ipc::Reply::Kind::ok) {
    std::fprintf(stderr, "%s: cannot enroll\n", store.name.c_str());
    return;
  }
  std::vector<std::string> frames;
  for (int i = 0; i < kPasswords; ++i) {
    const auto issued =
        client->call(req("issue", {{"name", "bench-" + std::to_string(i)}}), "123456");
    if (!issued || issued->final.kind != touchpass::ipc::Reply::Kind::ok) {
      std::fprintf(stderr, "%s: cannot issue\n", store.name.c_str());
      return;
    }
    frames.push_back(verify_frame("root", "imap", "127.0.0.1", issued->secret));
  }
  client.reset();
  d.stop_daemon();
  auto db = store.connect(d);
  std::string error;
  const double fill = db ? fill_grants(*db, grants, error) : -1;
  db.reset();
  if (fill < 0 || !d.start_daemon()) {
    std::fprintf(stderr, "%s: cannot fill the store to %ld grants: %s\n%s", store.name.c_str(),
                 grants, error.c_str(), d.daemon_log().c_str());
    return;
  }
  std::fprintf(stderr, "%s: %ld grants in %.1f s\n", store.name.c_str(), grants, fill);
  for (const int clients : o.clients) {
    LoadSpec spec;
    spec.socket = d.verify_socket().string();
    spec.clients = clients;
    spec.frames = frames;
    spec.duration = std::chrono::seconds(o.seconds);
    Row row{store.name, grants, clients, run_load(spec)};
    std::printf("%-11s %9ld %7d %10.0f %8.0f %8.0f %9.0f %8ld\n", row.store.c_str(), grants,
                clients, row.result.rate(), row.result.percentile_us(0.5),
                row.result.percentile_us(0.99), row.result.max_us(), row.result.failures);
    std::fflush(stdout);
    rows.push_back(std::move(row));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) return 2;
  std::unique_ptr<PostgresServer> server;
  std::string error;
  const bool postgres = std::find(o.stores.begin(), o.stores.end(), "postgresql") != o.stores.end();
  if (postgres) {
    if (auto why = PostgresServer::unavailable()) {
      std::fprintf(stderr, "PostgreSQL cannot run here: %s\n", why->c_str());
      return 1;
    }
    server = PostgresServer::start({}, &error);
    if (!server) {
      std::fprintf(stderr, "PostgreSQL did not start: %s\n", error.c_str());
      return 1;
    }
  }
  const fs::path dir =
      fs::temp_directory_path() / ("touchpass-store-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path password_file = dir / "postgresql-password";
  if (server) {
    std::ofstream(password_file) << server->password() << "\n";
    ::chmod(password_file.c_str(), 0600);
  }

  std::printf(
      "== Verify on each store (persistent connections, %d passwords cycled, %d s per "
      "run) ==\n",
      kPasswords, o.seconds);
  std::printf("%-11s %9s %7s %10s %8s %8s %9s %8s\n", "store", "grants", "clients", "verify/s",
              "p50 us", "p99 us", "max us", "failed");
  std::vector<Row> rows;
  int schema = 0;
  for (const long grants : o.grants) {
    for (const std::string& name : o.stores) {
      Store store;
      store.name = name == "sqlite" ? "SQLite" : "PostgreSQL";
      if (name == "sqlite") {
        store.connect = [](const Deployment& d) -> std::unique_ptr<sql::Connection> {
          auto c = sql::SqliteConnection::open(d.store(), false);
          if (!c.ok()) return nullptr;
          return std::move(*c);
        };
      } else {
        const std::string search = "bench_" + std::to_string(++schema);
        const std::string conninfo =
            server->conninfo_without_password() + " options='-c search_path=" + search + "'";
        auto admin =
            sql::PostgresConnection::open(server->conninfo_without_password(), server->password());
        if (!admin.ok() ||
            !sql::Query(**admin, "CREATE SCHEMA " + search).run("create a schema").ok()) {
          std::fprintf(stderr, "cannot create a schema\n");
          continue;
        }
        store.extra_config = "postgresql = " + conninfo +
                             "\npostgresql_password_file = " + password_file.string() + "\n";
        store.connect = [conninfo, &server](const Deployment&) -> std::unique_ptr<sql::Connection> {
          auto c = sql::PostgresConnection::open(conninfo, server->password());
          if (!c.ok()) return nullptr;
          return std::move(*c);
        };
      }
      measure(o, store, grants, rows);
    }
  }

  // PostgreSQL against SQLite, for each size and client count measured on both.
  std::printf("\n== PostgreSQL / SQLite ==\n%9s %7s %12s %10s %10s\n", "grants", "clients",
              "throughput", "p50", "p99");
  std::map<std::tuple<long, int>, std::map<std::string, const LoadResult*>> by_run;
  for (const Row& r : rows) by_run[{r.grants, r.clients}][r.store] = &r.result;
  for (const auto& [key, results] : by_run) {
    const auto s = results.find("SQLite");
    const auto p = results.find("PostgreSQL");
    if (s == results.end() || p == results.end() || s->second->rate() <= 0) continue;
    const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    std::printf("%9ld %7d %11.2fx %9.2fx %9.2fx\n", std::get<0>(key), std::get<1>(key),
                ratio(p->second->rate(), s->second->rate()),
                ratio(p->second->percentile_us(0.5), s->second->percentile_us(0.5)),
                ratio(p->second->percentile_us(0.99), s->second->percentile_us(0.99)));
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return 0;
}
