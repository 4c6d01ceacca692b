#pragma once
// A safety net for tests of a real `wharf server`: tasks run under supervisors
// that outlive the server by design, so a test that ends early (a failed
// assertion, a slow sanitizer build) could leave them running after its home
// is gone — managed replicas above all, which serve on until killed.

#include <filesystem>
#include <memory>
#include <string>

#include "testing/http_client.h"
#include "testing/server_process.h"

namespace wharf::testing {

// Kills, with SIGKILL, every task command (its whole process group) and
// supervisor still running from the run directories under `runs_dir` (a
// server's home/runs). Stop the server first, or it would start them again.
// Returns how many processes it killed.
int KillTasksLeftUnder(const std::filesystem::path& runs_dir);

// Waits until the server behind `http` (bearer `token`) has no PENDING or
// RUNNING task; otherwise fails the test naming those still live `after` what.
void ExpectNoTaskLiveSoon(HttpClient& http, const std::string& token, const std::string& after);

// For a fixture's destructor: stops `server` (if any; SIGTERM, so that a task
// it is starting has its supervisor recorded, then SIGKILL if it hangs), then
// kills the tasks left under its `home` until none is, saying on stderr how
// many there were.
void StopServerAndItsTasks(std::unique_ptr<ServerProcess>& server, const std::filesystem::path& home);

}  // namespace wharf::testing
