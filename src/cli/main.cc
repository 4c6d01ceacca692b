#include "cli/commands.h"

int main(int argc, char** argv) { return wharf::cli::RunCli(argc, argv); }
