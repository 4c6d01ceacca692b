// `wharf server` as a user runs it: a real server process on a temporary
// home, driven over its REST API. Covers the task lifecycle (success,
// failure, retry, timeout, stop, a command that ignores SIGTERM), literal
// argv, authentication, artifact name checks, restart recovery, cpu slots,
// and the seed flow: four parallel wine trainings → four model versions →
// one of them served.

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control_server_fixture.h"
#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/slurm_cluster.h"
#include "testing/temp_dir.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_F(ControlServerTest, ACommandSucceedsAndItsLogsAreKeptPerStream) {
  const auto tasks = Run("hello", {{"command", {"sh", "-c", "echo out $(WHARF_TASK_ID); echo err >&2"}}});
  const std::string id = tasks[0]["id"];
  const json t = WaitFinal(id);
  EXPECT_EQ(t["state"], "SUCCEEDED") << t.dump();
  EXPECT_EQ(t["exit_code"], 0);
  EXPECT_EQ(t["attempt"], 1);
  EXPECT_EQ(Log(id), "out " + id + "\n");
  EXPECT_EQ(Log(id, "stderr"), "err\n");
  const json logs = CallJson("GET", "/api/tasks/" + id + "/logs?offset=4", nullptr, 200);
  EXPECT_EQ(logs["data"], id + "\n");
  EXPECT_TRUE(logs["final"].get<bool>());
}

TEST_F(ControlServerTest, ANonZeroExitFailsWithItsExitCode) {
  const auto tasks = Run("fails", {{"command", {"sh", "-c", "exit 3"}}});
  const json t = WaitFinal(tasks[0]["id"]);
  EXPECT_EQ(t["state"], "FAILED");
  EXPECT_EQ(t["exit_code"], 3);
  EXPECT_NE(t["reason"].get<std::string>().find("exit code 3"), std::string::npos) << t["reason"];
}

TEST_F(ControlServerTest, AFailedAttemptIsRetriedAfterItsBackoff) {
  const std::string marker = (home_.path() / "first-attempt-ran").string();
  const auto tasks = Run("flaky", {{"command", {"sh", "-c", "if [ -f \"$0\" ]; then echo second; else touch \"$0\"; exit 1; fi", marker}},
                                   {"retries", 2},
                                   {"retry_backoff", "300ms"}});
  const std::string id = tasks[0]["id"];
  const json waiting = WaitFor(id, [](const json& t) { return t["state"] == "PENDING" && t["attempt"] == 1; });
  EXPECT_NE(waiting["reason"].get<std::string>().find("retrying"), std::string::npos) << waiting.dump();
  const json t = WaitFinal(id);
  EXPECT_EQ(t["state"], "SUCCEEDED") << t.dump();
  EXPECT_EQ(t["attempt"], 2);
  EXPECT_EQ(t["max_attempts"], 3);
  EXPECT_EQ(Log(id), "second\n");
}

TEST_F(ControlServerTest, ATimeoutKillsTheTaskAndSaysSo) {
  const auto tasks = Run("slow", {{"command", {"sleep", "60"}}, {"timeout", "500ms"}});
  const json t = WaitFinal(tasks[0]["id"]);
  EXPECT_EQ(t["state"], "FAILED");
  EXPECT_NE(t["reason"].get<std::string>().find("timed out"), std::string::npos) << t["reason"];
}

TEST_F(ControlServerTest, StopKillsTheWholeProcessGroup) {
  const auto tasks = Run("tree", {{"command", {"sh", "-c", "sleep 60 & echo $! > child.pid; echo started; wait"}}});
  const std::string id = tasks[0]["id"];
  WaitFor(id, [&](const json&) { return Log(id) == "started\n"; });
  const pid_t child = std::stoi(ReadFile(home_.path() / "artifacts" / "tasks" / id / "child.pid"));
  ASSERT_TRUE(ProcessAlive(child));
  CallJson("POST", "/api/tasks/" + id + "/stop", {{"grace_ms", 2000}}, 202);
  const json t = WaitFinal(id);
  EXPECT_EQ(t["state"], "CANCELLED");
  EXPECT_EQ(t["reason"].get<std::string>().substr(0, 7), "stopped");
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(child); })) << "the task's child survived the stop";
}

