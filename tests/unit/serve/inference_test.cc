#include "serve/inference.h"

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "artifact/registry.h"
#include "testing/temp_dir.h"

namespace wharf::serve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using json = nlohmann::json;

// Takes columns a, b, c. As a classifier (classes x, y) it answers 0.25, 0.75
// for every row; as a regressor it answers a + b + c, like a linear model.
class FakeModel : public artifact::Model {
 public:
  explicit FakeModel(bool classifier) {
    schema_.kind = classifier ? artifact::ModelKind::kClassifier : artifact::ModelKind::kRegressor;
    schema_.features = {"a", "b", "c"};
    if (classifier) schema_.classes = {"x", "y"};
  }
  const artifact::ModelSchema& schema() const override { return schema_; }
  std::size_t output_width() const override { return schema_.classes.empty() ? 1 : 2; }
  Status Predict(const float* x, std::size_t rows, float* out) const override {
    for (std::size_t r = 0; r < rows; ++r) {
      if (schema_.classes.empty()) {
        out[r] = x[r * 3] + x[r * 3 + 1] + x[r * 3 + 2];
      } else {
        out[r * 2] = 0.25f;
        out[r * 2 + 1] = 0.75f;
      }
    }
    return Status::Ok();
  }

 private:
  artifact::ModelSchema schema_;
};

class InferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Register("fake", [](const artifact::Modelfile&, const artifact::LoadOptions&) {
      return Result<std::unique_ptr<artifact::Model>>(std::make_unique<FakeModel>(true));
    });
    registry_.Register("fake_regressor", [](const artifact::Modelfile&, const artifact::LoadOptions&) {
      return Result<std::unique_ptr<artifact::Model>>(std::make_unique<FakeModel>(false));
    });
    endpoint_ = LoadEndpoint("fake");
  }

  std::unique_ptr<Endpoint> LoadEndpoint(const std::string& kind) {
    artifact::Modelfile file;
    file.header = {{"estimator", {{"kind", kind}}}};
    const auto path = dir_.path() / (kind + ".wharf");
    EXPECT_TRUE(artifact::WriteModelfile(file, path).ok());
    EndpointConfig config;
    config.name = "iris";
    config.variants.push_back({"blue", path, "1", 1});
    config.aliases = {{"alpha", "a"}};
    auto endpoint = Endpoint::Load(config, registry_);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    return endpoint.ok() ? std::move(endpoint).value() : nullptr;
  }

  Result<FeatureBatch> Infer(std::string body) const { return ParseInferRequest(body, *endpoint_); }
  Result<FeatureBatch> Run(std::string body) const { return ParseRunRequest(body, *endpoint_); }
  const Variant& blue() const { return endpoint_->variants().front(); }

  testing::TempDir dir_;
  artifact::ModelRegistry registry_;
  std::unique_ptr<Endpoint> endpoint_;
};

TEST_F(InferenceTest, BatchTensorGivesOneRowPerFirstDimension) {
  auto batch = Infer(R"({"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->rows, 2u);
  EXPECT_THAT(batch->x, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST_F(InferenceTest, OneDimensionalTensorIsOneRow) {
  auto batch = Infer(R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1.5,2,3]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->rows, 1u);
  EXPECT_THAT(batch->x, ElementsAre(1.5, 2, 3));
}

TEST_F(InferenceTest, ColumnTensorsInAnyOrderWithAnAliasFillTheModelsColumns) {
  auto batch = Infer(R"({"inputs":[
      {"name":"c","shape":[2],"datatype":"FP32","data":[3,30]},
      {"name":"alpha","shape":[2,1],"datatype":"FP32","data":[[1],[10]]},
      {"name":"b","shape":[2],"datatype":"FP32","data":[2,20]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->rows, 2u);
  EXPECT_THAT(batch->x, ElementsAre(1, 2, 3, 10, 20, 30));
}

TEST_F(InferenceTest, AcceptsFp64AndInt64AndFlattensNestedData) {
  for (const char* type : {"FP64", "INT64", "FP32"}) {
    auto batch = Infer(std::string(R"({"inputs":[{"name":"x","shape":[2,3],"datatype":")") + type +
                       R"(","data":[[1,2,3],[4,5,6]]}]})");
    ASSERT_TRUE(batch.ok()) << type << ": " << batch.status().ToString();
    EXPECT_EQ(batch->rows, 2u);
    EXPECT_THAT(batch->x, ElementsAre(1, 2, 3, 4, 5, 6)) << type;
  }
}

