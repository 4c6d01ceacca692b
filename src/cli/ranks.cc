#include "cli/ranks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cli/exit_code.h"

extern char** environ;

namespace wharf::cli {

namespace {

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, which has python3-xgboost
constexpr auto kTrackerStartTimeout = std::chrono::seconds(30);
constexpr auto kTrackerExitTimeout = std::chrono::seconds(10);

// This process's environment with `extra` set.
std::vector<std::string> Environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (!extra.count(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  return env;
}

// Starts argv (argv[0] searched in PATH) with `env`; stdout and stderr go to
// `out_fd` and `err_fd` (-1: inherited). Stdin is /dev/null.
Result<pid_t> Spawn(const std::vector<std::string>& argv, std::vector<std::string> env, int out_fd, int err_fd) {
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return Unavailable(fmt::format("{}: cannot start: {}", argv[0], std::strerror(error)));
  return pid;
}

// The exit code of `pid` (128 + signal when a signal ended it).
int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The tracker: a process that listens for the ranks and prints where.
class Tracker {
 public:
  // Starts RabitTracker for `ranks` workers on `host` ("auto": Python
  // guesses the host's address); its log goes to `log`.
  static Result<Tracker> Start(int ranks, const std::string& host, const std::filesystem::path& log) {
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) return IoError(fmt::format("{}: cannot write: {}", log.string(), std::strerror(errno)));
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(log_fd);
      return IoError(std::string("pipe: ") + std::strerror(errno));
    }
    auto pid = Spawn({kPython, "-m", "xgboost.tracker", "--num-workers", std::to_string(ranks), "--host-ip", host},
                     Environment({}), out[1], log_fd);
    ::close(out[1]);
    ::close(log_fd);
    if (!pid.ok()) {
      ::close(out[0]);
      return pid.status();
    }
    Tracker tracker(*pid);
    auto env = ReadEnv(out[0]);
    ::close(out[0]);
    if (!env.ok()) {
      return FailedPrecondition(fmt::format("XGBoost's tracker ({} -m xgboost.tracker, python3-xgboost) did not "
                                            "start: {}; its log: {}",
                                            kPython, env.status().message(), log.string()));
    }
    tracker.env_ = std::move(*env);
    return tracker;
  }

  Tracker(Tracker&& other) noexcept : pid_(std::exchange(other.pid_, -1)), env_(std::move(other.env_)) {}
  Tracker& operator=(Tracker&&) = delete;
  // The tracker ends by itself once every rank has left; one that waits for
  // ranks that died is stopped.
  ~Tracker() {
    if (pid_ < 0) return;
    const auto deadline = std::chrono::steady_clock::now() + kTrackerExitTimeout;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // DMLC_TRACKER_URI and DMLC_TRACKER_PORT, for the ranks.
  const std::map<std::string, std::string>& env() const { return env_; }

 private:
  explicit Tracker(pid_t pid) : pid_(pid) {}

  // The KEY=VALUE lines between DMLC_TRACKER_ENV_START and _END.
  static Result<std::map<std::string, std::string>> ReadEnv(int fd) {
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + kTrackerStartTimeout;
    while (text.find("DMLC_TRACKER_ENV_END\n") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Unavailable("no address after " + std::to_string(kTrackerStartTimeout.count()) + " s");
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return IoError(std::strerror(errno));
      char buffer[512];
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n == 0) return Unavailable("it exited");
      if (n > 0) text.append(buffer, static_cast<std::size_t>(n));
    }
    std::map<std::string, std::string> env;
    for (const char* key : {"DMLC_TRACKER_URI", "DMLC_TRACKER_PORT"}) {
      const auto at = text.find(std::string(key) + "=");
      if (at == std::string::npos) return Unavailable(std::string("it did not print ") + key);
      const auto begin = at + std::strlen(key) + 1;
      env[key] = text.substr(begin, text.find('\n', begin) - begin);
    }
    return env;
  }

  pid_t pid_;
  std::map<std::string, std::string> env_;
};

// wharf-rank, installed beside this executable.
Result<std::string> RankExecutable() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Internal("cannot find this executable: " + ec.message());
  const auto rank = self.parent_path() / "wharf-rank";
  if (!std::filesystem::exists(rank)) return FailedPrecondition(rank.string() + ": not found (build target wharf-rank)");
  return rank.string();
}

}  // namespace

Status RunRanks(const RanksOptions& options) {
  if (options.ranks < 1) return InvalidArgument("--ranks must be at least 1");
  const bool in_allocation = std::getenv("SLURM_JOB_ID") != nullptr;
  const std::string launcher = options.launcher.empty() ? (in_allocation ? "srun" : "mpirun") : options.launcher;
  if (launcher != "mpirun" && launcher != "srun") return InvalidArgument("--launcher: mpirun or srun");
  WHARF_ASSIGN_OR_RETURN(const std::string rank_exe, RankExecutable());

  std::map<std::string, std::string> env;
  std::vector<std::string> argv;
  if (launcher == "mpirun") {
    argv = {"mpirun", "--quiet", "-n", std::to_string(options.ranks), "--oversubscribe", "--bind-to", "none"};
    if (::geteuid() == 0) {
      env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
      env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
    }
  } else {
    argv = {"srun", "--mpi=pmix", "--ntasks", std::to_string(options.ranks), "--kill-on-bad-exit=1"};
  }

  std::optional<Tracker> tracker;
  if (options.needs_tracker && options.ranks > 1) {
    std::error_code ec;
    std::filesystem::create_directories(options.out, ec);
    if (ec) return IoError(fmt::format("{}: cannot create directory: {}", options.out, ec.message()));
    const std::string host =
        !options.tracker_host.empty() ? options.tracker_host : (launcher == "mpirun" ? "127.0.0.1" : "auto");
    WHARF_ASSIGN_OR_RETURN(Tracker started,
                           Tracker::Start(options.ranks, host, std::filesystem::path(options.out) / "tracker.log"));
    tracker.emplace(std::move(started));
    for (const auto& [key, value] : tracker->env()) {
      env[key] = value;
      if (launcher == "mpirun") argv.insert(argv.end(), {"-x", key});  // to ranks on other hosts too
    }
  }
  argv.push_back(rank_exe);
  argv.insert(argv.end(), options.rank_args.begin(), options.rank_args.end());

  const char* job = std::getenv("SLURM_JOB_ID");
  fmt::print("Training on {} ranks, started by {}{}\n", options.ranks, launcher,
             launcher == "srun" && job != nullptr ? fmt::format(" in Slurm job {}", job) : "");
  std::fflush(stdout);
  WHARF_ASSIGN_OR_RETURN(const pid_t pid, Spawn(argv, Environment(env), -1, -1));
  const int code = Wait(pid);
  if (code == 0) return Status::Ok();
  const std::string message = fmt::format("training on {} ranks failed: {} exited with {} (the ranks' messages are above)",
                                          options.ranks, launcher, code);
  return code == kExitBadInput ? InvalidArgument(message) : Internal(message);
}

}  // namespace wharf::cli
