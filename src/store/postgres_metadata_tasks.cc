// The PostgreSQL metadata store's tasks: one row per task in `tasks`, its
// state stored by name (TaskStateName).

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/clock.h"
#include "store/postgres_metadata_store.h"

namespace wharf::store {

namespace {

// Column order of every task SELECT and of the INSERT; ReadTask depends on it.
constexpr std::string_view kTaskColumns =
    "id, definition, revision, spec_json, state, attempt, max_attempts, exit_code, reason, handle, group_id, "
    "created_us, started_us, finished_us, next_attempt_us, task_index, task_count";

// Bound parameters in text form; nullopt is NULL. PostgreSQL infers each
// one's type from where it is used.
using Params = std::vector<std::optional<std::string>>;

template <typename T>
std::optional<std::string> OrNull(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  return std::to_string(*value);
}

// (libpqxx 6.4's as<std::optional<T>>() does not compile as C++20.)
template <typename T>
std::optional<T> Nullable(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<T>();
}

Status ReadTask(const pqxx::row& row, TaskRecord& task) {
  row[0].to(task.id);
  row[1].to(task.definition);
  row[2].to(task.revision);
  row[3].to(task.spec_json);
  const Result<TaskState> state = ParseTaskState(row[4].c_str());
  if (!state.ok()) return DataLoss(fmt::format("task '{}': {}", task.id, state.status().message()));
  task.state = *state;
  row[5].to(task.attempt);
  row[6].to(task.max_attempts);
  task.exit_code = Nullable<int>(row[7]);
  row[8].to(task.reason);
  row[9].to(task.handle);
  row[10].to(task.group_id);
  row[11].to(task.created_us);
  row[12].to(task.started_us);
  row[13].to(task.finished_us);
  task.next_attempt_us = Nullable<std::int64_t>(row[14]);
  row[15].to(task.index);
  row[16].to(task.count);
  return Status::Ok();
}

Status Validate(const TaskRecord& task, std::size_t index) {
  if (task.id.empty())
    return InvalidArgument(fmt::format("task #{} (definition '{}'): empty id", index, task.definition));
  if (task.definition.empty()) return InvalidArgument(fmt::format("task '{}': empty definition", task.id));
  return Status::Ok();
}

// The columns `update` sets, and their values, state first.
Result<std::vector<std::pair<std::string_view, std::optional<std::string>>>> Assignments(TaskState from,
                                                                                         const TaskUpdate& update) {
  if (update.exit_code && update.clear_exit_code) {
    return InvalidArgument("task update sets exit_code and clear_exit_code; choose one");
  }
  if (update.next_attempt_us && update.clear_next_attempt) {
    return InvalidArgument("task update sets next_attempt_us and clear_next_attempt; choose one");
  }
  std::vector<std::pair<std::string_view, std::optional<std::string>>> sets;
  sets.emplace_back("state", std::string(TaskStateName(update.state.value_or(from))));
  if (update.handle) sets.emplace_back("handle", *update.handle);
  if (update.exit_code || update.clear_exit_code) sets.emplace_back("exit_code", OrNull(update.exit_code));
  if (update.reason) sets.emplace_back("reason", *update.reason);
  if (update.attempt) sets.emplace_back("attempt", std::to_string(*update.attempt));
  if (update.started_us) sets.emplace_back("started_us", std::to_string(*update.started_us));
  if (update.finished_us) sets.emplace_back("finished_us", std::to_string(*update.finished_us));
  if (update.next_attempt_us || update.clear_next_attempt) {
    sets.emplace_back("next_attempt_us", OrNull(update.next_attempt_us));
  }
  return sets;
}

}  // namespace

Status PostgresMetadataStore::CreateTasks(std::span<const TaskRecord> tasks) {
  for (std::size_t i = 0; i < tasks.size(); ++i) WHARF_RETURN_IF_ERROR(Validate(tasks[i], i));
  if (tasks.empty()) return Status::Ok();
  const std::int64_t now = NowMicros();
  const std::string insert = fmt::format(
      "INSERT INTO tasks ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
      "ON CONFLICT (id) DO NOTHING",
      kTaskColumns);
  return Transaction([&](pqxx::work& work) -> Status {
    for (const TaskRecord& task : tasks) {
      // DO NOTHING waits for a concurrent insert of the same id to commit,
      // so a duplicate is reported here rather than as a constraint error.
      const pqxx::result inserted = work.exec_params(
          insert, task.id, task.definition, task.revision, task.spec_json, std::string(TaskStateName(task.state)),
          task.attempt, task.max_attempts, task.exit_code, task.reason, task.handle, task.group_id,
          task.created_us != 0 ? task.created_us : now, task.started_us, task.finished_us, task.next_attempt_us,
          task.index, task.count);
      if (inserted.affected_rows() == 0) return AlreadyExists(fmt::format("task '{}' already exists", task.id));
    }
    return Status::Ok();
  });
}

Result<TaskRecord> PostgresMetadataStore::GetTask(std::string_view id) {
  std::optional<TaskRecord> task;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::result rows =
        work.exec_params(fmt::format("SELECT {} FROM tasks WHERE id = $1", kTaskColumns), std::string(id));
    if (rows.empty()) return Status::Ok();
    return ReadTask(rows[0], task.emplace());
  }));
  if (!task) return NotFound(fmt::format("task '{}' not found", id));
  return *std::move(task);
}

