#pragma once
// Starts `wharf serve` (or any long-running wharf command) as a child
// process for a test, waits until it prints its listening address, and stops
// it when the object goes out of scope — even when the test fails.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wharf::testing {

class ServerProcess {
 public:
  // Runs the wharf binary with `args` (which should include --port 0) and
  // waits up to testing::kPatience for "listening on http://HOST:PORT" on its stdout.
  explicit ServerProcess(const std::vector<std::string>& args);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool started() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Everything the process printed so far (stdout and stderr).
  const std::string& output();

  // Sends `signal` and waits for the exit; returns the exit code (or 128 + signal).
  int Stop(int signal);
  // Whether the kernel dumped a core when Stop's signal ended the process.
  bool dumped_core() const { return dumped_core_; }
  // Asks it to stop (SIGTERM: work in flight, such as a task being started,
  // completes) and waits; SIGKILL if it has not stopped within `patience`.
  int Terminate(std::chrono::milliseconds patience);

 private:
  void Drain(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string output_;
  int exit_code_ = -1;
  bool dumped_core_ = false;
};

}  // namespace wharf::testing
