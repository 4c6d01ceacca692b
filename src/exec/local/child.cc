#include "exec/local/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace wharf::exec::local {
namespace {

// Used where the task's env has no PATH, like a login shell's default.
constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

// Which step failed in the child; sent to the supervisor through a pipe.
enum class Step : int { kProcessGroup, kCgroup, kRlimit, kStdio, kWorkDir, kExec };

struct Failure {
  Step step;
  int error;
};

// The child: async-signal-safe calls only (the parent is single-threaded, but
// this keeps it correct if that ever changes).
[[noreturn]] void Fail(int report_fd, Step step) {
  const Failure failure{step, errno};
  // Nothing more can be done if the report cannot be sent.
  [[maybe_unused]] const ssize_t ignored = ::write(report_fd, &failure, sizeof failure);
  ::_exit(step == Step::kExec && failure.error == ENOENT ? 127 : 126);
}

// Formats a positive pid without allocating.
std::size_t FormatPid(pid_t pid, char* buffer) {
  char digits[16];
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  for (std::size_t i = 0; i < n; ++i) buffer[i] = digits[n - 1 - i];
  return n;
}

// `path` is null when the PATH search found nothing; `lookup_error` says why.
[[noreturn]] void RunChild(const ChildPlan& plan, const char* path, int lookup_error, char* const* argv,
                           char* const* envp, const std::vector<const char*>& procs, int report_fd) {
  if (::setpgid(0, 0) != 0) Fail(report_fd, Step::kProcessGroup);
  char pid_text[16];
  const std::size_t pid_length = FormatPid(::getpid(), pid_text);
  for (const char* file : procs) {
    const int fd = ::open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) Fail(report_fd, Step::kCgroup);
    if (::write(fd, pid_text, pid_length) != static_cast<ssize_t>(pid_length)) Fail(report_fd, Step::kCgroup);
    ::close(fd);
  }
  if (plan.address_space_limit) {
    const rlimit limit{*plan.address_space_limit, *plan.address_space_limit};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) Fail(report_fd, Step::kRlimit);
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(plan.stdout_fd, STDOUT_FILENO) < 0 ||
      ::dup2(plan.stderr_fd, STDERR_FILENO) < 0) {
    Fail(report_fd, Step::kStdio);
  }
  if (!plan.work_dir.empty() && ::chdir(plan.work_dir.c_str()) != 0) Fail(report_fd, Step::kWorkDir);
  // The supervisor blocks and ignores signals for itself; the task starts clean.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Every inherited descriptor but 0-2 closes on exec, the report pipe included.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (path == nullptr) {
    errno = lookup_error;
  } else {
    ::execve(path, argv, envp);
  }
  Fail(report_fd, Step::kExec);
}

std::string Describe(const Failure& failure, const ChildPlan& plan, const std::string& path) {
  const std::string error = std::strerror(failure.error);
  switch (failure.step) {
    case Step::kProcessGroup: return "cannot create a process group: " + error;
    case Step::kCgroup: return "cannot join the task's cgroup: " + error;
    case Step::kRlimit: return "cannot set the memory limit (RLIMIT_AS): " + error;
    case Step::kStdio: return "cannot redirect stdin/stdout/stderr: " + error;
    case Step::kWorkDir: return "cannot change to work_dir '" + plan.work_dir + "': " + error;
    case Step::kExec: return "cannot execute '" + path + "': " + error;
  }
  return error;
}

bool IsExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<std::string> FindExecutable(const std::string& name, const std::string& path_list,
                                          const std::string& work_dir, int* error) {
  *error = 0;
  if (name.find('/') != std::string::npos) return name;
  *error = ENOENT;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = std::min(path_list.find(':', begin), path_list.size());
    std::filesystem::path dir = path_list.substr(begin, end - begin);
    if (dir.empty()) dir = ".";  // an empty entry means the current directory
    if (dir.is_relative() && !work_dir.empty()) dir = std::filesystem::path(work_dir) / dir;
    const std::string candidate = (dir / name).string();
    if (IsExecutableFile(candidate)) {
      *error = 0;
      return candidate;
    }
    if (::access(candidate.c_str(), F_OK) == 0) *error = EACCES;
    if (end == path_list.size()) break;
    begin = end + 1;
  }
  return std::nullopt;
}

Result<StartedChild> StartChild(const ChildPlan& plan) {
  const auto path_entry = plan.env.find("PATH");
  const std::string path_list = path_entry != plan.env.end() ? path_entry->second : kDefaultPath;
  int lookup_error = 0;
  const std::optional<std::string> found = FindExecutable(plan.argv.front(), path_list, plan.work_dir, &lookup_error);
  // When nothing was found the child still starts, and reports the lookup
  // error as an exec failure: one path for every way a command cannot start.
  const std::string path = found.value_or(plan.argv.front());

  std::vector<std::string> env_strings;
  for (const auto& [name, value] : plan.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> argv;
  for (const auto& arg : plan.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<const char*> procs;
  for (const auto& file : plan.cgroup_procs) procs.push_back(file.c_str());

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Internal(std::string("pipe2: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Internal(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(report[0]);
    RunChild(plan, found ? path.c_str() : nullptr, lookup_error, argv.data(), envp.data(), procs, report[1]);
  }
  ::close(report[1]);
  // Also done by the child; doing it here too means the group exists as soon
  // as fork returns, so a signal to it cannot miss the child.
  ::setpgid(pid, pid);
  StartedChild started{pid, std::nullopt};
  Failure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) started.start_error = Describe(failure, plan, path);
  return started;
}

}  // namespace wharf::exec::local
