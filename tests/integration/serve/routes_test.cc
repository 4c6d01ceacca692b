// Every route of `wharf serve`, against a real server process.

#include <cstdint>
#include <cstdio>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serve/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/server_process.h"

namespace wharf {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::ServeModels;
using testing::ServerProcess;
using testing::TempDir;

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "serve", "--model", "wine=" + ServeModels::Wine().string(), "--model", "iris=" + ServeModels::Iris().string(),
        "--port", "0", "--threads", "2", "--db", (dir_.path() / "wharf.db").string(), "--max-body-bytes", "4096"});
    ASSERT_TRUE(server_->started()) << server_->output();
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(RoutesTest, ServerMetadataAndHealth) {
  auto v2 = client_->Get("/v2");
  ASSERT_EQ(v2.status, 200);
  EXPECT_EQ(json::parse(v2.body)["name"], "wharf");
  EXPECT_EQ(client_->Get("/v2/health/live").status, 200);
  EXPECT_EQ(json::parse(client_->Get("/v2/health/ready").body)["ready"], true);
}

TEST_F(RoutesTest, ModelMetadataListsInputsAndOutputs) {
  auto meta = client_->Get("/v2/models/wine");
  ASSERT_EQ(meta.status, 200) << meta.body;
  const auto j = json::parse(meta.body);
  EXPECT_EQ(j["name"], "wine");
  EXPECT_EQ(j["versions"], json::array({"1"}));
  EXPECT_EQ(j["inputs"][0]["shape"], json::array({-1, 11}));
  EXPECT_EQ(j["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(j["parameters"]["columns"].size(), 11u);
  EXPECT_EQ(j["outputs"][1]["shape"], json::array({-1, 6}));
  EXPECT_EQ(client_->Get("/v2/models/wine/versions/1").status, 200);
  EXPECT_EQ(json::parse(client_->Get("/v2/models/wine/ready").body)["ready"], true);
  EXPECT_EQ(client_->Get("/v2/models/wine/versions/1/ready").status, 200);
}

TEST_F(RoutesTest, InferWithABatchTensor) {
  auto r = client_->Post("/v2/models/wine/infer", testing::WineInferBody("req-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = json::parse(r.body);
  EXPECT_EQ(j["model_name"], "wine");
  EXPECT_EQ(j["model_version"], "1");
  EXPECT_EQ(j["id"], "req-1");
  EXPECT_EQ(j["outputs"][0]["name"], "label");
  EXPECT_EQ(j["outputs"][0]["data"].size(), 1u);
  EXPECT_EQ(j["outputs"][1]["shape"], json::array({1, 6}));
  float sum = 0;
  for (const auto& p : j["outputs"][1]["data"]) sum += p.get<float>();
  EXPECT_NEAR(sum, 1.0f, 1e-4f);
}

TEST_F(RoutesTest, InferWithOneTensorPerColumnMatchesTheBatchForm) {
  const auto columns = json::parse(client_->Get("/v2/models/wine").body)["parameters"]["columns"];
  const std::vector<double> row{7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4};
  json body = {{"inputs", json::array()}};
  for (std::size_t c = 0; c < row.size(); ++c) {
    body["inputs"].push_back(
        {{"name", columns[c]}, {"shape", {2}}, {"datatype", "FP64"}, {"data", {row[c], row[c]}}});
  }
  auto per_column = client_->Post("/v2/models/wine/versions/1/infer", body.dump());
  ASSERT_EQ(per_column.status, 200) << per_column.body;
  auto batch = client_->Post("/v2/models/wine/infer", testing::WineInferBody());
  const auto a = json::parse(per_column.body)["outputs"][1]["data"];
  const auto b = json::parse(batch.body)["outputs"][1]["data"];
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(a[i].get<double>(), b[i].get<double>(), 1e-6);
}

TEST_F(RoutesTest, GeneratesAnIdWhenNoneIsGiven) {
  auto first = json::parse(client_->Post("/v2/models/wine/infer", testing::WineInferBody()).body);
  auto second = json::parse(client_->Post("/v2/models/wine/infer", testing::WineInferBody()).body);
  EXPECT_TRUE(std::regex_match(first["id"].get<std::string>(), std::regex("[0-9a-f]{32}"))) << first["id"];
  EXPECT_NE(first["id"], second["id"]);
}

// The next id the old scheme would give after `id`: splitmix64 over a salt
// plus a counter times the golden gamma, which inverts.
std::string NextSplitMixId(const std::string& id) {
  auto inverse = [](std::uint64_t m) {  // m * inverse == 1 mod 2^64 (Newton's iteration)
    std::uint64_t x = m;
    for (int i = 0; i < 6; ++i) x *= 2 - m * x;
    return x;
  };
  auto unshift = [](std::uint64_t y, int s) {  // undoes y = x ^ (x >> s)
    std::uint64_t x = y;
    for (int k = s; k < 64; k += s) x ^= y >> k;
    return x;
  };
  auto mix = [](std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  std::uint64_t x = std::stoull(id.substr(0, 16), nullptr, 16);
  x = unshift(x, 31) * inverse(0x94d049bb133111ebULL);
  x = unshift(x, 27) * inverse(0xbf58476d1ce4e5b9ULL);
  x = unshift(x, 30);
  char next[17];
  std::snprintf(next, sizeof(next), "%016llx", static_cast<unsigned long long>(mix(x + 0x9e3779b97f4a7c15ULL)));
  return next;
}

// Found by attacking a fresh build: server-made ids were splitmix64 over a
// salt and a counter, so a client computed the next one from its own and
// GET /output/<id>/ handed it the next client's answer. Ids are 128 bits
// from the OS's CSPRNG now.
TEST_F(RoutesTest, AServerMadeIdDoesNotGiveAwayTheNextClients) {
  const std::string mine = json::parse(client_->Post("/v2/models/wine/infer", testing::WineInferBody()).body)["id"];
  HttpClient other(server_->port());
  const std::string theirs = json::parse(other.Post("/v2/models/wine/infer", testing::WineInferBody()).body)["id"];
  const std::string guess = NextSplitMixId(mine);
  EXPECT_NE(guess, theirs);
  EXPECT_EQ(client_->Get("/output/" + guess + "/").status, 404);
}

TEST_F(RoutesTest, ClassicRoutesAnswerForTheFirstEndpoint) {
  auto alive = client_->Get("/");
  EXPECT_EQ(alive.status, 200);
  auto version = json::parse(client_->Get("/version/").body);
  EXPECT_EQ(version["model"], "wine");
  EXPECT_EQ(version["version"], "1");
  auto endpoints = json::parse(client_->Get("/endpoints/").body);
  EXPECT_EQ(endpoints["endpoints"].size(), 2u);
}

TEST_F(RoutesTest, MetricsCountRequestsInPrometheusFormat) {
  client_->Post("/v2/models/wine/infer", testing::WineInferBody());
  client_->Post("/v2/models/wine/infer", testing::WineInferBody());
  client_->Post("/v2/models/wine/infer", "{");
  auto metrics = client_->Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers["content-type"].find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(wharf_requests_total{endpoint="wine",variant="default",version="1",role="primary"} 2)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(wharf_rejected_requests_total{endpoint="wine"} 1)"), std::string::npos);
  EXPECT_NE(metrics.body.find("wharf_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("wharf_capture_written_total"), std::string::npos);
}

struct BadRequest {
  std::string name, method, path, body;
  int status;
  std::string message;  // part of the error
};

void PrintTo(const BadRequest& c, std::ostream* os) { *os << c.method << " " << c.path; }

class BadRequestTest : public RoutesTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(BadRequestTest, IsRefusedWithAReasonAndTheServerKeepsServing) {
  const auto& c = GetParam();
  auto r = client_->Request(c.method, c.path, c.body);
  EXPECT_EQ(r.status, c.status) << r.body;
  EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find(c.message), std::string::npos) << r.body;
  HttpClient fresh(server_->port());
  EXPECT_EQ(fresh.Post("/v2/models/wine/infer", testing::WineInferBody()).status, 200);
}

const std::string kRow = "[7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadRequestTest,
    ::testing::Values(
        BadRequest{"BadJson", "POST", "/v2/models/wine/infer", "{\"inputs\": [", 400, "JSON"},
        BadRequest{"NotAnObject", "POST", "/v2/models/wine/infer", "[1,2]", 400, "object"},
        BadRequest{"NoInputs", "POST", "/v2/models/wine/infer", "{}", 400, "inputs"},
        BadRequest{"WrongShape", "POST", "/v2/models/wine/infer",
                   R"({"inputs":[{"name":"x","shape":[1,10],"datatype":"FP32","data":[1,2,3,4,5,6,7,8,9,10]}]})", 400,
                   "expected shape [batch, 11]"},
        BadRequest{"ShapeDisagreesWithData", "POST", "/v2/models/wine/infer",
                   R"({"inputs":[{"name":"x","shape":[2,11],"datatype":"FP32","data":)" + kRow + "}]}", 400,
                   "does not match"},
        BadRequest{"WrongDatatype", "POST", "/v2/models/wine/infer",
                   R"({"inputs":[{"name":"x","shape":[1,11],"datatype":"BYTES","data":)" + kRow + "}]}", 400,
                   "BYTES data must hold base64 strings"},
        BadRequest{"TextInData", "POST", "/v2/models/wine/infer",
                   R"({"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":["a"]}]})", 400, "numbers"},
        BadRequest{"UnknownModel", "POST", "/v2/models/beer/infer", testing::WineInferBody(), 404, "beer"},
        BadRequest{"UnknownVersion", "POST", "/v2/models/wine/versions/9/infer", testing::WineInferBody(), 404,
                   "no version '9'"},
        BadRequest{"UnknownRoute", "GET", "/nope", "", 404, "no route"},
        BadRequest{"WrongMethod", "GET", "/v2/models/wine/infer", "", 405, "not allowed"},
        BadRequest{"OversizeBody", "POST", "/v2/models/wine/infer", std::string(5000, ' '), 413, "limit"}),
    [](const auto& test) { return test.param.name; });

}  // namespace
}  // namespace wharf
