// touchpass-verify-bench's set-up: a deployment with an enrolled virtual token and issued
// passwords, a store filled with grants straight through SQLite, and the table helpers.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "verify_bench.h"

namespace touchpass::bench::verify {

namespace {

using DbPtr = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

// Prepares `sql` on `db`; a null statement if it does not compile.
StmtPtr prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  return StmtPtr(stmt, &sqlite3_finalize);
}

// Adds grants to the store at `path` (touchpassd must not be running) until it holds `total`,
// all of the first active token, in one transaction through one prepared statement: random
// 16-byte grant ids and 32-byte verifiers (which no password hashes to), names bulk-I, users
// spread over 10,000 names. Returns the seconds it took, or a negative number with `error` set.
// The filler rows carry no MAC (store/integrity.h): no password finds them, so none is checked;
// they are there to make the table and its index as big as a deployment's.
double fill_grants(const fs::path& path, long total, std::string& error) {
  const auto start = Clock::now();
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbPtr db(raw, &sqlite3_close);
  const auto fail = [&](const char* what) {
    error = std::string(what) + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory");
    return -1.0;
  };
  if (rc != SQLITE_OK) return fail("open the store");
  sqlite3_busy_timeout(raw, 5000);
  if (sqlite3_exec(raw, "PRAGMA cache_size=-1048576; PRAGMA synchronous=OFF", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return fail("configure");
  }
  auto count = prepare(raw, "SELECT count(*) FROM grants");
  if (!count || sqlite3_step(count.get()) != SQLITE_ROW) return fail("count the grants");
  const long existing = static_cast<long>(sqlite3_column_int64(count.get(), 0));
  auto token = prepare(raw,
                       "SELECT id, kind, credential FROM tokens WHERE revoked IS NULL "
                       "ORDER BY id LIMIT 1");
  if (!token || sqlite3_step(token.get()) != SQLITE_ROW) return fail("find the token");
  const sqlite3_int64 token_id = sqlite3_column_int64(token.get(), 0);
  const std::string kind(reinterpret_cast<const char*>(sqlite3_column_text(token.get(), 1)));
  const auto* cred = static_cast<const std::uint8_t*>(sqlite3_column_blob(token.get(), 2));
  const std::vector<std::uint8_t> credential(cred, cred + sqlite3_column_bytes(token.get(), 2));

  if (sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("begin");
  auto insert = prepare(raw,
                        "INSERT INTO grants (grant_id, user, name, scopes, created, expires, "
                        "token_id, kind, credential, verifier, proof_auth_data, proof_signature) "
                        "VALUES (?, ?, ?, '', ?, 0, ?, ?, ?, ?, x'', x'')");
  if (!insert) return fail("prepare the insert");
  std::uint64_t state = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                        static_cast<std::uint64_t>(std::time(nullptr));
  const sqlite3_int64 now = std::time(nullptr);
  for (long i = existing; i < total; ++i) {
    std::uint64_t grant_id[2] = {next_random(state), next_random(state)};
    std::uint64_t verifier[4] = {next_random(state), next_random(state), next_random(state),
                                 next_random(state)};
    const std::string user = "bulk-user-" + std::to_string(i % 10000);
    const std::string name = "bulk-" + std::to_string(i);
    sqlite3_stmt* s = insert.get();
    sqlite3_bind_blob(s, 1, grant_id, sizeof grant_id, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, token_id);
    sqlite3_bind_text(s, 6, kind.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 7, credential.data(), static_cast<int>(credential.size()), SQLITE_STATIC);
    sqlite3_bind_blob(s, 8, verifier, sizeof verifier, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return fail("insert a grant");
    sqlite3_reset(s);
  }
  if (sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  insert.reset();
  token.reset();
  count.reset();
  if (sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return fail("checkpoint");
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// The size of the store: its .db and -wal files, in bytes.
std::uintmax_t store_bytes(const fs::path& db) {
  std::error_code ec;
  std::uintmax_t total = 0;
  for (const fs::path& p : {db, fs::path(db.string() + "-wal")}) {
    const auto size = fs::file_size(p, ec);
    if (!ec) total += size;
  }
  return total;
}

// Starts a deployment with `extra_config` lines, enrolls, issues the passwords and, if
// `grants` > 0, fills the store up to that many grants (the daemon is stopped meanwhile).
// nullopt (after printing why) if any step fails.
std::optional<Setup> start_setup(const std::string& extra_config, long grants) {
  Setup s;
  Deployment::Options options;
  options.extra_config = extra_config;
  s.deployment = std::make_unique<Deployment>(options);
  Deployment& d = *s.deployment;
  if (!d.start_token() || !d.start_daemon()) {
    std::fprintf(stderr, "cannot start touchpassd and the virtual token\n%s",
                 d.daemon_log().c_str());
    return std::nullopt;
  }
  s.pid = peer_pid(s.socket());
  if (s.pid <= 0) {
    std::fprintf(stderr, "cannot find touchpassd's process id\n");
    return std::nullopt;
  }
  std::this_thread::sleep_for(300ms);
  s.rss_after_start_kb = status_kb(s.pid, "RssAnon");
  auto client = Client::connect(d.socket());
  const auto enrolled = client ? client->call(req("enroll"), "123456") : std::nullopt;
  if (!enrolled || enrolled->final.kind != touchpass::ipc::Reply::Kind::ok) {
    std::fprintf(stderr, "cannot enroll the virtual token\n");
    return std::nullopt;
  }
  for (int i = 0; i < kPasswords; ++i) {
    const auto issued =
        client->call(req("issue", {{"name", "bench-" + std::to_string(i)}}), "123456");
    if (!issued || issued->final.kind != touchpass::ipc::Reply::Kind::ok ||
        issued->secret.empty()) {
      std::fprintf(stderr, "cannot issue a password\n");
      return std::nullopt;
    }
    s.passwords.push_back(issued->secret);
    s.frames.push_back(verify_frame(kUser, kService, kServiceRemote, issued->secret));
  }
  client.reset();
  if (grants > 0) {
    d.stop_daemon();
    std::string error;
    s.fill_seconds = fill_grants(d.store(), grants, error);
    if (s.fill_seconds < 0) {
      std::fprintf(stderr, "cannot fill the store: %s\n", error.c_str());
      return std::nullopt;
    }
    if (!d.start_daemon()) {
      std::fprintf(stderr, "touchpassd did not restart\n%s", d.daemon_log().c_str());
      return std::nullopt;
    }
    s.pid = peer_pid(s.socket());
    if (s.pid <= 0) {
      std::fprintf(stderr, "cannot find touchpassd's process id\n");
      return std::nullopt;
    }
  }
  return s;
}

// A short note of a run's failures ("" if none).
std::string failure_note(const LoadResult& r) {
  if (r.failures == 0) return "";
  return "  (" + std::to_string(r.failures) + " failed: " + r.first_error + ")";
}

// "yes", or a "NO" that stands out in a table.
std::string yes_no(bool b) {
  return b ? "yes" : "NO";
}

}  // namespace touchpass::bench::verify