TEST_F(ControlServerTest, StopEscalatesToSigkillWhenSigtermIsIgnored) {
  const auto tasks =
      Run("stubborn", {{"command", {"sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"}}});
  const std::string id = tasks[0]["id"];
  WaitFor(id, [&](const json&) { return Log(id) == "ready\n"; });
  CallJson("POST", "/api/tasks/" + id + "/stop", {{"grace_ms", 300}}, 202);
  const json t = WaitFinal(id);
  EXPECT_EQ(t["state"], "CANCELLED") << t.dump();
  EXPECT_NE(t["reason"].get<std::string>().find("SIGKILL"), std::string::npos) << t.dump();
}

TEST_F(ControlServerTest, StoppingAPendingTaskCancelsItBeforeItStarts) {
  // One cpu of capacity: the second task waits behind the first.
  server_.reset();
  Start("1");
  const auto tasks = Run("queue", {{"command", {"sleep", "60"}}}, 2);
  const std::string waiting = tasks[0]["id"];  // both are PENDING at creation; find the one not started
  const std::string other = tasks[1]["id"];
  WaitFor(waiting, [&](const json&) { return Task(waiting)["state"] == "RUNNING" || Task(other)["state"] == "RUNNING"; });
  const std::string queued = Task(waiting)["state"] == "RUNNING" ? other : waiting;
  const std::string running = queued == waiting ? other : waiting;
  EXPECT_EQ(Task(queued)["state"], "PENDING");
  CallJson("POST", "/api/tasks/" + queued + "/stop", nullptr, 202);
  EXPECT_EQ(Task(queued)["state"], "CANCELLED");
  EXPECT_EQ(Task(queued)["attempt"], 0);
  CallJson("POST", "/api/tasks/" + running + "/stop", {{"grace_ms", 100}}, 202);
  EXPECT_EQ(WaitFinal(running)["state"], "CANCELLED");
}

TEST_F(ControlServerTest, AnOverLimitTaskIsKilledAndReportedAsOutOfMemory) {
  const json health = json::parse(http_->Get("/api/health").body);
  const std::string memory_limit = health["executor"]["memory_limit"];
  if (memory_limit.rfind("cgroup", 0) != 0) {
    GTEST_SKIP() << "this machine has no writable memory cgroup (limits via " << memory_limit << ")";
  }
  // Allocates and touches 300 MiB: tail keeps the whole newline-free input.
  const auto tasks = Run("hog", {{"command", {"sh", "-c", "head -c 300M /dev/zero | tail"}},
                                 {"resources", {{"memory", "64MiB"}}}});
  const json t = WaitFinal(tasks[0]["id"]);
  EXPECT_EQ(t["state"], "FAILED");
  EXPECT_EQ(t["reason"], "out of memory (limit 64 MiB)") << t.dump();
}

