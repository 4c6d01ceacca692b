#pragma once
// What the scheduler's tests share: a fake executor the test drives, and a
// fixture with a real SQLite metadata store and artifact store in a
// temporary directory, a job registry, and helpers that wait (up to
// testing::kPatience) for the scheduler's loop thread to act.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/artifact_store.h"
#include "control/job_registry.h"
#include "control/scheduler.h"
#include "control/task_definition.h"
#include "exec/executor.h"
#include "store/metadata_store.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace wharf::control {

inline std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Calls `done` until it returns true or testing::kPatience passes; returns its
// last answer. Looks every millisecond: the scheduler's loop goes round every 2.
inline bool WaitUntil(const std::function<bool()>& done) {
  return wharf::testing::WaitUntil(done, wharf::testing::kPatience, std::chrono::milliseconds(1));
}

// An executor whose tasks run only in the test's imagination: Submit records
// the spec and hands out "h-<spec id>", Poll reports whatever the test set
// (running until then), Cancel records the request. Submit can be held, to
// look at the store while the scheduler is in the middle of starting a task.
// Thread-safe.
class FakeExecutor : public exec::Executor {
 public:
  struct Submission {
    exec::TaskSpec spec;
    std::int64_t at_us = 0;
    int running_before = 0;  // tasks this executor had running when it came
  };

  Result<std::string> Submit(const exec::TaskSpec& spec) override {
    std::unique_lock lock(mu_);
    held_.wait(lock, [this] { return !hold_; });
    int running = 0;
    for (const auto& [handle, status] : statuses_) running += status.outcome == exec::TaskOutcome::kRunning;
    submissions_.push_back({spec, NowUs(), running});
    const std::string handle = "h-" + spec.id;
    statuses_[handle] = exec::TaskStatus{};
    statuses_[handle].started_us = queue_ ? 0 : NowUs();
    return handle;
  }

  Result<exec::TaskStatus> Poll(const std::string& handle) override {
    std::lock_guard lock(mu_);
    ++polls_;
    polled_.insert(handle);
    if (unavailable_) return Unavailable("the cluster's controller does not answer");
    auto it = statuses_.find(handle);
    if (it == statuses_.end()) return NotFound("no task " + handle);
    return it->second;
  }

  // While set, submitted tasks wait in a queue (as in Slurm's): running but
  // not started, until StartQueued.
  void QueueSubmits(bool queue) {
    std::lock_guard lock(mu_);
    queue_ = queue;
  }
  void StartQueued(const std::string& handle) {
    std::lock_guard lock(mu_);
    statuses_[handle].started_us = NowUs();
  }

  // While set, Poll cannot tell (as when Slurm's controller is down).
  void SetUnavailable(bool unavailable) {
    std::lock_guard lock(mu_);
    unavailable_ = unavailable;
  }

  Status Cancel(const std::string& handle, std::chrono::milliseconds grace) override {
    std::lock_guard lock(mu_);
    cancels_.emplace_back(handle, grace);
    return Status::Ok();
  }

  Result<std::string> ReadLog(const std::string&, exec::LogStream, std::uint64_t, std::size_t) override {
    return std::string();
  }

  // What Poll reports for `handle` from now on.
  void Set(const std::string& handle, exec::TaskOutcome outcome, std::optional<int> exit_code = std::nullopt,
           std::string reason = "", std::optional<int> signal = std::nullopt) {
    std::lock_guard lock(mu_);
    exec::TaskStatus& status = statuses_[handle];
    status.outcome = outcome;
    status.exit_code = exit_code;
    status.signal = signal;
    status.reason = std::move(reason);
    if (outcome != exec::TaskOutcome::kRunning) status.finished_us = NowUs();
  }
  void Succeed(const std::string& handle) { Set(handle, exec::TaskOutcome::kSucceeded, 0, "exit code 0"); }
  void Fail(const std::string& handle, int code) {
    Set(handle, exec::TaskOutcome::kFailed, code, "exit code " + std::to_string(code));
  }

  void HoldSubmits(bool hold) {
    {
      std::lock_guard lock(mu_);
      hold_ = hold;
    }
    held_.notify_all();
  }