Result<std::vector<TaskRecord>> PostgresMetadataStore::ListTasks(const TaskQuery& query) {
  // Filters are fixed SQL fragments; every value is a bound parameter.
  Params values;
  auto parameter = [&values](std::string value) {
    values.emplace_back(std::move(value));
    return fmt::format("${}", values.size());
  };
  std::vector<std::string> filters;
  if (!query.states.empty()) {
    std::vector<std::string> names;
    for (const TaskState state : query.states) names.push_back(parameter(std::string(TaskStateName(state))));
    filters.push_back(fmt::format("state IN ({})", fmt::join(names, ", ")));
  }
  if (query.definition) filters.push_back("definition = " + parameter(*query.definition));
  if (query.group_id) filters.push_back("group_id = " + parameter(*query.group_id));
  std::string sql = fmt::format("SELECT {} FROM tasks", kTaskColumns);
  if (!filters.empty()) sql += fmt::format(" WHERE {}", fmt::join(filters, " AND "));
  sql += " ORDER BY created_us DESC, id COLLATE \"C\" DESC";  // byte order, as SQLite sorts
  if (query.limit != 0) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    sql += " LIMIT " + parameter(std::to_string(std::min(query.limit, kMax)));
  }

  std::vector<TaskRecord> tasks;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    const pqxx::result rows = work.exec_params(sql, pqxx::prepare::make_dynamic_params(values));
    Status read;
    for (std::size_t i = 0; i < rows.size() && read.ok(); ++i) read = ReadTask(rows[i], tasks.emplace_back());
    return read;
  }));
  return tasks;
}

Result<bool> PostgresMetadataStore::TransitionTask(std::string_view id, TaskState from, const TaskUpdate& update) {
  WHARF_RETURN_IF_ERROR(CheckTaskTransition(from, update.state).WithContext(fmt::format("task '{}'", id)));
  WHARF_ASSIGN_OR_RETURN(auto sets, Assignments(from, update));
  Params values;
  std::vector<std::string> assignments;
  for (auto& [column, value] : sets) {
    values.push_back(std::move(value));
    assignments.push_back(fmt::format("{} = ${}", column, values.size()));
  }
  values.emplace_back(std::string(id));
  values.emplace_back(std::string(TaskStateName(from)));
  const std::string sql = fmt::format("UPDATE tasks SET {} WHERE id = ${} AND state = ${}",
                                      fmt::join(assignments, ", "), values.size() - 1, values.size());

  bool applied = false;
  bool exists = true;
  WHARF_RETURN_IF_ERROR(Transaction([&](pqxx::work& work) -> Status {
    applied = work.exec_params(sql, pqxx::prepare::make_dynamic_params(values)).affected_rows() > 0;
    if (!applied) exists = !work.exec_params("SELECT 1 FROM tasks WHERE id = $1", std::string(id)).empty();
    return Status::Ok();
  }));
  if (!exists) return NotFound(fmt::format("task '{}' not found", id));
  return applied;
}

}  // namespace wharf::store
