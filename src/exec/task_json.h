#pragma once
// JSON forms of TaskSpec and TaskStatus, as written to a task's run_dir
// (spec.json, status.json) so that another process can read them back.
// Stateless functions: thread-safe.

#include <string>
#include <string_view>

#include "core/status.h"
#include "exec/executor.h"
#include "exec/task_spec.h"

namespace wharf::exec {

std::string TaskSpecToJson(const TaskSpec& spec);
// DataLoss if `json` is not a TaskSpec written by TaskSpecToJson.
Result<TaskSpec> TaskSpecFromJson(std::string_view json);

std::string TaskStatusToJson(const TaskStatus& status);
// DataLoss if `json` is not a TaskStatus written by TaskStatusToJson.
Result<TaskStatus> TaskStatusFromJson(std::string_view json);

}  // namespace wharf::exec
