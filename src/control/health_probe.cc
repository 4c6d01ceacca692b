#include "control/health_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "net/http_client.h"

namespace wharf::control {

Status ProbeHttp(const std::string& host, std::uint16_t port, const std::string& path,
                 std::chrono::milliseconds timeout) {
  net::HttpClient client(net::HttpEndpoint{host, port}, timeout);
  Result<net::HttpReply> reply = client.Request("GET", path);
  if (!reply.ok()) return Unavailable(reply.status().message());
  if (reply->status >= 200 && reply->status < 400) return Status::Ok();
  return Unavailable(fmt::format("GET {} answered HTTP {}", path, reply->status));
}

Status ProbeCommand(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                    std::chrono::milliseconds timeout) {
  std::vector<std::string> env_text;
  for (const auto& [name, value] : env) env_text.push_back(name + "=" + value);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);  // its own group: a timeout kills all of it
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  // posix_spawnp searches the server's PATH; the probe's env is what it sees.
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return Unavailable(fmt::format("cannot run '{}': {}", argv[0], std::strerror(spawned)));

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return Internal(fmt::format("waitpid: {}", std::strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return Unavailable(fmt::format("timed out after {} ms", timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (WIFEXITED(status)) return Unavailable(fmt::format("exit code {}", WEXITSTATUS(status)));
  return Unavailable(fmt::format("killed by signal {}", WTERMSIG(status)));
}

}  // namespace wharf::control
