// The SQLite metadata store's tasks: one row per task in `tasks`, its state
// stored by name (TaskStateName).

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/clock.h"
#include "store/sqlite_metadata_store.h"

namespace wharf::store {

namespace {

// Column order of every task SELECT and of the INSERT; ReadTask depends on it.
constexpr std::string_view kTaskColumns =
    "id, definition, revision, spec_json, state, attempt, max_attempts, exit_code, reason, handle, group_id, "
    "created_us, started_us, finished_us, next_attempt_us, task_index, task_count";

// A value to bind: NULL, an integer or text (which must outlive the step).
using SqlValue = std::variant<std::monostate, std::int64_t, std::string_view>;

void Bind(SqliteStatement& statement, int index, const SqlValue& value) {
  if (const auto* number = std::get_if<std::int64_t>(&value)) {
    statement.BindInt64(index, *number);
  } else if (const auto* text = std::get_if<std::string_view>(&value)) {
    statement.BindText(index, *text);
  } else {
    statement.BindNull(index);
  }
}

template <typename T>
SqlValue OrNull(const std::optional<T>& value) {
  if (!value) return std::monostate{};
  return static_cast<std::int64_t>(*value);
}

Status ReadTask(const SqliteStatement& row, TaskRecord& task) {
  task.id.assign(row.ColumnText(0));
  task.definition.assign(row.ColumnText(1));
  task.revision = static_cast<int>(row.ColumnInt64(2));
  task.spec_json.assign(row.ColumnText(3));
  const Result<TaskState> state = ParseTaskState(row.ColumnText(4));
  if (!state.ok()) return DataLoss(fmt::format("task '{}': {}", task.id, state.status().message()));
  task.state = *state;
  task.attempt = static_cast<int>(row.ColumnInt64(5));
  task.max_attempts = static_cast<int>(row.ColumnInt64(6));
  task.exit_code = row.ColumnIsNull(7) ? std::nullopt : std::optional<int>(static_cast<int>(row.ColumnInt64(7)));
  task.reason.assign(row.ColumnText(8));
  task.handle.assign(row.ColumnText(9));
  task.group_id.assign(row.ColumnText(10));
  task.created_us = row.ColumnInt64(11);
  task.started_us = row.ColumnInt64(12);
  task.finished_us = row.ColumnInt64(13);
  task.next_attempt_us = row.ColumnIsNull(14) ? std::nullopt : std::optional<std::int64_t>(row.ColumnInt64(14));
  task.index = static_cast<int>(row.ColumnInt64(15));
  task.count = static_cast<int>(row.ColumnInt64(16));
  return Status::Ok();
}

Status Validate(const TaskRecord& task, std::size_t index) {
  if (task.id.empty())
    return InvalidArgument(fmt::format("task #{} (definition '{}'): empty id", index, task.definition));
  if (task.definition.empty()) return InvalidArgument(fmt::format("task '{}': empty definition", task.id));
  return Status::Ok();
}

// The columns `update` sets, and their values, state first.
Result<std::vector<std::pair<std::string_view, SqlValue>>> Assignments(TaskState from, const TaskUpdate& update) {
  if (update.exit_code && update.clear_exit_code) {
    return InvalidArgument("task update sets exit_code and clear_exit_code; choose one");
  }
  if (update.next_attempt_us && update.clear_next_attempt) {
    return InvalidArgument("task update sets next_attempt_us and clear_next_attempt; choose one");
  }
  std::vector<std::pair<std::string_view, SqlValue>> sets;
  sets.emplace_back("state", TaskStateName(update.state.value_or(from)));
  if (update.handle) sets.emplace_back("handle", std::string_view(*update.handle));
  if (update.exit_code || update.clear_exit_code) sets.emplace_back("exit_code", OrNull(update.exit_code));
  if (update.reason) sets.emplace_back("reason", std::string_view(*update.reason));
  if (update.attempt) sets.emplace_back("attempt", std::int64_t{*update.attempt});
  if (update.started_us) sets.emplace_back("started_us", *update.started_us);
  if (update.finished_us) sets.emplace_back("finished_us", *update.finished_us);
  if (update.next_attempt_us || update.clear_next_attempt) {
    sets.emplace_back("next_attempt_us", OrNull(update.next_attempt_us));
  }
  return sets;
}

}  // namespace

Status SqliteMetadataStore::CreateTasks(std::span<const TaskRecord> tasks) {
  for (std::size_t i = 0; i < tasks.size(); ++i) WHARF_RETURN_IF_ERROR(Validate(tasks[i], i));
  if (tasks.empty()) return Status::Ok();
  const std::int64_t now = NowMicros();
  MutexLock lock(mu_);
  return db_->WriteTransaction([&]() WHARF_REQUIRES(mu_) -> Status {
    WHARF_ASSIGN_OR_RETURN(SqliteStatement exists, db_->Prepare("SELECT 1 FROM tasks WHERE id = ?1"));
    WHARF_ASSIGN_OR_RETURN(SqliteStatement insert,
                           db_->Prepare(fmt::format("INSERT INTO tasks ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                                    "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                                                    kTaskColumns)));
    for (const TaskRecord& task : tasks) {
      exists.Reset();
      exists.BindText(1, task.id);
      WHARF_ASSIGN_OR_RETURN(const bool duplicate, exists.Step());
      if (duplicate) return AlreadyExists(fmt::format("task '{}' already exists", task.id));
      insert.Reset();
      insert.BindText(1, task.id);
      insert.BindText(2, task.definition);
      insert.BindInt64(3, task.revision);
      insert.BindText(4, task.spec_json);
      insert.BindText(5, TaskStateName(task.state));
      insert.BindInt64(6, task.attempt);
      insert.BindInt64(7, task.max_attempts);
      Bind(insert, 8, OrNull(task.exit_code));
      insert.BindText(9, task.reason);
      insert.BindText(10, task.handle);
      insert.BindText(11, task.group_id);
      insert.BindInt64(12, task.created_us != 0 ? task.created_us : now);
      insert.BindInt64(13, task.started_us);
      insert.BindInt64(14, task.finished_us);
      Bind(insert, 15, OrNull(task.next_attempt_us));
      insert.BindInt64(16, task.index);
      insert.BindInt64(17, task.count);
      WHARF_RETURN_IF_ERROR(insert.Step());
    }
    return Status::Ok();
  });
}

Result<TaskRecord> SqliteMetadataStore::GetTask(std::string_view id) {
  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select,
                         db_->Prepare(fmt::format("SELECT {} FROM tasks WHERE id = ?1", kTaskColumns)));
  select.BindText(1, id);
  WHARF_ASSIGN_OR_RETURN(const bool found, select.Step());
  if (!found) return NotFound(fmt::format("task '{}' not found", id));
  TaskRecord task;
  WHARF_RETURN_IF_ERROR(ReadTask(select, task));
  return task;
}