TEST_F(ControlServerTest, ADefinitionAskingForAnExecutorTheServerLacksFailsSayingSo) {
  const json t = WaitFinal(Run("elsewhere", {{"command", {"true"}}, {"executor", "slurm"}})[0]["id"]);
  EXPECT_EQ(t["state"], "FAILED") << t.dump();
  EXPECT_NE(t["reason"].get<std::string>().find("no 'slurm' executor"), std::string::npos) << t["reason"];
  const HttpResult bad = Call("POST", "/api/taskdefs", R"({"name": "x", "command": ["true"], "executor": "k8s"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("executor: must be"), std::string::npos) << bad.body;
}

TEST_F(ControlServerTest, ArgvWithShellMetacharactersRunsLiterally) {
  const std::string tricky = "$(whoami); rm -rf ./x | cat `id` && echo * > out 'q' \"dq\" \\ $HOME ~";
  const auto tasks = Run("literal", {{"command", {"printf", "%s\\n", tricky}}});
  const std::string id = tasks[0]["id"];
  EXPECT_EQ(WaitFinal(id)["state"], "SUCCEEDED");
  EXPECT_EQ(Log(id), tricky + "\n");
}

TEST_F(ControlServerTest, OverridesReplaceTheCommandAndEnvironmentOfOneRun) {
  CallJson("POST", "/api/taskdefs", {{"name", "greet"}, {"command", {"printenv", "GREETING"}}, {"env", {{"GREETING", "hi"}}}},
           201);
  const json run = CallJson("POST", "/api/runs",
                            {{"taskdef", "greet"}, {"overrides", {{"env", {{"GREETING", "bonjour"}}}}}}, 201);
  const std::string id = run["tasks"][0]["id"];
  EXPECT_EQ(WaitFinal(id)["state"], "SUCCEEDED");
  EXPECT_EQ(Log(id), "bonjour\n");
  // The environment is explicit: nothing of the server's own leaks in.
  const json env_run = CallJson("POST", "/api/runs",
                                {{"taskdef", "greet"}, {"overrides", {{"command", {"printenv"}}}}}, 201);
  const std::string env_id = env_run["tasks"][0]["id"];
  EXPECT_EQ(WaitFinal(env_id)["state"], "SUCCEEDED");
  const std::string env = Log(env_id);
  EXPECT_NE(env.find("WHARF_TASK_ID=" + env_id), std::string::npos) << env;
  EXPECT_NE(env.find("GREETING=hi"), std::string::npos) << env;
  EXPECT_EQ(env.find("GTEST"), std::string::npos) << env;
  // A bad override is refused with the field, before any task exists.
  const HttpResult bad = Call("POST", "/api/runs",
                              json{{"taskdef", "greet"}, {"overrides", {{"resources", {{"cpus", -1}}}}}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("resources.cpus"), std::string::npos) << bad.body;
}

TEST_F(ControlServerTest, AMissingOrWrongTokenIsRefusedWith401) {
  EXPECT_EQ(http_->Request("GET", "/api/tasks").status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/tasks", "", {{"Authorization", "Bearer " + std::string(64, '0')}}).status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/tasks", "", {{"Authorization", token_}}).status, 401);
  EXPECT_EQ(http_->Request("POST", "/api/taskdefs", R"({"name":"x","command":["true"]})").status, 401);
  EXPECT_EQ(http_->Request("GET", "/api/health").status, 200);
  const HttpResult openapi = http_->Request("GET", "/api/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  const json doc = json::parse(openapi.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/api/runs"));
  for (const char* path : {"/api/endpoints/{name}/captures", "/api/endpoints/{name}/captures/{id}",
                           "/api/endpoints/{name}/drift"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  EXPECT_EQ(Call("GET", "/api/tasks").status, 200);
}

// Every route and method the OpenAPI document lists: refused without the
// token (but the two public ones), and routed with it (a handler answers,
// not the "no route" fallback), so the document and the router agree.
TEST_F(ControlServerTest, EveryDocumentedRouteNeedsTheTokenAndExists) {
  const json doc = json::parse(http_->Request("GET", "/api/openapi.json").body);
  int checked = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    std::string concrete = path;  // every {param} becomes a name no object has
    for (std::size_t open; (open = concrete.find('{')) != std::string::npos;) {
      const std::string param = concrete.substr(open + 1, concrete.find('}') - open - 1);
      concrete.replace(open, param.size() + 2, param == "revision" ? "7" : "no-such-" + param);
    }
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") continue;
      std::string verb = method;
      std::transform(verb.begin(), verb.end(), verb.begin(), ::toupper);
      const bool open = path == "/api/health" || path == "/api/openapi.json";
      const HttpResult anonymous = http_->Request(verb, concrete, "{}");
      EXPECT_EQ(anonymous.status, open ? 200 : 401) << verb << " " << concrete << ": " << anonymous.body;
      const HttpResult r = Call(verb, concrete, "{}");
      EXPECT_NE(r.status, 401) << verb << " " << concrete;
      EXPECT_EQ(r.body.find("no route"), std::string::npos) << verb << " " << concrete << " is documented, not routed";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
}

TEST_F(ControlServerTest, ArtifactNamesCannotEscapeTheStore) {
  for (const std::string name : {"../escape", "a/../../escape", "%2e%2e/escape", "a/%2e%2e/%2e%2e/escape", "a//b",
                                 "..%2fserver.token", "%2fetc%2fpasswd", "./a"}) {
    EXPECT_EQ(Call("PUT", "/api/artifacts/" + name, "x").status, 400) << name;
    EXPECT_EQ(Call("GET", "/api/artifacts/" + name).status, 400) << name;
  }
  EXPECT_FALSE(fs::exists(home_.path() / "escape"));
  EXPECT_EQ(Trim(ReadFile(home_.path() / "server.token")), token_);
  // A proper name round-trips.
  EXPECT_EQ(Call("PUT", "/api/artifacts/data/in.csv", "a,b\n1,2\n").status, 201);
  const HttpResult got = Call("GET", "/api/artifacts/data/in.csv");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "a,b\n1,2\n");
}

TEST_F(ControlServerTest, DeclaredCpusAreNeverOversubscribed) {
  const auto tasks = Run("sleeper", {{"command", {"sleep", "0.3"}}, {"resources", {{"cpus", 1}}}}, 6);
  EXPECT_EQ(MostRunningAtOnce(2), 2) << "two 1-cpu tasks fit on 2 cpus";
  std::vector<json> done;
  for (const auto& t : tasks) {
    done.push_back(WaitFinal(t["id"]));
    EXPECT_EQ(done.back()["state"], "SUCCEEDED");
  }
  EXPECT_LE(MaxOverlap(done), 2) << "their commands never ran three at once";
}

TEST_F(ControlServerTest, ARestartedServerAdoptsLiveTasksAndMarksDeadOnes) {
  const std::string marker = (home_.path() / "go").string();
  const auto live = Run("survivor", {{"command", {"sh", "-c", "while [ ! -f \"$0\" ]; do sleep 0.05; done; echo finished", marker}},
                                     {"resources", {{"cpus", 0.5}}}});
  const auto dead = Run("victim", {{"command", {"sleep", "60"}}, {"resources", {{"cpus", 0.5}}}});
  const std::string live_id = live[0]["id"], dead_id = dead[0]["id"];
  // RUNNING is recorded as the scheduler claims a task, before it spawns the
  // supervisor and stores its handle: wait for the handle, then until both
  // commands really run (task.pid written).
  const auto started = [](const json& t) { return t["state"] == "RUNNING" && !t["handle"].get<std::string>().empty(); };
  ASSERT_TRUE(started(WaitFor(live_id, started)));
  ASSERT_TRUE(started(WaitFor(dead_id, started)));
  const auto pid_in = [&](const std::string& id, const char* file) {
    const std::string text = wharf::testing::WaitFor([&] { return ReadFile(home_.path() / "runs" / id / "1" / file); },
                                     [](const std::string& t) { return !t.empty(); });
    return text.empty() ? -1 : std::stoi(text);
  };
  ASSERT_GT(pid_in(live_id, "task.pid"), 0);
  const pid_t victim_task = pid_in(dead_id, "task.pid"), victim_shim = pid_in(dead_id, "shim.pid");
  ASSERT_GT(victim_task, 0);
  ASSERT_GT(victim_shim, 0);

  server_->Stop(SIGKILL);
  // While the server is down, the victim's supervisor and command die.
  ::kill(victim_task, SIGKILL);
  ::kill(victim_shim, SIGKILL);
  Start();
  const json victim = WaitFinal(dead_id);
  EXPECT_EQ(victim["state"], "FAILED");
  EXPECT_NE(victim["reason"].get<std::string>().find("lost"), std::string::npos) << victim.dump();

  EXPECT_EQ(Task(live_id)["state"], "RUNNING");
  {
    std::FILE* f = std::fopen(marker.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  const json survivor = WaitFinal(live_id);
  EXPECT_EQ(survivor["state"], "SUCCEEDED") << survivor.dump();
  EXPECT_EQ(Log(live_id), "finished\n");
}

// The fixtures' safety net: tasks a killed server left behind (supervisor,
// command and what it started) do not outlive the test.
TEST_F(ControlServerTest, TasksLeftByAKilledServerAreKilledWithTheirGroup) {
  const auto task = Run("orphan", {{"command", {"sh", "-c", "sleep 60 & wait"}}});
  const std::string id = task[0]["id"];
  const std::string text = wharf::testing::WaitFor([&] { return ReadFile(home_.path() / "runs" / id / "1" / "task.pid"); },
                                   [](const std::string& t) { return !t.empty(); });
  ASSERT_FALSE(text.empty());
  const pid_t group = std::stoi(text);
  server_->Stop(SIGKILL);
  ASSERT_EQ(::kill(-group, 0), 0) << "the command runs on without its server";

  EXPECT_GE(KillTasksLeftUnder(home_.path() / "runs"), 2) << "the command's group and its supervisor";
  EXPECT_TRUE(WaitUntil([&] { return ::kill(-group, 0) != 0; })) << "a process of group " << group << " survived";
  // A killed supervisor takes a moment to die on a busy machine: nothing is left once it has.
  EXPECT_TRUE(WaitUntil([&] { return KillTasksLeftUnder(home_.path() / "runs") == 0; })) << "a supervisor survived";
}

TEST_F(ControlServerTest, FourParallelWineTrainingsRegisterFourModelsAndOneServes) {
  for (const std::string file : {"TrainingDataset.csv", "ValidationDataset.csv"}) {
    ASSERT_EQ(Call("PUT", "/api/artifacts/wine/" + file, ReadFile(WineDir() / file)).status, 201);
  }
  const json spec = {{"job", "train"},
                     {"model", "wine"},
                     {"params",
                      {{"train", "artifact:wine/TrainingDataset.csv"},
                       {"validation", "artifact:wine/ValidationDataset.csv"},
                       {"hyperparameters", {{"num_parallel_tree", 40}}}}},
                     {"resources", {{"cpus", 0.5}}}};
  const auto tasks = Run("wine-train", spec, 4);
  ASSERT_EQ(tasks.size(), 4u);
  EXPECT_EQ(MostRunningAtOnce(4), 4) << "4 × 0.5 cpus fit on 2: all four run at once";
  std::vector<json> done;
  for (const auto& t : tasks) {
    done.push_back(WaitFinal(t["id"], 300s));
    EXPECT_EQ(done.back()["state"], "SUCCEEDED") << done.back().dump() << Log(t["id"], "stderr");
  }

  const json model = CallJson("GET", "/api/models/wine", nullptr, 200);
  ASSERT_EQ(model["versions"].size(), 4u);
  std::vector<std::string> lineage_tasks, task_ids;
  for (const auto& v : model["versions"]) {
    lineage_tasks.push_back(v["lineage"]["task_id"]);
    EXPECT_EQ(v["lineage"]["definition"], "wine-train:1");
    EXPECT_EQ(v["lineage"]["data_sha256"].get<std::string>().size(), 64u);
    EXPECT_TRUE(fs::exists(v["path"].get<std::string>()));
  }
  for (const auto& t : tasks) task_ids.push_back(t["id"]);
  std::sort(lineage_tasks.begin(), lineage_tasks.end());
  std::sort(task_ids.begin(), task_ids.end());
  EXPECT_EQ(lineage_tasks, task_ids);
  EXPECT_NE(Log(tasks[0]["id"]).find("[Test]  weighted F1"), std::string::npos);

  // Serve one version, named through the registry.
  ServerProcess serve({"serve", "--model", "wine=model:wine@2", "--db", (home_.path() / "wharf.db").string(),
                       "--port", "0", "--capture", "off"});
  ASSERT_TRUE(serve.started()) << serve.output();
  HttpClient client(serve.port());
  const HttpResult ready = client.Get("/v2/models/wine/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
}

// The same server with `--executor slurm`: tasks are batch jobs on a real
// three-node cluster that the test starts (scripts/slurm-up) and stops.
class SlurmServerTest : public ControlServerTest {
 protected:
  void SetUp() override {
    auto cluster = SlurmCluster::Start(3);
    if (!cluster.ok()) GTEST_SKIP() << cluster.status().message();
    cluster_ = std::move(cluster).value();
    ::setenv("SLURM_CONF", cluster_->conf().c_str(), 1);  // for the squeue and scontrol the tests run
    Start("6", {"--executor", "slurm", "--slurm-conf", cluster_->conf().string()});
  }

  // Tasks end while the cluster still runs.
  void TearDown() override { ControlServerTest::TearDown(); }

  std::unique_ptr<SlurmCluster> cluster_;
};

TEST_F(SlurmServerTest, ATaskDefinitionRunsAsSlurmJobsWithTheSameResultsAsLocally) {
  const auto tasks = Run("hello", {{"command", {"sh", "-c", "echo out $(WHARF_TASK_ID); echo err >&2"}}}, 3);
  std::set<std::string> array_jobs;
  for (const auto& task : tasks) {
    const std::string id = task["id"];
    const json t = WaitFinal(id);
    EXPECT_EQ(t["state"], "SUCCEEDED") << t.dump();
    EXPECT_EQ(t["exit_code"], 0);
    EXPECT_EQ(Log(id), "out " + id + "\n");
    EXPECT_EQ(Log(id, "stderr"), "err\n");
    const std::string handle = t["handle"];  // slurm:JOB_I:RUN_DIR
    array_jobs.insert(handle.substr(0, handle.find('_')));
  }
  // The run's three tasks started together: one job array.
  EXPECT_EQ(array_jobs.size(), 1u);
  const json failed = WaitFinal(Run("fails", {{"command", {"sh", "-c", "exit 3"}}})[0]["id"]);
  EXPECT_EQ(failed["state"], "FAILED");
  EXPECT_EQ(failed["exit_code"], 3);
  EXPECT_EQ(CallJson("GET", "/api/health", nullptr, 200)["executor"]["kind"], "slurm");
}

TEST_F(SlurmServerTest, ADefinitionOrARunPicksTheExecutor) {
  const json on_slurm = WaitFinal(Run("default", {{"command", {"true"}}})[0]["id"]);
  EXPECT_EQ(on_slurm["state"], "SUCCEEDED") << on_slurm.dump();
  EXPECT_EQ(on_slurm["handle"].get<std::string>().rfind("slurm:", 0), 0u) << on_slurm["handle"];
  const json local = WaitFinal(Run("here", {{"command", {"true"}}, {"executor", "local"}})[0]["id"]);
  EXPECT_EQ(local["state"], "SUCCEEDED") << local.dump();
  EXPECT_EQ(local["handle"].get<std::string>().rfind("/", 0), 0u) << local["handle"];
  // A run overrides the definition's choice.
  const json run = CallJson("POST", "/api/runs", {{"taskdef", "here"}, {"overrides", {{"executor", "slurm"}}}}, 201);
  const json overridden = WaitFinal(run["tasks"][0]["id"]);
  EXPECT_EQ(overridden["handle"].get<std::string>().rfind("slurm:", 0), 0u) << overridden["handle"];
  const json health = CallJson("GET", "/api/health", nullptr, 200)["executor"];
  EXPECT_EQ(health["available"], (json{"local", "slurm"}));
}

TEST_F(SlurmServerTest, AServiceKeepsItsInstancesUpAsSlurmJobs) {
  // Python takes its time to listen on a busy machine: failed checks count
  // once an instance has answered, or after the start period.
  CallJson("POST", "/api/taskdefs",
           {{"name", "web"},
            {"command", {"/usr/bin/python3", "-m", "http.server", "$(WHARF_PORT)", "--bind", "127.0.0.1"}},
            {"resources", {{"cpus", 0.5}, {"memory", "256MiB"}}},
            {"service",
             {{"desired", 2},
              {"port", "auto"},
              {"health", {{"http_path", "/"}, {"interval", "300ms"}, {"start_period", "60s"}}}}}},
           201);
  CallJson("POST", "/api/services", {{"taskdef", "web"}}, 201);
  const auto web = [&] { return CallJson("GET", "/api/services/web", nullptr, 200); };
  const json service = wharf::testing::WaitFor(web, [](const json& s) { return s["healthy"] == 2; }, kPatience, 100ms);
  ASSERT_EQ(service["healthy"], 2) << service.dump(2);
  for (const auto& instance : service["instances"]) {
    EXPECT_EQ(Task(instance["task_id"])["handle"].get<std::string>().rfind("slurm:", 0), 0u);
    EXPECT_EQ(HttpClient(instance["port"].get<int>()).Request("GET", "/").status, 200);
  }
  // A job cancelled behind the server's back ends that instance: the service replaces it.
  const std::string gone = service["instances"][0]["task_id"];
  const std::string handle = Task(gone)["handle"];  // slurm:JOBID:RUN_DIR
  ASSERT_EQ(RunProcess({"scancel", handle.substr(6, handle.find(':', 6) - 6)}).exit_code, 0);
  const auto replaced_by = [&gone](const json& s) {
    if (s["healthy"] != 2) return false;
    for (const auto& instance : s["instances"]) {
      if (instance["task_id"] == gone) return false;
    }
    return true;
  };
  const json replaced = wharf::testing::WaitFor(web, replaced_by, kPatience, 100ms);
  EXPECT_TRUE(replaced_by(replaced)) << replaced.dump(2);
  CallJson("POST", "/api/services/web/stop", nullptr, 200);
}

TEST_F(SlurmServerTest, ATrainingOverTwoRanksGivesTheSameModelLocallyAndOnSlurm) {
  for (const std::string file : {"TrainingDataset.csv", "ValidationDataset.csv"}) {
    ASSERT_EQ(Call("PUT", "/api/artifacts/wine/" + file, ReadFile(WineDir() / file)).status, 201);
  }
  const json spec = {{"job", "train"},
                     {"model", "wine"},
                     {"executor", "local"},
                     {"params",
                      {{"train", "artifact:wine/TrainingDataset.csv"},
                       {"validation", "artifact:wine/ValidationDataset.csv"},
                       {"estimator", "logistic"}}},
                     {"resources", {{"cpus", 1}, {"ranks", 2}}},
                     // Slurm's nodes share this host: no shared-memory transport between them, TCP on loopback.
                     {"env", {{"OMPI_MCA_btl", "self,tcp"}, {"OMPI_MCA_btl_tcp_if_include", "lo"}}}};
  const std::string here = Run("ranks", spec)[0]["id"];
  const json local = WaitFinal(here);
  ASSERT_EQ(local["state"], "SUCCEEDED") << local.dump() << Log(here, "stderr");
  const json run = CallJson("POST", "/api/runs", {{"taskdef", "ranks"}, {"overrides", {{"executor", "slurm"}}}}, 201);
  const std::string there = run["tasks"][0]["id"];
  const json slurm = WaitFinal(there);
  ASSERT_EQ(slurm["state"], "SUCCEEDED") << slurm.dump() << Log(there, "stderr");

  // The job held two Slurm tasks, and its srun ran the ranks in them.
  const std::string handle = slurm["handle"];
  const std::string job = handle.substr(6, handle.find(':', 6) - 6);
  const std::string shown = RunProcess({"scontrol", "show", "job", job, "-o"}).out;
  EXPECT_NE(shown.find("NumTasks=2"), std::string::npos) << shown;
  // The same model from both: the same scores, from two ranks each.
  auto scores = [&](const std::string& id) {
    const std::string out = Log(id);
    return out.substr(out.find("[Train]"), out.find("Model:") - out.find("[Train]"));
  };
  EXPECT_EQ(scores(here), scores(there));
  EXPECT_NE(Log(here).find("Training on 2 ranks, started by mpirun"), std::string::npos) << Log(here);
  EXPECT_NE(Log(there).find("Training on 2 ranks, started by srun in Slurm job " + job), std::string::npos) << Log(there);
  const json model = CallJson("GET", "/api/models/wine", nullptr, 200);
  ASSERT_EQ(model["versions"].size(), 2u);
  for (const auto& v : model["versions"]) {
    EXPECT_NE(ReadFile(v["path"].get<std::string>()).find("\"ranks\":2"), std::string::npos) << v.dump();
  }
}

TEST_F(SlurmServerTest, ACnnTrainingTaskGivesTheSameModelLocallyAndOnSlurm) {
  if (!WharfHasDeepLearning()) GTEST_SKIP() << "this build has no deep learning plugin (LibTorch)";
  const fs::path data = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(data)) GTEST_SKIP() << data << " is missing (Debian package dataset-fashion-mnist)";
  const json spec = {{"job", "dl-train"},
                     {"model", "fashion"},
                     {"executor", "local"},
                     {"params", {{"data", data.string()}, {"limit", 512}, {"epochs", 1}, {"seed", 3}}},
                     {"resources", {{"cpus", 1}}}};
  const std::string here = Run("cnn", spec)[0]["id"];
  const json local = WaitFinal(here);
  ASSERT_EQ(local["state"], "SUCCEEDED") << local.dump() << Log(here, "stderr");
  const json run = CallJson("POST", "/api/runs", {{"taskdef", "cnn"}, {"overrides", {{"executor", "slurm"}}}}, 201);
  const std::string there = run["tasks"][0]["id"];
  const json slurm = WaitFinal(there);
  ASSERT_EQ(slurm["state"], "SUCCEEDED") << slurm.dump() << Log(there, "stderr");
  EXPECT_EQ(slurm["handle"].get<std::string>().rfind("slurm:", 0), 0u);
  // Same seed, same one thread: the same network, so the same scores.
  auto scores = [&](const std::string& id) {
    const std::string out = Log(id);
    const auto at = out.find("Train accuracy");
    return at == std::string::npos ? out : out.substr(at);
  };
  EXPECT_EQ(scores(here), scores(there));
  const json model = CallJson("GET", "/api/models/fashion", nullptr, 200);
  EXPECT_EQ(model["versions"].size(), 2u);
}

TEST_F(SlurmServerTest, AFeaturizeRunOfCountThreeOnSlurmMergesIntoTheSingleRunsTables) {
  if (!WharfHasDeepLearning()) GTEST_SKIP() << "this build has no deep learning plugin (LibTorch)";
  // Colour images (sizes 24..48) as gray pixel features at 16x16.
  const fs::path images = home_.path() / "images";
  const ProcessResult made = RunProcess(
      {(SourceDir() / "scripts" / "make-image-folders").string(), "colour", images.string(), "--count", "24"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::vector<std::string> flags = {"--images", images.string(), "--raw", "--color", "gray", "--size", "16x16",
                                          "--batch-size", "4"};
  std::vector<std::string> single = {"featurize", "--out", (home_.path() / "single").string()};
  single.insert(single.end(), flags.begin(), flags.end());
  const ProcessResult one = RunWharf(single);
  ASSERT_EQ(one.exit_code, 0) << one.err;

  const auto tasks = Run("features",
                         {{"job", "featurize"},
                          {"params", {{"images", images.string()}, {"raw", true}, {"color", "gray"}, {"size", "16x16"},
                                      {"batch_size", 4}}},
                          {"resources", {{"cpus", 1}}}},
                         3);
  std::vector<std::string> merge = {"featurize", "merge", "--out", (home_.path() / "merged").string()};
  for (const auto& task : tasks) {
    const std::string id = task["id"];
    const json t = WaitFinal(id);
    ASSERT_EQ(t["state"], "SUCCEEDED") << t.dump() << Log(id, "stderr");
    EXPECT_EQ(t["handle"].get<std::string>().rfind("slurm:", 0), 0u);
    merge.push_back((home_.path() / "artifacts" / "tasks" / id).string());
  }
  const ProcessResult merged = RunWharf(merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  for (const char* table : {"features.csv", "features.npy"}) {
    EXPECT_EQ(ReadFile(home_.path() / "merged" / table), ReadFile(home_.path() / "single" / table)) << table;
  }
}

TEST_F(SlurmServerTest, StopCancelsTheJob) {
  const std::string id = Run("sleepy", {{"command", {"sh", "-c", "echo started; sleep 60"}}})[0]["id"];
  WaitFor(id, [&](const json&) { return Log(id) == "started\n"; });
  CallJson("POST", "/api/tasks/" + id + "/stop", {{"grace_ms", 1000}}, 202);
  const json t = WaitFinal(id);
  EXPECT_EQ(t["state"], "CANCELLED") << t.dump();
  // The job ends once its supervisor has exited.
  const std::string queue = wharf::testing::WaitFor([] { return Trim(RunProcess({"squeue", "-h"}).out); },
                                                    [](const std::string& q) { return q.empty(); }, kPatience, 100ms);
  EXPECT_EQ(queue, "") << "the job left the queue";
}

TEST_F(SlurmServerTest, ANodeTakenDownFailsItsTaskNamingTheNode) {
  const std::string id = Run("on-a-node", {{"command", {"sh", "-c", "echo started; sleep 60"}}})[0]["id"];
  WaitFor(id, [&](const json&) { return Log(id) == "started\n"; });
  const std::string node = Trim(RunProcess({"squeue", "-h", "-o", "%N"}).out);
  ASSERT_FALSE(node.empty());
  ASSERT_EQ(RunProcess({"scontrol", "update", "nodename=" + node, "state=down", "reason=wharf-test"}).exit_code, 0);
  const json t = WaitFinal(id);
  EXPECT_EQ(t["state"], "FAILED") << t.dump();
  EXPECT_NE(t["reason"].get<std::string>().find("node " + node + " failed"), std::string::npos) << t["reason"];
}

}  // namespace
}  // namespace wharf::testing
