#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "core/fd.h"
#include "core/random.h"
#include "support/test_certificate.h"

extern char** environ;

namespace touchpass::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabase = "touchpass";
constexpr const char* kRole = "touchpass";
constexpr const char* kSuperuser = "postgres";
constexpr const char* kWaitSeconds = "120";  // generous: the tests run under CPU load

fs::path bin_dir() {
  const char* dir = std::getenv("TOUCHPASS_POSTGRES_BINDIR");
  return dir && *dir ? fs::path(dir) : fs::path("/usr/lib/postgresql/15/bin");
}

std::string program(const char* name) {
  return (bin_dir() / name).string();
}

// The user PostgreSQL runs as when we are root.
struct Unprivileged {
  uid_t uid;
  gid_t gid;
};

std::optional<Unprivileged> unprivileged_user() {
  const passwd* pw = ::getpwnam("nobody");
  if (!pw) return std::nullopt;
  return Unprivileged{pw->pw_uid, pw->pw_gid};
}

bool running_as_root() {
  return ::geteuid() == 0;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
std::optional<int> free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) return std::nullopt;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return std::nullopt;
  }
  return ntohs(address.sin_port);
}

// A new directory for one server, owned by the user PostgreSQL runs as.
std::optional<fs::path> make_directory(std::string* error) {
  std::string pattern = (fs::temp_directory_path() / "touchpass-pg-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    *error = "mkdtemp failed: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  if (running_as_root()) {
    const auto user = unprivileged_user();
    if (!user || ::chown(pattern.c_str(), user->uid, user->gid) != 0) {
      *error = "cannot give " + pattern + " to nobody";
      fs::remove_all(pattern);
      return std::nullopt;
    }
  }
  return fs::path(pattern);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The environment for PostgreSQL's programs: ours without PG* variables (which would redirect
// them), HOME in the server's directory.
std::vector<std::string> child_environment(const fs::path& dir) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("PG") || entry.starts_with("HOME=")) continue;
    env.emplace_back(entry);
  }
  env.push_back("HOME=" + dir.string());
  return env;
}

}  // namespace

std::optional<std::string> PostgresServer::unavailable() {
  for (const char* name : {"initdb", "pg_ctl", "postgres", "pg_basebackup", "psql"}) {
    if (::access(program(name).c_str(), X_OK) != 0) {
      return "PostgreSQL's " + std::string(name) + " is not at " + program(name) +
             " (install Debian's postgresql package, or set TOUCHPASS_POSTGRES_BINDIR)";
    }
  }
  if (running_as_root() && !unprivileged_user()) {
    return "PostgreSQL does not run as root, and there is no user nobody to run it as";
  }
  return std::nullopt;
}

PostgresServer::PostgresServer(fs::path dir, int port, std::string password, bool tls)
    : dir_(std::move(dir)), port_(port), password_(std::move(password)), tls_(tls) {}

std::unique_ptr<PostgresServer> PostgresServer::start(const Options& options, std::string* error) {
  if (auto reason = unavailable()) {
    *error = *reason;
    return nullptr;
  }
  const auto dir = make_directory(error);
  if (!dir) return nullptr;
  const auto port = free_port();
  auto secret = random_bytes(16);
  if (!port || !secret.ok()) {
    *error = "no free port or no randomness";
    fs::remove_all(*dir);
    return nullptr;
  }
  // From here on the destructor cleans up.
  std::unique_ptr<PostgresServer> server(
      new PostgresServer(*dir, *port, to_hex(*secret), options.tls));
  if (!server->run("initdb",
                   {program("initdb"), "--pgdata=" + server->data().string(),
                    std::string("--username=") + kSuperuser, "--auth-local=trust",
                    "--auth-host=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync"},
                   error)) {
    return nullptr;
  }
  // Another program may take the free port before the server binds it: then another port.
  bool started = false;
  for (int attempt = 0; attempt < 3 && !started; ++attempt) {
    if (attempt > 0) {
      const auto another = free_port();
      if (!another) break;
      server->port_ = *another;
    }
    started = server->write_configuration(error) && server->start_server(error);
  }
  if (!started) return nullptr;
  const std::string setup =
      std::string("CREATE ROLE ") + kRole + " LOGIN PASSWORD '" + server->password_ + "'";
  if (!server->run(
          "creating the tests' role and database",
          {program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server->dir_.string(), "-p",
           std::to_string(server->port_), "-U", kSuperuser, "-d", "postgres", "-c", setup, "-c",
           std::string("CREATE DATABASE ") + kDatabase + " OWNER " + kRole},
          error)) {
    return nullptr;
  }
  return server;
}

PostgresServer::~PostgresServer() {
  if (running_) {
    std::string ignored;
    run("pg_ctl stop",
        {program("pg_ctl"), "stop", "-D", data().string(), "-m", "immediate", "-w", "-t",
         kWaitSeconds},
        &ignored);
  }
  kill_leftover();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PostgresServer::conninfo_without_password() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + kDatabase +
         " user=" + kRole + (tls_ ? " sslmode=require" : " sslmode=disable");
}

std::string PostgresServer::superuser_conninfo() const {
  return "host=" + dir_.string() + " port=" + std::to_string(port_) + " dbname=" + kDatabase +
         " user=" + kSuperuser;
}

std::string PostgresServer::conninfo() const {
  return conninfo_without_password() + " password=" + password_;
}

std::string PostgresServer::log() const {
  return read_file(log_path());
}

