// The backend-independent parts of metadata_store.h: task states and their
// legal moves, task ids, name rules. Every backend enforces the same ones.

#include "core/clock.h"
#include "core/random.h"
#include "store/metadata_store.h"

#include <array>
#include <chrono>

#include <fmt/format.h>

namespace wharf::store {

namespace {

constexpr std::array<TaskState, 5> kTaskStates = {TaskState::kPending, TaskState::kRunning, TaskState::kSucceeded,
                                                  TaskState::kFailed, TaskState::kCancelled};

constexpr std::size_t kMaxNameChars = 128;

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsAsciiLetter(c) || IsAsciiDigit(c) || c == '.' || c == '_' || c == '-'; }

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kPending: return "PENDING";
    case TaskState::kRunning: return "RUNNING";
    case TaskState::kSucceeded: return "SUCCEEDED";
    case TaskState::kFailed: return "FAILED";
    case TaskState::kCancelled: return "CANCELLED";
  }
  return "UNKNOWN";
}

Result<TaskState> ParseTaskState(std::string_view name) {
  for (const TaskState state : kTaskStates) {
    const std::string_view known = TaskStateName(state);
    if (known.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) same = Upper(name[i]) == known[i];
    if (same) return state;
  }
  return InvalidArgument(
      fmt::format("unknown task state '{}'; known: PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED", name));
}

bool IsTerminal(TaskState state) {
  return state == TaskState::kSucceeded || state == TaskState::kFailed || state == TaskState::kCancelled;
}

Status CheckTaskTransition(TaskState from, std::optional<TaskState> to) {
  const TaskState target = to.value_or(from);
  bool legal = false;
  switch (from) {
    case TaskState::kPending:
      legal = target == TaskState::kPending || target == TaskState::kRunning || target == TaskState::kCancelled ||
              target == TaskState::kFailed;
      break;
    case TaskState::kRunning:
      // Every move: RUNNING → PENDING puts a failed attempt back in the queue.
      legal = true;
      break;
    case TaskState::kSucceeded:
    case TaskState::kFailed:
    case TaskState::kCancelled: legal = false; break;
  }
  if (legal) return Status::Ok();
  if (IsTerminal(from)) {
    return FailedPrecondition(
        fmt::format("task state {} is final; it cannot change (to {})", TaskStateName(from), TaskStateName(target)));
  }
  return FailedPrecondition(fmt::format(
      "illegal task transition {} -> {}; from {} a task may go to {}", TaskStateName(from), TaskStateName(target),
      TaskStateName(from),
      from == TaskState::kPending ? "RUNNING, CANCELLED or FAILED" : "SUCCEEDED, FAILED, CANCELLED or PENDING"));
}

std::string NewTaskId(std::int64_t now_us) {
  return fmt::format("{:013x}{}", static_cast<std::uint64_t>(now_us), RandomHex(16));
}

std::string NewTaskId() {
  return NewTaskId(NowMicros());
}

Status ValidateName(std::string_view kind, std::string_view name) {
  // Names become directory names (artifacts, registered models): "." and ".." never.
  bool valid = !name.empty() && name.size() <= kMaxNameChars && name != "." && name != "..";
  for (const char c : name) valid = valid && IsNameChar(c);
  if (valid) return Status::Ok();
  return InvalidArgument(fmt::format(
      "invalid {} name '{}': a name is 1 to {} letters, digits, '.', '_' or '-', and not '.' or '..'", kind, name,
      kMaxNameChars));
}

Status ValidateService(const ServiceRecord& record) {
  WHARF_RETURN_IF_ERROR(ValidateName("service", record.name));
  WHARF_RETURN_IF_ERROR(ValidateName("task definition", record.definition).WithContext("service " + record.name));
  if (record.desired < 0) return InvalidArgument(fmt::format("service '{}': desired must be >= 0", record.name));
  return Status::Ok();
}

Status ValidateModelAlias(std::string_view alias) {
  bool valid = !alias.empty() && alias.size() <= kMaxNameChars && IsAsciiLetter(alias.front());
  for (const char c : alias) valid = valid && IsNameChar(c);
  if (valid) return Status::Ok();
  return InvalidArgument(fmt::format(
      "invalid alias '{}': an alias starts with a letter (a number names a version, never an alias) and has up to "
      "{} letters, digits, '.', '_' or '-'",
      alias, kMaxNameChars));
}

}  // namespace wharf::store
