#include "exec/executor.h"

#include <array>

namespace wharf::exec {
namespace {

constexpr std::array kOutcomes = {TaskOutcome::kRunning,   TaskOutcome::kSucceeded, TaskOutcome::kFailed,
                                  TaskOutcome::kCancelled, TaskOutcome::kTimedOut,  TaskOutcome::kOutOfMemory,
                                  TaskOutcome::kLost};

}  // namespace

std::string_view TaskOutcomeName(TaskOutcome outcome) {
  switch (outcome) {
    case TaskOutcome::kRunning: return "running";
    case TaskOutcome::kSucceeded: return "succeeded";
    case TaskOutcome::kFailed: return "failed";
    case TaskOutcome::kCancelled: return "cancelled";
    case TaskOutcome::kTimedOut: return "timed_out";
    case TaskOutcome::kOutOfMemory: return "out_of_memory";
    case TaskOutcome::kLost: return "lost";
  }
  return "unknown";
}

Result<TaskOutcome> ParseTaskOutcome(std::string_view name) {
  std::string known;
  for (TaskOutcome outcome : kOutcomes) {
    if (TaskOutcomeName(outcome) == name) return outcome;
    if (!known.empty()) known += ", ";
    known += TaskOutcomeName(outcome);
  }
  return InvalidArgument("unknown task outcome '" + std::string(name) + "'; known: " + known);
}

Result<std::vector<std::string>> Executor::SubmitAll(const std::vector<TaskSpec>& specs) {
  std::vector<std::string> handles;
  for (const TaskSpec& spec : specs) {
    Result<std::string> handle = Submit(spec);
    if (!handle.ok()) {
      for (const auto& started : handles) (void)Cancel(started, std::chrono::milliseconds(0));
      return handle.status();
    }
    handles.push_back(std::move(*handle));
  }
  return handles;
}

}  // namespace wharf::exec