bool PostgresServer::run(const std::string& step, const std::vector<std::string>& argv,
                         std::string* error) {
  // Everything the child needs is made before fork: after it, only async-signal-safe calls.
  UniqueFd log(::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!log.valid() || !null.valid()) {
    *error = step + ": cannot open the log or /dev/null";
    return false;
  }
  const bool drop = running_as_root();
  const auto user = unprivileged_user();
  if (drop && (!user || ::fchown(log.get(), user->uid, user->gid) != 0)) {
    *error = step + ": cannot give the log to nobody";  // the server (pg_ctl -l) appends to it
    return false;
  }
  std::vector<std::string> env_text = child_environment(dir_);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  const std::string dir_text = dir_.string();

  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = step + ": fork failed";
    return false;
  }
  if (pid == 0) {
    if (::dup2(null.get(), STDIN_FILENO) < 0 || ::dup2(log.get(), STDOUT_FILENO) < 0 ||
        ::dup2(log.get(), STDERR_FILENO) < 0 || ::chdir(dir_text.c_str()) != 0) {
      ::_exit(126);
    }
    if (drop &&
        (::setgroups(0, nullptr) != 0 || ::setgid(user->gid) != 0 || ::setuid(user->uid) != 0)) {
      ::_exit(126);
    }
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  std::string tail = read_file(log_path());
  if (tail.size() > 4000) tail = "..." + tail.substr(tail.size() - 4000);
  *error = step + " failed (exit status " + std::to_string(status) + "); its log:\n" + tail;
  return false;
}

bool PostgresServer::write_configuration(std::string* error) {
  std::ofstream conf(data() / "postgresql.conf", std::ios::app);
  // Later lines win: for a standby these override the primary's, copied by pg_basebackup.
  conf << "\n# touchpass tests\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << dir_.string() << "'\n"
       << "fsync = off\n"
       << "shared_buffers = 16MB\n"
       << "max_connections = 40\n"
       << "hot_standby = on\n";
  if (tls_) conf << "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n";
  conf.close();
  if (!conf) {
    *error = "cannot write postgresql.conf";
    return false;
  }
  if (!tls_ || fs::exists(data() / "server.key")) return true;  // a standby has the primary's
  const auto certificate = TestCertificate::make(dir_);
  if (!certificate) {
    *error = "openssl could not make the server's certificate";
    return false;
  }
  std::error_code ec;
  fs::copy_file(certificate->certificate, data() / "server.crt", ec);
  if (!ec) fs::copy_file(certificate->key, data() / "server.key", ec);
  if (ec) {
    *error = "cannot copy the certificate: " + ec.message();
    return false;
  }
  // The server reads its key only when the key is its own and private.
  for (const char* name : {"server.crt", "server.key"}) {
    const std::string path = (data() / name).string();
    if (::chmod(path.c_str(), 0600) != 0) {
      *error = "cannot chmod " + path;
      return false;
    }
    if (running_as_root()) {
      const auto user = unprivileged_user();
      if (!user || ::chown(path.c_str(), user->uid, user->gid) != 0) {
        *error = "cannot give " + path + " to nobody";
        return false;
      }
    }
  }
  return true;
}

bool PostgresServer::start_server(std::string* error) {
  running_ = true;  // from here the destructor stops it, even if the wait failed
  return run("pg_ctl start",
             {program("pg_ctl"), "start", "-D", data().string(), "-l", log_path().string(), "-w",
              "-t", kWaitSeconds},
             error);
}

bool PostgresServer::stop(std::string* error) {
  if (!running_) return true;
  if (!run("pg_ctl stop",
           {program("pg_ctl"), "stop", "-D", data().string(), "-m", "fast", "-w", "-t",
            kWaitSeconds},
           error)) {
    return false;
  }
  running_ = false;
  return true;
}

bool PostgresServer::restart(std::string* error) {
  return stop(error) && start_server(error);
}

std::unique_ptr<PostgresServer> PostgresServer::start_standby(std::string* error) {
  const auto dir = make_directory(error);
  if (!dir) return nullptr;
  const auto port = free_port();
  if (!port) {
    *error = "no free port";
    fs::remove_all(*dir);
    return nullptr;
  }
  std::unique_ptr<PostgresServer> standby(new PostgresServer(*dir, *port, password_, tls_));
  // Over the primary's Unix socket, where the superuser may replicate without a password.
  if (!standby->run("pg_basebackup",
                    {program("pg_basebackup"), "-h", dir_.string(), "-p", std::to_string(port_),
                     "-U", kSuperuser, "-D", standby->data().string(), "-R", "-X", "stream", "-c",
                     "fast", "--no-sync"},
                    error) ||
      !standby->write_configuration(error) || !standby->start_server(error)) {
    return nullptr;
  }
  return standby;
}

bool PostgresServer::promote(std::string* error) {
  return run("pg_ctl promote",
             {program("pg_ctl"), "promote", "-D", data().string(), "-w", "-t", kWaitSeconds},
             error);
}

void PostgresServer::kill_leftover() {
  std::ifstream pid_file(data() / "postmaster.pid");
  long pid = 0;
  if (!(pid_file >> pid) || pid <= 1) return;
  // Only a postmaster: the file may be stale and its pid reused.
  const fs::path stat = "/proc/" + std::to_string(pid) + "/stat";
  if (read_file(stat).find("(postgres)") == std::string::npos) return;
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  // The postmaster is not our child: wait (bounded) until it is gone or a zombie.
  for (int i = 0; i < 600; ++i) {
    const std::string text = read_file(stat);
    const auto close = text.rfind(')');
    if (text.find("(postgres)") == std::string::npos || close == std::string::npos ||
        text.substr(close + 2, 1) == "Z") {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace touchpass::testing
