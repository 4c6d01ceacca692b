#include "cli/exit_code.h"

#include <iostream>

namespace wharf::cli {

int ExitCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kDataLoss:
    case StatusCode::kUnimplemented:
    case StatusCode::kUnauthenticated: return kExitBadInput;
    case StatusCode::kInternal:
    case StatusCode::kIoError:
    case StatusCode::kUnavailable: return kExitInternal;
  }
  return kExitInternal;
}

int ExitWith(const Status& status) {
  if (status.ok()) return kExitOk;
  std::cerr << "wharf: " << status.message() << std::endl;
  return ExitCode(status);
}

}  // namespace wharf::cli