  std::vector<Submission> submissions() const {
    std::lock_guard lock(mu_);
    return submissions_;
  }
  std::size_t submitted() const { return submissions().size(); }
  exec::TaskSpec spec(std::size_t i) const { return submissions().at(i).spec; }
  std::vector<std::pair<std::string, std::chrono::milliseconds>> cancels() const {
    std::lock_guard lock(mu_);
    return cancels_;
  }
  bool polled(const std::string& handle) const {
    std::lock_guard lock(mu_);
    return polled_.contains(handle);
  }
  std::int64_t polls() const {
    std::lock_guard lock(mu_);
    return polls_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable held_;
  bool hold_ = false;
  bool unavailable_ = false;
  bool queue_ = false;
  std::map<std::string, exec::TaskStatus> statuses_;
  std::vector<Submission> submissions_;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> cancels_;
  std::set<std::string> polled_;
  std::int64_t polls_ = 0;
};

inline std::string HandleOf(const std::string& task_id, int attempt) {
  return "h-" + task_id + "." + std::to_string(attempt);
}

inline const nlohmann::json kEcho = {{"command", {"echo", "hi"}}};
inline const nlohmann::json kSentinel = {{"command", {"true"}}, {"resources", {{"cpus", 0.1}}}};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenSqliteMetadataStore(db_path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto artifacts = ArtifactStore::Open(dir_.path() / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_.emplace(std::move(artifacts).value());
  }

  void TearDown() override {
    executor_.HoldSubmits(false);
    if (scheduler_) scheduler_->Stop();
  }

  std::filesystem::path db_path() const { return dir_.path() / "wharf.db"; }

  void StartScheduler(double capacity_cpus = 2) {
    auto own = store::OpenSqliteMetadataStore(db_path());
    ASSERT_TRUE(own.ok()) << own.status().ToString();
    SchedulerOptions options{.home = dir_.path() / "home",
                             .store = "",
                             .runs_dir = dir_.path() / "runs",
                             .models_dir = dir_.path() / "models",
                             .wharf_executable = "/opt/wharf/bin/wharf",
                             .capacity_cpus = capacity_cpus,
                             .poll_interval = std::chrono::milliseconds(2),
                             .secret_key_file = dir_.path() / "home" / "secrets.key"};
    scheduler_ = std::make_unique<Scheduler>(std::move(own).value(), executor_, *artifacts_, jobs_, options);
    ASSERT_TRUE(scheduler_->Start().ok());
  }

  // A PENDING task record of `definition` (its canonical JSON, max_attempts
  // from its retries), not yet stored; ids sort in the order they are made.
  store::TaskRecord MakeTask(const nlohmann::json& definition) {
    auto spec = ParseDefinition(definition, jobs_);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    store::TaskRecord task;
    task.id = store::NewTaskId(NowUs() + next_id_++);
    task.definition = "t";
    task.revision = 1;
    task.spec_json = DefinitionToJson(*spec).dump();
    task.max_attempts = spec->retries + 1;
    task.group_id = "g";
    return task;
  }

  std::vector<std::string> Create(const nlohmann::json& definition, int count = 1) {
    std::vector<store::TaskRecord> tasks;
    for (int i = 0; i < count; ++i) {
      tasks.push_back(MakeTask(definition));
      tasks.back().index = i;
      tasks.back().count = count;
    }
    return Store(tasks);
  }

  std::vector<std::string> Store(const std::vector<store::TaskRecord>& tasks) {
    EXPECT_TRUE(store_->CreateTasks(tasks).ok());
    std::vector<std::string> ids;
    for (const auto& t : tasks) ids.push_back(t.id);
    if (scheduler_) scheduler_->Wake();
    return ids;
  }

  store::TaskRecord Get(const std::string& id) {
    auto task = store_->GetTask(id);
    EXPECT_TRUE(task.ok()) << task.status().ToString();
    return task.ok() ? *task : store::TaskRecord{};
  }

  // Waits for task `id` to satisfy `done`, and returns it as last read.
  store::TaskRecord WaitForTask(const std::string& id, const std::function<bool(const store::TaskRecord&)>& done) {
    store::TaskRecord task;
    EXPECT_TRUE(WaitUntil([&] {
      task = Get(id);
      return done(task);
    })) << "task " << id << " is " << store::TaskStateName(task.state) << " (attempt " << task.attempt
        << ", reason '" << task.reason << "')";
    return task;
  }
  store::TaskRecord WaitForState(const std::string& id, store::TaskState state) {
    return WaitForTask(id, [&](const store::TaskRecord& t) { return t.state == state; });
  }
  // Waits until attempt `attempt` of `id` is running with its handle stored.
  store::TaskRecord WaitForRunning(const std::string& id, int attempt = 1) {
    return WaitForTask(id, [&](const store::TaskRecord& t) {
      return t.state == store::TaskState::kRunning && t.attempt == attempt && t.handle == HandleOf(id, attempt);
    });
  }
  void WaitForSubmissions(std::size_t n) {
    EXPECT_TRUE(WaitUntil([&] { return executor_.submitted() >= n; })) << executor_.submitted() << " submitted";
  }
  // Lets the loop go round `rounds` more times (counted by its polls, so
  // some task must be running): what it has not done by then, it is not
  // about to do.
  void LetTheLoopRun(int rounds = 20) {
    const std::int64_t target = executor_.polls() + rounds;
    EXPECT_TRUE(WaitUntil([&] { return executor_.polls() >= target; }))
        << executor_.polls() << " polls, waiting for " << target;
  }
  // Runs one more task to its start: anything the loop was about to do
  // before it (a retry due now, say), it has done by then.
  void RunASentinelTask() { WaitForRunning(Create(kSentinel)[0]); }
  // How many attempts of task `id` were submitted.
  std::size_t SubmissionsOf(const std::string& id) const {
    std::size_t n = 0;
    for (const auto& s : executor_.submissions()) n += s.spec.id.starts_with(id + ".");
    return n;
  }
  std::size_t CountInState(store::TaskState state) {
    store::TaskQuery query;
    query.states = {state};
    query.limit = 0;
    auto tasks = store_->ListTasks(query);
    EXPECT_TRUE(tasks.ok());
    return tasks.ok() ? tasks->size() : 0;
  }

  wharf::testing::TempDir dir_;
  FakeExecutor executor_;
  JobRegistry jobs_;
  std::optional<ArtifactStore> artifacts_;
  std::unique_ptr<store::MetadataStore> store_;  // the test's own view of the database
  std::unique_ptr<Scheduler> scheduler_;
  int next_id_ = 0;
};

}  // namespace wharf::control
