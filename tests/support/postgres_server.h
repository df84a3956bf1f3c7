// A real PostgreSQL server for the tests: Debian's PostgreSQL 15 programs (initdb, pg_ctl,
// pg_basebackup, psql) run on a cluster of its own in a temporary directory, listening on
// 127.0.0.1 on a free port, its Unix socket in that directory. PostgreSQL refuses to run as root,
// so when the tests run as root every PostgreSQL program runs as nobody:nogroup (fork, setgid,
// setuid, exec: no login shell needed), and the directory belongs to nobody. The tests connect
// as a role with a password (scram-sha-256 over TCP), to a database of their own. The system's
// PostgreSQL service is never touched. Free of GoogleTest.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace touchpass::testing {

class PostgresServer {
 public:
  struct Options {
    bool tls = false;  // ssl=on with a self-signed certificate (TestCertificate)
  };

  // Why no server can run here (the PostgreSQL programs or the unprivileged user are missing),
  // for GTEST_SKIP; nullopt when one can. The programs are looked for in
  // $TOUCHPASS_POSTGRES_BINDIR, else /usr/lib/postgresql/15/bin.
  static std::optional<std::string> unavailable();

  // Creates, starts and readies a primary server: the role and database "touchpass". nullptr
  // (with the reason and the server's log in `error`) when that fails; nothing is left behind.
  static std::unique_ptr<PostgresServer> start(const Options& options, std::string* error);

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  // Stops the server (killing it if it does not stop) and removes its directory.
  ~PostgresServer();

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  // A libpq connection string for the tests' role and database on 127.0.0.1 over TCP, with
  // sslmode=disable (or, with TLS, sslmode=require) and the password.
  std::string conninfo() const;
  // The cluster's superuser on the tests' database, over the server's Unix socket (trusted):
  // what an administrator uses to create roles.
  std::string superuser_conninfo() const;
  // The same without the password (give it to PostgresConnection::open separately).
  std::string conninfo_without_password() const;
  // The server's log so far (for failure messages).
  std::string log() const;

  // Stops the server (fast shutdown: connections are cut); false with `error` if it failed.
  bool stop(std::string* error);
  // Stops the server if it runs, then starts it again on the same port with the same data.
  bool restart(std::string* error);

  // A hot standby of this primary (pg_basebackup -R) on another port, started and accepting
  // reads; it holds everything committed on the primary before this call. nullptr with `error`
  // when that fails.
  std::unique_ptr<PostgresServer> start_standby(std::string* error);
  // Promotes this standby to a primary and waits until it accepts writes.
  bool promote(std::string* error);

 private:
  PostgresServer(std::filesystem::path dir, int port, std::string password, bool tls);
  std::filesystem::path data() const { return dir_ / "data"; }
  std::filesystem::path log_path() const { return dir_ / "server.log"; }
  // Runs a PostgreSQL program (as nobody when we are root) in dir_, its output appended to the
  // log; false with `error` (naming `step`, with the log's end) unless it exits 0.
  bool run(const std::string& step, const std::vector<std::string>& argv, std::string* error);
  bool write_configuration(std::string* error);
  bool start_server(std::string* error);
  // SIGKILLs a postmaster still running (a failed test, a stop that failed).
  void kill_leftover();

  std::filesystem::path dir_;
  int port_;
  std::string password_;
  bool tls_;
  bool running_ = false;
};

}  // namespace touchpass::testing
