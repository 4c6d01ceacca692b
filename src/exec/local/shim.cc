// The launcher half of the shim: turns the process that the executor spawned
// into a detached supervisor. The executor waits for the launcher, so the
// supervisor is never the server's child (no zombies in the server) and
// shim.pid exists by the time Submit returns.

#include "exec/shim.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "exec/local/proc.h"
#include "exec/local/run_dir.h"
#include "exec/local/supervisor.h"

extern char** environ;

namespace wharf::exec {
namespace {

// In the forked supervisor: detach, become a subreaper, write shim.pid and
// tell the launcher (through `ready_fd`, unless it is -1). false if that
// failed (the launcher then reports it).
bool BecomeSupervisor(const std::filesystem::path& run_dir, int ready_fd) {
  if (::setsid() < 0) {
    std::fprintf(stderr, "wharf: setsid: %s\n", std::strerror(errno));
    return false;
  }
  // Hold no directory of the server's busy: every path we use is absolute.
  if (::chdir("/") != 0) std::fprintf(stderr, "wharf: chdir /: %s\n", std::strerror(errno));
  // Orphaned descendants of the task come to us, so we can end and reap them.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    std::fprintf(stderr, "wharf: PR_SET_CHILD_SUBREAPER: %s\n", std::strerror(errno));
  }
  const auto self = local::IdentifyProcess(::getpid());
  if (!self) {
    std::fprintf(stderr, "wharf: cannot read /proc/self/stat\n");
    return false;
  }
  Status written = local::WriteFileAtomically(run_dir / local::kShimPidFile, local::FormatIdentity(*self) + "\n");
  if (!written.ok()) {
    std::fprintf(stderr, "wharf: %s\n", written.message().c_str());
    return false;
  }
  if (ready_fd < 0) return true;
  const char ready = 'r';
  return ::write(ready_fd, &ready, 1) == 1;
}

// Forks the process that becomes the supervisor, with SupervisorSignals()
// blocked first, so no signal is lost before it waits for them (they stay
// blocked in the parent too). -1 after printing why when fork failed.
pid_t ForkTheSupervisor() {
  const sigset_t signals = local::SupervisorSignals();
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) std::fprintf(stderr, "wharf: fork: %s\n", std::strerror(errno));
  return pid;
}

// The SLURM_* variables slurmd gave this batch job (its allocation).
std::map<std::string, std::string> SlurmJobEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    const auto equals = entry.find('=');
    if (entry.starts_with("SLURM_") && equals != std::string_view::npos) {
      env.emplace(entry.substr(0, equals), entry.substr(equals + 1));
    }
  }
  return env;
}

// Supervises in a child that leads a session of its own (the batch system
// made this process a process group leader, which cannot call setsid), so
// a dead supervisor's leftovers can be found by session. This process is
// the batch job: it passes a cancel request's signal on (Cancel writes the
// cancel file, then scancel --batch --signal=TERM) and exits with the
// supervisor's code.
int SuperviseInForeground(const std::filesystem::path& run_dir) {
  const sigset_t signals = local::SupervisorSignals();
  const pid_t child = ForkTheSupervisor();
  if (child < 0) return 1;
  if (child == 0) {
    const int never = -1;  // no launcher waits for a ready byte here
    if (!BecomeSupervisor(run_dir, never)) ::_exit(1);
    const int code = local::RunSupervisor(run_dir, SlurmJobEnvironment());
    std::fflush(nullptr);
    ::_exit(code);
  }
  for (;;) {
    int signal = 0;
    if (::sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGCHLD) {
      // Only a cancel request (Cancel wrote the file) goes to the supervisor;
      // otherwise Slurm is ending the job itself (a node taken down, its time
      // limit, an scancel from outside): the executor asks Slurm why.
      if (::access((run_dir / local::kCancelFile).c_str(), F_OK) == 0) {
        ::kill(child, signal);
      } else {
        std::fprintf(stderr, "wharf: signal %d without a cancel request: Slurm is ending the job\n", signal);
      }
      continue;
    }
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

int Launch(const std::filesystem::path& run_dir) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "wharf: pipe2: %s\n", std::strerror(errno));
    return 1;
  }
  const pid_t pid = ForkTheSupervisor();
  if (pid < 0) return 1;
  if (pid == 0) {
    ::close(ready[0]);
    const bool ok = BecomeSupervisor(run_dir, ready[1]);
    ::close(ready[1]);
    if (!ok) ::_exit(1);
    const int code = local::RunSupervisor(run_dir);
    std::fflush(nullptr);
    // Skip the static destructors of whichever binary hosts the shim.
    ::_exit(code);
  }
  ::close(ready[1]);
  char ready_byte = 0;
  ssize_t n;
  do {
    n = ::read(ready[0], &ready_byte, 1);
  } while (n < 0 && errno == EINTR);
  ::close(ready[0]);
  return n == 1 ? 0 : 1;
}

}  // namespace

std::optional<int> MaybeRunShim(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const std::string_view mode = argv[1];
  if (mode != kShimArgument && mode != kSuperviseArgument) return std::nullopt;
  if (argc != 3 || argv[2][0] != '/') {
    std::fprintf(stderr, "usage: %s %s ABSOLUTE_RUN_DIR\n", argv[0], std::string(mode).c_str());
    return 2;
  }
  return mode == kShimArgument ? Launch(argv[2]) : SuperviseInForeground(argv[2]);
}

}  // namespace wharf::exec