struct BadRequest {
  const char* name;
  const char* body;
  const char* says;
};

class InferRequestErrorTest : public InferenceTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(InferRequestErrorTest, IsInvalidArgumentWithAMessage) {
  auto batch = Infer(GetParam().body);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(batch.status().message(), HasSubstr(GetParam().says));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InferRequestErrorTest,
    ::testing::Values(
        BadRequest{"BadJson", R"({"inputs": [{"name": "x", "data": [1,, 2]}]})", "invalid JSON"},
        BadRequest{"TruncatedJson", R"({"inputs": [{"name": "x", )", "JSON"},
        BadRequest{"NotJsonAtAll", "hello", "JSON"},
        BadRequest{"NotAnObject", "[1, 2, 3]", "the request body must be a JSON object"},
        BadRequest{"MissingInputs", R"({"id": "a"})", "the request needs a non-empty 'inputs' array"},
        BadRequest{"EmptyInputs", R"({"inputs": []})", "the request needs a non-empty 'inputs' array"},
        BadRequest{"BytesDatatype", R"({"inputs":[{"name":"x","shape":[3],"datatype":"BYTES","data":[1,2,3]}]})",
                   "BYTES data must hold base64 strings"},
        BadRequest{"BytesToATabularModel", R"({"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["aGk="]}]})",
                   "BYTES inputs go to image models; this one takes columns"},
        BadRequest{"StringsInANumericTensor", R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":["1"]}]})",
                   "input 'x': data must hold numbers"},
        BadRequest{"ShapeDataMismatch",
                   R"({"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5]}]})",
                   "input 'x': shape [2, 3] does not match its 5 data values"},
        BadRequest{"WrongWidth", R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})",
                   "expected shape [batch, 3]"},
        BadRequest{"UnknownColumn", R"({"inputs":[
            {"name":"a","shape":[1],"datatype":"FP32","data":[1]},
            {"name":"b","shape":[1],"datatype":"FP32","data":[2]},
            {"name":"zzz","shape":[1],"datatype":"FP32","data":[3]}]})",
                   "input 'zzz' is not a column of this model; columns: a, b, c"},
        BadRequest{"MissingColumn", R"({"inputs":[
            {"name":"a","shape":[1],"datatype":"FP32","data":[1]},
            {"name":"b","shape":[1],"datatype":"FP32","data":[2]}]})",
                   "missing input for column 'c'"},
        BadRequest{"ColumnBatchSizesDiffer", R"({"inputs":[
            {"name":"a","shape":[2],"datatype":"FP32","data":[1,2]},
            {"name":"b","shape":[2],"datatype":"FP32","data":[1,2]},
            {"name":"c","shape":[3],"datatype":"FP32","data":[1,2,3]}]})",
                   "every column tensor must have the same batch size"},
        BadRequest{"StringData", R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":["1","2","3"]}]})",
                   "input 'x': data must hold numbers"},
        BadRequest{"NoName", R"({"inputs":[{"shape":[3],"datatype":"FP32","data":[1,2,3]}]})",
                   "every input needs a 'name'"}),
    [](const ::testing::TestParamInfo<BadRequest>& p) { return std::string(p.param.name); });

TEST_F(InferenceTest, TruncatedOrTrailingJsonIsReportedAsInvalidJson) {
  const std::string row = R"({"name":"x","shape":[3],"datatype":"FP32","data":[1,2,3]})";
  for (const std::string& body : {R"({"inputs":[)" + row + "]}}", R"({"inputs":[)" + row + "]} xyz",
                                 std::string(R"({"inputs": [{"name": "x", )")}) {
    auto batch = Infer(body);
    ASSERT_FALSE(batch.ok()) << body;
    EXPECT_THAT(batch.status().message(), HasSubstr("invalid JSON")) << body;
  }
}

