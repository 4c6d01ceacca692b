#include "exec/task_spec.h"

#include <gtest/gtest.h>

#include "exec/executor.h"
#include "exec/task_json.h"

namespace wharf::exec {
namespace {

TaskSpec Valid() {
  TaskSpec spec;
  spec.id = "train-42.v1_a";
  spec.argv = {"/bin/true"};
  spec.run_dir = "/tmp/run";
  return spec;
}

TEST(ValidateTaskSpecTest, AcceptsAMinimalSpec) { EXPECT_TRUE(ValidateTaskSpec(Valid()).ok()); }

TEST(ValidateTaskSpecTest, RejectsEachBadField) {
  struct Case {
    const char* what;
    void (*spoil)(TaskSpec&);
    const char* message_part;
  };
  const Case cases[] = {
      {"empty id", [](TaskSpec& s) { s.id.clear(); }, "id is empty"},
      {"slash in id", [](TaskSpec& s) { s.id = "a/b"; }, "[A-Za-z0-9._-]"},
      {"space in id", [](TaskSpec& s) { s.id = "a b"; }, "[A-Za-z0-9._-]"},
      {"dot-dot id", [](TaskSpec& s) { s.id = ".."; }, "reserved"},
      {"empty argv", [](TaskSpec& s) { s.argv.clear(); }, "empty argv"},
      {"empty argv[0]", [](TaskSpec& s) { s.argv = {""}; }, "empty argv[0]"},
      {"relative run_dir", [](TaskSpec& s) { s.run_dir = "run"; }, "not absolute"},
      {"zero cpus", [](TaskSpec& s) { s.resources.cpus = 0; }, "cpus"},
      {"zero memory", [](TaskSpec& s) { s.resources.memory_bytes = 0; }, "memory_bytes"},
      {"zero pids", [](TaskSpec& s) { s.resources.max_pids = 0; }, "max_pids"},
      {"zero ranks", [](TaskSpec& s) { s.resources.ranks = 0; }, "ranks"},
      {"zero timeout", [](TaskSpec& s) { s.timeout = std::chrono::milliseconds(0); }, "timeout"},
      {"'=' in env name", [](TaskSpec& s) { s.env = {{"A=B", "c"}}; }, "environment"},
  };
  for (const Case& c : cases) {
    TaskSpec spec = Valid();
    c.spoil(spec);
    const Status status = ValidateTaskSpec(spec);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(status.message().find(c.message_part), std::string::npos) << c.what << ": " << status.message();
  }
}

TEST(TaskJsonTest, SpecRoundTrips) {
  TaskSpec spec = Valid();
  spec.argv = {"/bin/echo", "a b", "$(x)"};
  spec.env = {{"PATH", "/bin"}, {"EMPTY", ""}};
  spec.work_dir = "/tmp/work";
  spec.resources = Resources{0.5, 1 << 20, 10, 3};
  spec.timeout = std::chrono::milliseconds(1500);
  Result<TaskSpec> back = TaskSpecFromJson(TaskSpecToJson(spec));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, spec.id);
  EXPECT_EQ(back->argv, spec.argv);
  EXPECT_EQ(back->env, spec.env);
  EXPECT_EQ(back->work_dir, spec.work_dir);
  EXPECT_EQ(back->run_dir, spec.run_dir);
  EXPECT_EQ(back->resources.cpus, 0.5);
  EXPECT_EQ(back->resources.memory_bytes, spec.resources.memory_bytes);
  EXPECT_EQ(back->resources.max_pids, spec.resources.max_pids);
  EXPECT_EQ(back->resources.ranks, 3u);
  EXPECT_EQ(back->timeout, spec.timeout);
}

TEST(TaskJsonTest, OptionalFieldsStayUnset) {
  Result<TaskSpec> back = TaskSpecFromJson(TaskSpecToJson(Valid()));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->resources.memory_bytes.has_value());
  EXPECT_FALSE(back->resources.max_pids.has_value());
  EXPECT_FALSE(back->timeout.has_value());
  EXPECT_EQ(back->resources.ranks, 1u);
}

TEST(TaskJsonTest, StatusRoundTrips) {
  const TaskStatus status{TaskOutcome::kOutOfMemory, {}, 9, "out of memory (limit 64 MiB)", 100, 200};
  Result<TaskStatus> back = TaskStatusFromJson(TaskStatusToJson(status));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->outcome, TaskOutcome::kOutOfMemory);
  EXPECT_FALSE(back->exit_code.has_value());
  EXPECT_EQ(back->signal, 9);
  EXPECT_EQ(back->reason, status.reason);
  EXPECT_EQ(back->started_us, 100);
  EXPECT_EQ(back->finished_us, 200);
}

TEST(TaskJsonTest, MalformedJsonIsDataLoss) {
  EXPECT_EQ(TaskSpecFromJson("{").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(TaskSpecFromJson("{}").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(TaskStatusFromJson(R"({"outcome": "exploded"})").status().code(), StatusCode::kDataLoss);
}

TEST(TaskOutcomeTest, NamesRoundTripAndUnknownNamesListTheKnownOnes) {
  for (TaskOutcome outcome : {TaskOutcome::kRunning, TaskOutcome::kSucceeded, TaskOutcome::kFailed,
                              TaskOutcome::kCancelled, TaskOutcome::kTimedOut, TaskOutcome::kOutOfMemory,
                              TaskOutcome::kLost}) {
    EXPECT_EQ(*ParseTaskOutcome(TaskOutcomeName(outcome)), outcome);
  }
  const Status unknown = ParseTaskOutcome("done").status();
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("succeeded"), std::string::npos);
  EXPECT_FALSE(IsFinal(TaskOutcome::kRunning));
  EXPECT_TRUE(IsFinal(TaskOutcome::kLost));
}

}  // namespace
}  // namespace wharf::exec
