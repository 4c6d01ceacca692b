#include "cli/commands.h"
#include "exec/shim.h"

int main(int argc, char** argv) {
  // The local executor re-runs this binary as a task's supervisor.
  if (auto code = wharf::exec::MaybeRunShim(argc, argv)) return *code;
  return wharf::cli::RunCli(argc, argv);
}
