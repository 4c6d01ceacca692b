// Services through a real `wharf server`: instances kept at their count on
// ports of their own, scaled up and down, restarted when their health
// check fails or they crash (and reported), stopped; and Debian's Jupyter
// notebook server run as a service, its token from a secret.

#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control_server_fixture.h"

namespace wharf::testing {
namespace {

using ::testing::HasSubstr;

// A web server on the instance's port. Python takes a second or two to
// listen on a fifth of a CPU (longer on a loaded machine): failed checks
// count once it has answered, or after the start period, so "connection
// refused" while it starts is not what restarts it.
json WebService(int desired, const std::string& health_path, const std::string& start_period = "60s") {
  return {{"command", {"/usr/bin/python3", "-m", "http.server", "$(WHARF_PORT)", "--bind", "127.0.0.1"}},
          {"resources", {{"cpus", 0.2}}},  // three fit beside each other on the test server's 2 cpus
          {"service",
           {{"desired", desired},
            {"port", "auto"},
            {"health",
             {{"http_path", health_path}, {"interval", "200ms"}, {"timeout", "1s"}, {"retries", 2},
              {"start_period", start_period}}}}}};
}

class ServicesTest : public ControlServerTest {
 protected:
  void TearDown() override {
    const HttpResult list = Call("GET", "/api/services");
    const json services = json::parse(list.body, nullptr, false);
    if (list.status == 200 && services.contains("services")) {
      for (const auto& s : services["services"]) Call("POST", "/api/services/" + s["name"].get<std::string>() + "/stop");
    }
    ControlServerTest::TearDown();
  }

  void Register(const std::string& name, json spec) {
    spec["name"] = name;
    CallJson("POST", "/api/taskdefs", spec, 201);
  }

  json Service(const std::string& name) { return CallJson("GET", "/api/services/" + name, nullptr, 200); }

  // Polls the service until `done` holds; returns it as last seen.
  template <typename Predicate>
  json WaitForService(const std::string& name, Predicate done) {
    return wharf::testing::WaitFor([&] { return Service(name); }, done, kPatience, 50ms);
  }

  json WaitHealthy(const std::string& name, int n) {
    const json service = WaitForService(name, [n](const json& s) {
      return s["healthy"] == n && s["instances"].size() == static_cast<std::size_t>(n);
    });
    EXPECT_EQ(service["healthy"], n) << service.dump(2);
    return service;
  }

