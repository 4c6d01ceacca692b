#pragma once
// The one place a Status becomes a process exit code.

#include "core/status.h"

namespace wharf::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;  // a bug, a library failure, the OS refusing I/O
inline constexpr int kExitBadInput = 2;  // bad input or usage: the user can fix it
inline constexpr int kExitDrift = 3;     // `wharf drift --fail-on-drift` flagged a feature

int ExitCode(const Status& status);

// Returns ExitCode(status), first printing "wharf: <message>" to stderr if
// the status is not OK.
int ExitWith(const Status& status);

}  // namespace wharf::cli
