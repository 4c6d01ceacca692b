#pragma once
// Runs a program as argv (never through a shell) and collects its output, for
// tests that drive the real `wharf` binary.

#include <string>
#include <vector>

namespace wharf::testing {

struct ProcessResult {
  int exit_code = -1;   // the exit status, or 128 + signal number
  std::string out;      // standard output
  std::string err;      // standard error
  long max_rss_kb = 0;  // peak resident memory of the process
};

// Runs argv[0] (searched in PATH) with the given arguments and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv);

// Runs the wharf binary of this build with `args`.
ProcessResult RunWharf(const std::vector<std::string>& args);

// Whether this build has the deep learning plugin beside the binary
// (sanitizer builds and builds without LibTorch do not).
bool WharfHasDeepLearning();

}  // namespace wharf::testing
