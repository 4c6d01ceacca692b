#include "testing/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include "testing/wait.h"

extern char** environ;

namespace wharf::testing {
namespace {

// The exit code of a waited-for process, or 128 + the signal that ended it.
int ExitCode(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> argv{WHARF_TEST_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  out_fd_ = pipe_fds[0];
  if (rc != 0) {
    pid_ = -1;
    return;
  }
  const std::regex listening(R"(listening on http://[^:]+:(\d+))");
  // Each look waits up to 100 ms for output itself, so there is no pause between looks.
  WaitUntil(
      [&] {
        Drain(100);
        std::smatch m;
        if (std::regex_search(output_, m, listening)) {
          port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
          return true;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {  // died before listening
          exit_code_ = ExitCode(status);
          pid_ = -1;
          Drain(0);
          return true;
        }
        return false;
      },
      kPatience, std::chrono::milliseconds(0));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
  if (out_fd_ >= 0) close(out_fd_);
}

void ServerProcess::Drain(int timeout_ms) {
  if (out_fd_ < 0) return;
  pollfd fd{out_fd_, POLLIN, 0};
  char buffer[4096];
  while (poll(&fd, 1, timeout_ms) > 0) {
    const ssize_t n = read(out_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    output_.append(buffer, static_cast<std::size_t>(n));
    timeout_ms = 0;
  }
}

const std::string& ServerProcess::output() {
  Drain(0);
  return output_;
}

int ServerProcess::Stop(int signal) {
  if (pid_ > 0) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = ExitCode(status);
    dumped_core_ = WIFSIGNALED(status) && WCOREDUMP(status);
    pid_ = -1;
  }
  Drain(0);
  return exit_code_;
}

int ServerProcess::Terminate(std::chrono::milliseconds patience) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, SIGTERM);
  int status = 0;
  if (WaitUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, patience)) {
    exit_code_ = ExitCode(status);
    pid_ = -1;
    Drain(0);
    return exit_code_;
  }
  return Stop(SIGKILL);
}

}  // namespace wharf::testing