  // GET / on each instance's port: every one answers, and no two share a port.
  static void ExpectEachInstanceServes(const json& service) {
    std::set<int> ports;
    for (const auto& instance : service["instances"]) {
      const int port = instance["port"];
      EXPECT_TRUE(ports.insert(port).second) << "two instances on port " << port;
      EXPECT_EQ(HttpClient(port).Request("GET", "/").status, 200) << instance.dump();
    }
  }
};

TEST_F(ServicesTest, InstancesRunOnTheirOwnPortsAndScaleUpAndDown) {
  Register("web", WebService(2, "/"));
  const json created = CallJson("POST", "/api/services", {{"taskdef", "web"}}, 201);
  EXPECT_EQ(created["desired"], 2);
  ExpectEachInstanceServes(WaitHealthy("web", 2));

  CallJson("POST", "/api/services/web/scale", {{"desired", 3}}, 200);
  const json three = WaitHealthy("web", 3);
  ExpectEachInstanceServes(three);

  CallJson("POST", "/api/services/web/scale", {{"desired", 1}}, 200);
  const json one = WaitHealthy("web", 1);
  ExpectEachInstanceServes(one);
  // The oldest instance stays (it is warm); the two newer ones were stopped.
  const std::string kept = one["instances"][0]["task_id"];
  for (const auto& instance : three["instances"]) {
    if (instance["task_id"] == kept) continue;
    EXPECT_EQ(WaitFinal(instance["task_id"])["state"], "CANCELLED");
  }
  const json list = CallJson("GET", "/api/services", nullptr, 200);
  ASSERT_EQ(list["services"].size(), 1u);
  EXPECT_EQ(list["services"][0]["healthy"], 1);
}

TEST_F(ServicesTest, AnInstanceFailingItsHealthCheckIsRestartedAndReported) {
  // http.server answers 404: never healthy, so each instance is restarted once its start period is over.
  Register("broken-web", WebService(1, "/missing", "2s"));
  CallJson("POST", "/api/services", {{"taskdef", "broken-web"}}, 201);
  // On a busy machine python may not listen within the start period: restarts
  // for "connection refused" may come first; the 404's restart follows.
  const auto events = [](const json& s) {
    std::string all;
    for (const auto& e : s["events"]) all += e["message"].get<std::string>() + "\n";
    return all;
  };
  const std::string answered_404 = "failed 2 health checks in a row (last: GET /missing answered HTTP 404); restarting";
  const json restarted = WaitForService("broken-web", [&](const json& s) {
    return s["restarts"]["unhealthy"] >= 2 && events(s).find(answered_404) != std::string::npos;
  });
  ASSERT_GE(restarted["restarts"]["unhealthy"], 2) << restarted.dump(2);
  EXPECT_THAT(events(restarted), HasSubstr(answered_404));
  const json tasks = CallJson("GET", "/api/tasks?group=service:broken-web&limit=0", nullptr, 200);
  EXPECT_GE(tasks["tasks"].size(), 2u) << "a replacement was started";
}

TEST_F(ServicesTest, ACrashingInstanceIsRestartedWithBackoffAndAStopEndsIt) {
  Register("crasher", {{"command", {"sh", "-c", "exit 3"}},
                       {"service", {{"health", {{"command", {"true"}}, {"interval", "200ms"}}}}}});
  CallJson("POST", "/api/services", {{"taskdef", "crasher"}}, 201);
  const json crashed = WaitForService("crasher", [](const json& s) { return s["restarts"]["crashed"] >= 2; });
  ASSERT_GE(crashed["restarts"]["crashed"], 2) << crashed.dump(2);
  EXPECT_THAT(crashed["events"].dump(), HasSubstr("ended: exit code 3; restarting"));
  const json stopped = CallJson("POST", "/api/services/crasher/stop", nullptr, 200);
  EXPECT_FALSE(stopped["active"].get<bool>());
  const json idle = WaitForService("crasher", [](const json& s) { return s["instances"].empty(); });
  EXPECT_TRUE(idle["instances"].empty()) << idle.dump(2);
  EXPECT_EQ(CallJson("GET", "/api/services", nullptr, 200)["services"].size(), 0u);
}

TEST_F(ServicesTest, TheServeJobRunsAsAServiceOnItsAllocatedPort) {
  const fs::path model = home_.path() / "model";
  const ProcessResult trained =
      RunWharf({"train", "--train", (WineDir() / "TrainingDataset.csv").string(), "--estimator", "logistic", "--out",
                model.string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  ASSERT_EQ(Call("PUT", "/api/artifacts/wine/Modelfile", ReadFile(model / "Modelfile")).status, 201);
  Register("wine-service",
           {{"job", "serve"},
            {"params", {{"model", "artifact:wine/Modelfile"}, {"port", "$(WHARF_PORT)"}}},
            {"resources", {{"cpus", 0.5}}},
            {"service",
             {{"desired", 2},
              {"port", "auto"},
              {"health", {{"http_path", "/v2/health/ready"}, {"interval", "200ms"}, {"start_period", "60s"}}}}}});
  CallJson("POST", "/api/services", {{"taskdef", "wine-service"}}, 201);
  const json service = WaitHealthy("wine-service", 2);
  for (const auto& instance : service["instances"]) {
    EXPECT_EQ(HttpClient(instance["port"].get<int>()).Request("GET", "/v2/models/model/ready").status, 200)
        << instance.dump();
  }
}

TEST_F(ServicesTest, BadRequestsAreRefusedNamingWhy) {
  Register("batch", {{"command", {"true"}}});
  EXPECT_THAT(Call("POST", "/api/services", R"({"taskdef": "batch"})").body, HasSubstr("has no service block"));
  EXPECT_EQ(Call("POST", "/api/services", R"({"taskdef": "absent"})").status, 404);
  EXPECT_EQ(Call("POST", "/api/services", R"({"name": "x"})").status, 400);
  EXPECT_EQ(Call("GET", "/api/services/absent").status, 404);
  EXPECT_EQ(Call("POST", "/api/taskdefs",
                 R"({"name": "fixed", "command": ["x"], "service": {"desired": 2, "port": 8080}})")
                .status,
            400);
  Register("web", WebService(1, "/"));
  EXPECT_EQ(Call("POST", "/api/services", R"({"taskdef": "web"})").status, 201);
  EXPECT_EQ(Call("POST", "/api/services", R"({"taskdef": "web"})").status, 409);
  EXPECT_EQ(Call("POST", "/api/services/web/scale", R"({"desired": -1})").status, 400);
  EXPECT_EQ(http_->Request("GET", "/api/services").status, 401);
}

TEST_F(ServicesTest, AJupyterNotebookServerRunsAsAServiceReachableOnItsPort) {
  if (RunProcess({"/usr/bin/python3", "-c", "import notebook"}).exit_code != 0) {
    GTEST_SKIP() << "python3-notebook is not installed (scripts/install-deps installs it)";
  }
  EXPECT_EQ(Call("PUT", "/api/secrets/notebook-token", "nb-T0ken").status, 201);
  const json spec = json::parse(ReadFile(SourceDir() / "examples" / "tasks" / "notebook.json"));
  CallJson("POST", "/api/taskdefs", spec, 201);
  CallJson("POST", "/api/services", {{"taskdef", "notebook"}}, 201);
  const json service = WaitHealthy("notebook", 1);
  const int port = service["instances"][0]["port"];
  HttpClient notebook(port);
  EXPECT_THAT(notebook.Request("GET", "/api").body, HasSubstr("\"version\""));
  EXPECT_EQ(notebook.Request("GET", "/api/contents").status, 403);  // the token guards it
  EXPECT_EQ(notebook.Request("GET", "/api/contents", "", {{"Authorization", "token nb-T0ken"}}).status, 200);
}

}  // namespace
}  // namespace wharf::testing