Result<std::vector<TaskRecord>> SqliteMetadataStore::ListTasks(const TaskQuery& query) {
  // Filters are fixed SQL fragments; every value is a bound parameter.
  std::vector<SqlValue> values;
  auto parameter = [&values](SqlValue value) {
    values.push_back(value);
    return fmt::format("?{}", values.size());
  };
  std::vector<std::string> filters;
  if (!query.states.empty()) {
    std::vector<std::string> names;
    for (const TaskState state : query.states) names.push_back(parameter(TaskStateName(state)));
    filters.push_back(fmt::format("state IN ({})", fmt::join(names, ", ")));
  }
  if (query.definition) filters.push_back("definition = " + parameter(std::string_view(*query.definition)));
  if (query.group_id) filters.push_back("group_id = " + parameter(std::string_view(*query.group_id)));
  std::string sql = fmt::format("SELECT {} FROM tasks", kTaskColumns);
  if (!filters.empty()) sql += fmt::format(" WHERE {}", fmt::join(filters, " AND "));
  sql += " ORDER BY created_us DESC, id DESC";
  if (query.limit != 0) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    sql += " LIMIT " + parameter(static_cast<std::int64_t>(std::min(query.limit, kMax)));
  }

  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement select, db_->Prepare(sql));
  for (std::size_t i = 0; i < values.size(); ++i) Bind(select, static_cast<int>(i) + 1, values[i]);
  std::vector<TaskRecord> tasks;
  while (true) {
    WHARF_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return tasks;
    WHARF_RETURN_IF_ERROR(ReadTask(select, tasks.emplace_back()));
  }
}

Result<bool> SqliteMetadataStore::TransitionTask(std::string_view id, TaskState from, const TaskUpdate& update) {
  WHARF_RETURN_IF_ERROR(CheckTaskTransition(from, update.state).WithContext(fmt::format("task '{}'", id)));
  WHARF_ASSIGN_OR_RETURN(const auto sets, Assignments(from, update));
  std::vector<std::string> assignments;
  for (std::size_t i = 0; i < sets.size(); ++i) assignments.push_back(fmt::format("{} = ?{}", sets[i].first, i + 1));
  const int id_index = static_cast<int>(sets.size()) + 1;
  const std::string sql = fmt::format("UPDATE tasks SET {} WHERE id = ?{} AND state = ?{} RETURNING id",
                                      fmt::join(assignments, ", "), id_index, id_index + 1);

  MutexLock lock(mu_);
  WHARF_ASSIGN_OR_RETURN(SqliteStatement cas, db_->Prepare(sql));
  for (std::size_t i = 0; i < sets.size(); ++i) Bind(cas, static_cast<int>(i) + 1, sets[i].second);
  cas.BindText(id_index, id);
  cas.BindText(id_index + 1, TaskStateName(from));
  WHARF_ASSIGN_OR_RETURN(const bool applied, cas.Step());
  if (applied) {
    // Run to completion so the autocommit transaction commits here, where a
    // failure is reported, not when the statement is destroyed.
    WHARF_RETURN_IF_ERROR(cas.Step());
    return true;
  }
  WHARF_ASSIGN_OR_RETURN(SqliteStatement exists, db_->Prepare("SELECT 1 FROM tasks WHERE id = ?1"));
  exists.BindText(1, id);
  WHARF_ASSIGN_OR_RETURN(const bool found, exists.Step());
  if (!found) return NotFound(fmt::format("task '{}' not found", id));
  return false;
}

}  // namespace wharf::store
