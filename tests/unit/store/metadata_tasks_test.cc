#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/metadata_store.h"
#include "store_backend.h"

namespace wharf::store {
namespace {

class MetadataStoreTasksTest : public MetadataBackendTest {
 protected:
  void Create(std::vector<TaskRecord> tasks) {
    const Status status = store_->CreateTasks(tasks);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  std::vector<std::string> List(const TaskQuery& query) {
    auto tasks = store_->ListTasks(query);
    EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
    std::vector<std::string> ids;
    for (const auto& task : tasks.value()) ids.push_back(task.id);
    return ids;
  }

};
WHARF_INSTANTIATE_STORE_BACKENDS(MetadataStoreTasksTest);

// "t<i>" (built with += since "t" + std::to_string(i) trips g++ 12's -Wrestrict).
std::string NumberedId(int i) {
  std::string id = "t";
  id += std::to_string(i);
  return id;
}

TaskRecord Task(std::string id, std::int64_t created_us, std::string definition = "train", std::string group = "g1") {
  return TaskRecord{.id = std::move(id),
                    .definition = std::move(definition),
                    .revision = 1,
                    .spec_json = "{}",
                    .group_id = std::move(group),
                    .created_us = created_us};
}

TEST_P(MetadataStoreTasksTest, RoundTripsEveryField) {
  TaskRecord task{.id = NewTaskId(),
                  .definition = "train",
                  .revision = 3,
                  .spec_json = R"({"command":["python","train.py"],"env":{"LR":"0.1 'quoted'"}})",
                  .state = TaskState::kFailed,
                  .attempt = 2,
                  .max_attempts = 3,
                  .exit_code = -9,
                  .reason = "killed: out of memory",
                  .handle = "pid:4242",
                  .group_id = "run-1",
                  .index = 2,
                  .count = 4,
                  .created_us = 10,
                  .started_us = 11,
                  .finished_us = 12,
                  .next_attempt_us = 13};
  Create({task, Task("plain", 0)});

  const auto got = store_->GetTask(task.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, task.id);
  EXPECT_EQ(got->definition, "train");
  EXPECT_EQ(got->revision, 3);
  EXPECT_EQ(got->spec_json, task.spec_json);
  EXPECT_EQ(got->state, TaskState::kFailed);
  EXPECT_EQ(got->attempt, 2);
  EXPECT_EQ(got->max_attempts, 3);
  EXPECT_EQ(got->exit_code, -9);
  EXPECT_EQ(got->reason, task.reason);
  EXPECT_EQ(got->handle, "pid:4242");
  EXPECT_EQ(got->group_id, "run-1");
  EXPECT_EQ(got->index, 2);
  EXPECT_EQ(got->count, 4);
  EXPECT_EQ(got->created_us, 10);
  EXPECT_EQ(got->started_us, 11);
  EXPECT_EQ(got->finished_us, 12);
  EXPECT_EQ(got->next_attempt_us, 13);

  const auto plain = store_->GetTask("plain");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->state, TaskState::kPending);
  EXPECT_EQ(plain->exit_code, std::nullopt);
  EXPECT_EQ(plain->next_attempt_us, std::nullopt);
  EXPECT_EQ(plain->index, 0);
  EXPECT_EQ(plain->count, 1);
  EXPECT_GT(plain->created_us, 1'600'000'000'000'000);  // 0 means now
}

TEST_P(MetadataStoreTasksTest, CreateIsAllOrNothing) {
  Create({Task("a", 1)});
  const Status duplicate = store_->CreateTasks(std::vector{Task("b", 2), Task("a", 3)});
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(duplicate.message().find("'a'"), std::string::npos) << duplicate.message();
  const Status twice = store_->CreateTasks(std::vector{Task("c", 2), Task("c", 3)});
  EXPECT_EQ(twice.code(), StatusCode::kAlreadyExists);
  const Status no_id = store_->CreateTasks(std::vector{Task("d", 2), Task("", 3)});
  EXPECT_EQ(no_id.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(List({.limit = 0}), (std::vector<std::string>{"a"}));
}

TEST_P(MetadataStoreTasksTest, UnknownTaskIsNotFoundByName) {
  const auto missing = store_->GetTask("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  const auto transition = store_->TransitionTask("nope", TaskState::kPending, {.state = TaskState::kRunning});
  EXPECT_EQ(transition.status().code(), StatusCode::kNotFound);
  EXPECT_NE(transition.status().message().find("'nope'"), std::string::npos);
}

TEST_P(MetadataStoreTasksTest, ListFiltersNewestFirstWithLimit) {
  Create({Task("t1", 100, "train", "g1"), Task("t2", 200, "train", "g1"), Task("t3", 300, "eval", "g2"),
          Task("t4", 400, "train", "g2")});
  ASSERT_TRUE(store_->TransitionTask("t2", TaskState::kPending, {.state = TaskState::kRunning}).value());
  ASSERT_TRUE(store_->TransitionTask("t3", TaskState::kPending, {.state = TaskState::kCancelled}).value());

  EXPECT_EQ(List({}), (std::vector<std::string>{"t4", "t3", "t2", "t1"}));
  EXPECT_EQ(List({.limit = 2}), (std::vector<std::string>{"t4", "t3"}));
  EXPECT_EQ(List({.states = {TaskState::kPending}}), (std::vector<std::string>{"t4", "t1"}));
  EXPECT_EQ(List({.states = {TaskState::kRunning, TaskState::kCancelled}}), (std::vector<std::string>{"t3", "t2"}));
  EXPECT_EQ(List({.definition = "train"}), (std::vector<std::string>{"t4", "t2", "t1"}));
  EXPECT_EQ(List({.group_id = "g2"}), (std::vector<std::string>{"t4", "t3"}));
  EXPECT_EQ(List({.states = {TaskState::kPending}, .definition = "train", .group_id = "g1"}),
            (std::vector<std::string>{"t1"}));
  EXPECT_EQ(List({.definition = "'; DROP TABLE tasks; --"}), (std::vector<std::string>{}));
  EXPECT_EQ(List({.limit = 0}).size(), 4u);
}

TEST_P(MetadataStoreTasksTest, TransitionIsACompareAndSet) {
  Create({Task("t", 1)});
  const auto started =
      store_->TransitionTask("t", TaskState::kPending, {.state = TaskState::kRunning, .handle = "pid:1", .attempt = 1});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_TRUE(*started);
  // A second caller that still believes the task is PENDING loses.
  const auto cancelled = store_->TransitionTask("t", TaskState::kPending, {.state = TaskState::kCancelled});
  ASSERT_TRUE(cancelled.ok());
  EXPECT_FALSE(*cancelled);
  const auto task = store_->GetTask("t").value();
  EXPECT_EQ(task.state, TaskState::kRunning);
  EXPECT_EQ(task.handle, "pid:1");
  EXPECT_EQ(task.attempt, 1);
}

TEST_P(MetadataStoreTasksTest, ExactlyOneOfTwoStoresWinsARace) {
  constexpr int kTasks = 20;
  std::vector<TaskRecord> tasks;
  for (int i = 0; i < kTasks; ++i) tasks.push_back(Task(NumberedId(i), i));
  Create(tasks);
  std::atomic<int> wins{0};
  auto race = [&](TaskState to) {
    auto store = OpenMetadataStore(location()).value();
    for (int i = 0; i < kTasks; ++i) {
      const auto won = store->TransitionTask(NumberedId(i), TaskState::kPending, {.state = to});
      ASSERT_TRUE(won.ok()) << won.status().ToString();
      wins += *won ? 1 : 0;
    }
  };
  std::thread scheduler(race, TaskState::kRunning);
  std::thread user(race, TaskState::kCancelled);
  scheduler.join();
  user.join();
  EXPECT_EQ(wins.load(), kTasks);
  EXPECT_EQ(List({.states = {TaskState::kPending}}).size(), 0u);
}

TEST_P(MetadataStoreTasksTest, IllegalTransitionsAreRejectedAndChangeNothing) {
  Create({Task("t", 1)});
  const auto skip = store_->TransitionTask("t", TaskState::kPending, {.state = TaskState::kSucceeded});
  EXPECT_EQ(skip.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(skip.status().message().find("PENDING -> SUCCEEDED"), std::string::npos) << skip.status().message();
  EXPECT_NE(skip.status().message().find("'t'"), std::string::npos);

  ASSERT_TRUE(store_->TransitionTask("t", TaskState::kPending, {.state = TaskState::kRunning}).value());
  ASSERT_TRUE(
      store_->TransitionTask("t", TaskState::kRunning, {.state = TaskState::kSucceeded, .exit_code = 0}).value());
  for (const TaskState to : {TaskState::kRunning, TaskState::kPending, TaskState::kFailed}) {
    const auto revive = store_->TransitionTask("t", TaskState::kSucceeded, {.state = to});
    EXPECT_EQ(revive.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(revive.status().message().find("SUCCEEDED is final"), std::string::npos) << revive.status().message();
  }
  EXPECT_EQ(store_->TransitionTask("t", TaskState::kSucceeded, {.reason = "late"}).status().code(),
            StatusCode::kFailedPrecondition);
  const auto task = store_->GetTask("t").value();
  EXPECT_EQ(task.state, TaskState::kSucceeded);
  EXPECT_EQ(task.exit_code, 0);
  EXPECT_EQ(task.reason, "");
}

TEST_P(MetadataStoreTasksTest, RetryGoesBackToPendingAndClearsOnRestart) {
  Create({Task("t", 1)});
  ASSERT_TRUE(store_->TransitionTask("t", TaskState::kPending, {.state = TaskState::kRunning, .attempt = 1}).value());
  ASSERT_TRUE(
      store_
          ->TransitionTask(
              "t", TaskState::kRunning,
              {.state = TaskState::kPending, .exit_code = 1, .reason = "exit 1; retrying", .next_attempt_us = 5'000})
          .value());
  auto task = store_->GetTask("t").value();
  EXPECT_EQ(task.state, TaskState::kPending);
  EXPECT_EQ(task.exit_code, 1);
  EXPECT_EQ(task.next_attempt_us, 5'000);

  ASSERT_TRUE(store_
                  ->TransitionTask("t", TaskState::kPending,
                                   {.state = TaskState::kRunning,
                                    .clear_exit_code = true,
                                    .reason = "",
                                    .attempt = 2,
                                    .started_us = 6'000,
                                    .clear_next_attempt = true})
                  .value());
  task = store_->GetTask("t").value();
  EXPECT_EQ(task.attempt, 2);
  EXPECT_EQ(task.exit_code, std::nullopt);
  EXPECT_EQ(task.next_attempt_us, std::nullopt);
  EXPECT_EQ(task.started_us, 6'000);
  EXPECT_EQ(task.reason, "");

  const auto both = store_->TransitionTask("t", TaskState::kRunning, {.exit_code = 1, .clear_exit_code = true});
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wharf::store