TEST_F(InferenceTest, StringIdIsEchoed) {
  auto batch = Infer(R"({"id":"req \"7\"","inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2,3]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->id, "req \"7\"");
  EXPECT_EQ(batch->id_json, R"("req \"7\"")");
}

TEST_F(InferenceTest, NumericIdIsEchoedAsANumber) {
  auto batch = Infer(R"({"id": 42 , "inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2,3]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->id_json, "42");
  auto prediction = Predict(blue(), *batch);
  ASSERT_TRUE(prediction.ok());
  EXPECT_EQ(json::parse(InferResponse(*endpoint_, blue(), *batch, *prediction))["id"], json(42));
}

TEST_F(InferenceTest, MissingIdIsGeneratedAndUnique) {
  const std::string body = R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2,3]}]})";
  auto first = Infer(body);
  auto second = Infer(body);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_THAT(first->id, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(first->id_json, "\"" + first->id + "\"");
  EXPECT_NE(first->id, second->id);
}

TEST(NewRequestIdTest, Is128RandomBitsInHexAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 10'000; ++i) {
    const std::string id = NewRequestId();
    ASSERT_THAT(id, MatchesRegex("[0-9a-f]{32}"));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 10'000u);
}

TEST_F(InferenceTest, RunRequestMatchesFieldsByNameOrAliasAndIgnoresOthers) {
  auto batch = Run(R"({"id":"r1","request_time":"2024-01-01T00:00:00Z",
                       "inputs":{"c":3,"extra":"ignored","alpha":1,"b":2}})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->id, "r1");
  EXPECT_EQ(batch->rows, 1u);
  EXPECT_THAT(batch->x, ElementsAre(1, 2, 3));
}

TEST_F(InferenceTest, RunRequestReportsTheMissingColumn) {
  auto batch = Run(R"({"inputs":{"a":1,"b":2}})");
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.status().message(), "missing input 'c'");
  EXPECT_THAT(Run(R"({"inputs":{"a":"one","b":2,"c":3}})").status().message(), HasSubstr("input 'a' must be a number"));
  EXPECT_THAT(Run(R"({"id":"x"})").status().message(), HasSubstr("needs an 'inputs' object"));
}

// Found by fuzz/request_fuzz.cc: a malformed value in a used column
// ("nuil") threw from simdjson and terminated the model server.
TEST_F(InferenceTest, RunRequestWithAMalformedValueIsRefusedNotThrown) {
  for (const std::string body : {R"({"inputs":{"a":nuil,"b":2,"c":3}})", R"({"inputs":{"a":[},"b":2,"c":3}})",
                                 R"({"inputs":{"a":tru,"b":2,"c":3}})", R"({"inputs":{"b":2,"c":3,"a":n)"}) {
    Result<FeatureBatch> batch = Run(body);
    ASSERT_FALSE(batch.ok()) << body;
    EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST_F(InferenceTest, InferResponseIsJsonWithLabelAndProbabilities) {
  auto batch = Infer(R"({"id":"q","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]})");
  ASSERT_TRUE(batch.ok());
  auto prediction = Predict(blue(), *batch);
  ASSERT_TRUE(prediction.ok()) << prediction.status().ToString();
  EXPECT_EQ(prediction->width, 2u);
  EXPECT_THAT(prediction->best, ElementsAre(1, 1));

  const json answer = json::parse(InferResponse(*endpoint_, blue(), *batch, *prediction));
  EXPECT_EQ(answer["model_name"], "iris");
  EXPECT_EQ(answer["model_version"], "1");
  EXPECT_EQ(answer["id"], "q");
  EXPECT_EQ(answer["parameters"]["variant"], "blue");
  ASSERT_EQ(answer["outputs"].size(), 2u);
  const json& label = answer["outputs"][0];
  EXPECT_EQ(label["name"], "label");
  EXPECT_EQ(label["datatype"], "BYTES");
  EXPECT_EQ(label["shape"], json({2}));
  EXPECT_EQ(label["data"], json({"y", "y"}));
  const json& probabilities = answer["outputs"][1];
  EXPECT_EQ(probabilities["name"], "probabilities");
  EXPECT_EQ(probabilities["datatype"], "FP32");
  EXPECT_EQ(probabilities["shape"], json({2, 2}));
  EXPECT_EQ(probabilities["data"], json({0.25, 0.75, 0.25, 0.75}));
}

