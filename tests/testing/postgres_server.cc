#include "testing/postgres_server.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include <pqxx/pqxx>

#include "testing/process.h"

namespace wharf::testing {

namespace {

const std::string kPgUp = WHARF_SOURCE_DIR "/scripts/pg-up";
const std::string kPgDown = WHARF_SOURCE_DIR "/scripts/pg-down";

// A server in `dir`, stopped and deleted with the object.
class Server {
 public:
  // Starts one; pg-up picks a free port, which another process may take
  // before the server binds it, so a failed start is retried.
  static Result<std::unique_ptr<Server>> Start() {
    // Under TMPDIR, so scripts/test sees a server left running. pg-up hands the
    // directory to the postgres user, who must be able to reach it: scripts/test
    // makes the suite's TMPDIR world-searchable.
    std::string pattern = (std::filesystem::temp_directory_path() / "wharf-pg-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return IoError("mkdtemp " + pattern + " failed");
    auto server = std::unique_ptr<Server>(new Server(pattern));
    ProcessResult up;
    for (int attempt = 0; attempt < 3; ++attempt) {
      up = RunProcess({kPgUp, pattern});
      if (up.exit_code == 0) break;
    }
    if (up.exit_code != 0) {
      return Unavailable("scripts/pg-up could not start a server: " + (up.err.empty() ? up.out : up.err));
    }
    std::string url = up.out.substr(0, up.out.find('\n'));
    const std::size_t slash = url.rfind('/');
    if (url.rfind("postgresql://", 0) != 0 || slash == std::string::npos) {
      return Internal("scripts/pg-up printed no URL: " + up.out);
    }
    server->base_url_ = url.substr(0, slash + 1);
    server->admin_url_ = url;
    const std::size_t colon = url.rfind(':', slash);
    server->port_ = url.substr(colon + 1, slash - colon - 1);
    return server;
  }

  ~Server() {
    (void)RunProcess({kPgDown, dir_});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  Status Stop() {
    const ProcessResult down = RunProcess({kPgDown, dir_});
    if (down.exit_code != 0) return Internal("scripts/pg-down failed: " + down.err + down.out);
    return Status::Ok();
  }

  // On the same port, so the URLs handed out stay valid.
  Status Restart() {
    const ProcessResult up = RunProcess({kPgUp, dir_, port_});
    if (up.exit_code != 0) return Internal("scripts/pg-up could not restart the server: " + up.err + up.out);
    return Status::Ok();
  }

  Result<std::string> NewDatabase() {
    const std::string name = "test_" + std::to_string(++databases_);
    WHARF_RETURN_IF_ERROR(ExecPostgres(admin_url_, "CREATE DATABASE " + name));
    return base_url_ + name;
  }

 private:
  explicit Server(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
  std::string base_url_;   // postgresql://postgres@127.0.0.1:PORT/
  std::string admin_url_;  // ...the `postgres` database
  std::string port_;
  std::atomic<int> databases_{0};
};

// This process's server, or why there is none; started once, on the first
// call with `start`.
Result<Server*> SharedServer(bool start = true) {
  static std::mutex mu;
  static std::unique_ptr<Server> server;  // destroyed, so stopped, at exit
  static Status failure;
  std::lock_guard lock(mu);
  if (server == nullptr && failure.ok() && !start) {
    return FailedPrecondition("no PostgreSQL server was started in this process");
  }
  if (server == nullptr && failure.ok()) {
    auto started = Server::Start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      failure = started.status();
    }
  }
  if (!failure.ok()) return failure;
  return server.get();
}

}  // namespace

Result<std::string> NewPostgresDatabase() {
  Result<Server*> server = SharedServer();
  if (!server.ok()) return server.status();
  return (*server)->NewDatabase();
}

Status StopPostgres() {
  WHARF_ASSIGN_OR_RETURN(Server * server, SharedServer(/*start=*/false));
  return server->Stop();
}

Status RestartPostgres() {
  WHARF_ASSIGN_OR_RETURN(Server * server, SharedServer(/*start=*/false));
  return server->Restart();
}

Status ExecPostgres(std::string_view url, std::string_view sql) {
  try {
    pqxx::connection connection{std::string(url)};
    pqxx::nontransaction work(connection);
    work.exec(std::string(sql));
    return Status::Ok();
  } catch (const std::exception& error) {
    return Internal(std::string(url) + ": " + error.what());
  }
}

Result<std::vector<std::vector<std::string>>> QueryPostgres(std::string_view url, std::string_view sql) {
  try {
    pqxx::connection connection{std::string(url)};
    pqxx::nontransaction work(connection);
    std::vector<std::vector<std::string>> rows;
    for (const pqxx::row& row : work.exec(std::string(sql))) {
      auto& out = rows.emplace_back();
      for (const pqxx::field& field : row) out.emplace_back(field.is_null() ? "NULL" : field.c_str());
    }
    return rows;
  } catch (const std::exception& error) {
    return Internal(std::string(url) + ": " + error.what());
  }
}

}  // namespace wharf::testing