TEST_F(InferenceTest, RunResponseHasTheOutputLabel) {
  auto batch = Run(R"({"id":7,"inputs":{"a":1,"b":2,"c":3}})");
  ASSERT_TRUE(batch.ok());
  auto prediction = Predict(blue(), *batch);
  ASSERT_TRUE(prediction.ok());
  const json answer = json::parse(RunResponse(blue(), *batch, *prediction));
  EXPECT_EQ(answer, json({{"id", 7}, {"output", "y"}, {"model_version", "1"}, {"variant", "blue"}}));
}

TEST_F(InferenceTest, RegressorAnswersItsValue) {
  endpoint_ = LoadEndpoint("fake_regressor");
  ASSERT_NE(endpoint_, nullptr);
  auto batch = Run(R"({"id":"r","inputs":{"a":1,"b":2,"c":3.5}})");
  ASSERT_TRUE(batch.ok());
  auto prediction = Predict(blue(), *batch);
  ASSERT_TRUE(prediction.ok());
  EXPECT_EQ(json::parse(RunResponse(blue(), *batch, *prediction))["output"], json(6.5));
  const json answer = json::parse(InferResponse(*endpoint_, blue(), *batch, *prediction));
  ASSERT_EQ(answer["outputs"].size(), 1u);
  EXPECT_EQ(answer["outputs"][0]["name"], "output-0");
  EXPECT_EQ(answer["outputs"][0]["shape"], json({1, 1}));
}

TEST_F(InferenceTest, NonFiniteOutputsStillMakeValidJson) {
  endpoint_ = LoadEndpoint("fake_regressor");
  ASSERT_NE(endpoint_, nullptr);
  for (const char* data : {"[null,2,3]", "[1e39,2,3]"}) {
    auto batch = Infer(std::string(R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":)") + data + "}]}");
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    auto prediction = Predict(blue(), *batch);
    ASSERT_TRUE(prediction.ok());
    EXPECT_TRUE(json::accept(InferResponse(*endpoint_, blue(), *batch, *prediction))) << data;
    EXPECT_TRUE(json::accept(RunResponse(blue(), *batch, *prediction))) << data;
  }
}

TEST(StoredOutputTest, ExtractsTheOutputOfARunAnswer) {
  EXPECT_EQ(StoredOutput(R"({"id":"a","output":"setosa","model_version":"1","variant":"blue"})"), R"("setosa")");
  EXPECT_EQ(StoredOutput(R"({"id":"a","output": 5.25 ,"variant":"blue"})"), "5.25");
  EXPECT_EQ(StoredOutput(R"({"id":"a", "output" : "setosa" })"), R"("setosa")");
}

TEST(StoredOutputTest, ReturnsAV2AnswerUnchanged) {
  const std::string v2 =
      R"({"model_name":"iris","id":"a","outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["setosa"]}]})";
  EXPECT_EQ(StoredOutput(v2), v2);
  EXPECT_EQ(StoredOutput("not json"), "not json");
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  struct Case {
    std::string text;
    std::string literal;
  };
  const Case cases[] = {
      {"plain", R"("plain")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {R"(C:\dir)", R"("C:\\dir")"},
      {"a\nb\rc\td", R"("a\nb\rc\td")"},
      {std::string("\x01\x1f", 2), R"("\u0001\u001f")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"", R"("")"},
  };
  for (const auto& c : cases) EXPECT_EQ(JsonString(c.text), c.literal);
}

TEST(JsonStringTest, EveryControlCharacterRoundTripsThroughAJsonParser) {
  std::string text;
  for (int c = 0; c < 0x20; ++c) text += static_cast<char>(c);
  text += "\"\\/end";
  EXPECT_EQ(json::parse(JsonString(text)).get<std::string>(), text);
  EXPECT_EQ(json::parse(ErrorJson(text))["error"].get<std::string>(), text);
}

}  // namespace
}  // namespace wharf::serve
