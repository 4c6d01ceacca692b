#include "serve/config.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::serve {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(LoadServeConfigTest, ReadsDynamicBatchingAndRefusesOutOfRangeValues) {
  testing::TempDir dir;
  auto config = ParseServeConfig(R"(endpoints:
  - name: fm
    variants: [{name: a, model: m/Modelfile}]
    batching: {max_batch_size: 32, max_queue_delay_us: 2500}
  - name: plain
    variants: [{name: a, model: m/Modelfile}]
)",
                                 "serve.yaml", dir.path());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->endpoints[0].batching.enabled());
  EXPECT_EQ(config->endpoints[0].batching.max_batch_size, 32u);
  EXPECT_EQ(config->endpoints[0].batching.max_queue_delay_us, 2500);
  EXPECT_FALSE(config->endpoints[1].batching.enabled());

  auto bad = ParseServeConfig(R"(endpoints:
  - name: fm
    variants: [{name: a, model: m/Modelfile}]
    batching: {max_batch_size: -1}
)",
                              "serve.yaml", dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("serve.yaml:4"), HasSubstr("max_batch_size")));
}

TEST(LoadServeConfigTest, ReadsAFullConfigWithPathsRelativeToTheFile) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "conf");
  const auto path = dir.Write("conf/serve.yaml", R"(endpoints:
  - name: iris
    variants:
      - {name: blue, model: blue/Modelfile, version: "1", weight: 90}
      - {name: green, model: /models/green/Modelfile, version: 2, weight: 10}
    shadow: {name: next, model: next/Modelfile, version: "3"}
    sticky_header: X-User-Id
    aliases: {pental_length: petal_length, sepal: sepal_length}
    capture: {mode: durable, sample_percent: 25}
  - name: wine
    variants:
      - name: only
        model: wine.wharf
)");
  auto config = LoadServeConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->endpoints.size(), 2u);

  const EndpointConfig& iris = config->endpoints[0];
  EXPECT_EQ(iris.name, "iris");
  ASSERT_EQ(iris.variants.size(), 2u);
  EXPECT_EQ(iris.variants[0].name, "blue");
  EXPECT_EQ(iris.variants[0].model, dir.path() / "conf" / "blue/Modelfile");
  EXPECT_EQ(iris.variants[0].version, "1");
  EXPECT_EQ(iris.variants[0].weight, 90);
  EXPECT_EQ(iris.variants[1].model, std::filesystem::path("/models/green/Modelfile"));
  EXPECT_EQ(iris.variants[1].version, "2");
  EXPECT_EQ(iris.variants[1].weight, 10);
  ASSERT_TRUE(iris.shadow.has_value());
  EXPECT_EQ(iris.shadow->name, "next");
  EXPECT_EQ(iris.shadow->model, dir.path() / "conf" / "next/Modelfile");
  EXPECT_EQ(iris.shadow->version, "3");
  EXPECT_EQ(iris.sticky_header, "X-User-Id");
  EXPECT_EQ(iris.aliases, (std::map<std::string, std::string>{{"pental_length", "petal_length"},
                                                              {"sepal", "sepal_length"}}));
  EXPECT_EQ(iris.capture.mode, CaptureMode::kDurable);
  EXPECT_EQ(iris.capture.sample_percent, 25);

  const EndpointConfig& wine = config->endpoints[1];
  EXPECT_EQ(wine.name, "wine");
  ASSERT_EQ(wine.variants.size(), 1u);
  EXPECT_EQ(wine.variants[0].model, dir.path() / "conf" / "wine.wharf");
  EXPECT_EQ(wine.variants[0].version, "1");
  EXPECT_EQ(wine.variants[0].weight, 1);
  EXPECT_FALSE(wine.shadow.has_value());
  EXPECT_EQ(wine.sticky_header, "");
  EXPECT_TRUE(wine.aliases.empty());
  EXPECT_EQ(wine.capture.mode, CaptureMode::kAsync);
  EXPECT_EQ(wine.capture.sample_percent, 100);
}

TEST(LoadServeConfigTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(LoadServeConfig(dir.path() / "absent.yaml").status().code(), StatusCode::kNotFound);
}

// A config that LoadServeConfig must reject, and what the message must say.
struct BadConfig {
  const char* name;
  const char* yaml;
  std::string where;  // ":line:" (or ":line:column:") after the file name; empty if only the file is named
  std::vector<std::string> says;
};

class LoadServeConfigErrorTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(LoadServeConfigErrorTest, NamesTheFileAndTheField) {
  const BadConfig& c = GetParam();
  testing::TempDir dir;
  const auto path = dir.Write("serve.yaml", c.yaml);
  auto config = LoadServeConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = config.status().message();
  EXPECT_THAT(message, HasSubstr(path.string() + (c.where.empty() ? ": " : c.where))) << message;
  for (const auto& s : c.says) EXPECT_THAT(message, HasSubstr(s));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoadServeConfigErrorTest,
    ::testing::Values(
        BadConfig{"UnknownEndpointKey", R"(endpoints:
  - name: iris
    variants:
      - {name: blue, model: m}
    stiky_header: X-User
)",
                  ":5:",
                  {"unknown field 'stiky_header' in an endpoint",
                   "known: aliases, batching, capture, name, revision, shadow, sticky_header, variants"}},
        BadConfig{"UnknownVariantKey", R"(endpoints:
  - name: iris
    variants:
      - {name: blue, modle: m}
)",
                  ":4:", {"unknown field 'modle' in a variant", "known: model, name, version, weight"}},
        BadConfig{"UnknownTopLevelKey", "endpoint:\n  - name: iris\n", ":1:", {"unknown field 'endpoint'", "known: endpoints"}},
        BadConfig{"UnknownCaptureKey", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}]
    capture: {mode: async, sample: 5}
)",
                  ":4:", {"unknown field 'sample' in capture", "known: mode, sample_percent"}},
        BadConfig{"MissingVariants", R"(endpoints:
  - name: iris
    sticky_header: X
)",
                  ":2:", {"endpoint 'iris' needs a non-empty 'variants' list"}},
        BadConfig{"EmptyVariants", "endpoints:\n  - name: iris\n    variants: []\n", ":2:", {"'variants'"}},
        BadConfig{"NoEndpoints", "endpoints: []\n", ":1:", {"needs a non-empty 'endpoints' list"}},
        BadConfig{"VariantWithoutModel", R"(endpoints:
  - name: iris
    variants:
      - {name: blue}
)",
                  ":4:", {"a variant needs 'name' and 'model'"}},
        BadConfig{"BadCaptureMode", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}]
    capture: {mode: sync}
)",
                  ":4:", {"unknown capture mode 'sync'; known: off, async, durable"}},
        BadConfig{"WeightNotANumber", R"(endpoints:
  - name: iris
    variants:
      - {name: blue, model: m, weight: heavy}
)",
                  ":4:", {"field 'weight' has the wrong type"}},
        BadConfig{"SamplePercentAbove100", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}]
    capture: {sample_percent: 150}
)",
                  ":4:", {"endpoint 'iris'", "capture.sample_percent must be within 0..100"}},
        BadConfig{"SamplePercentNegative", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}]
    capture: {sample_percent: -1}
)",
                  ":4:", {"capture.sample_percent must be within 0..100"}},
        BadConfig{"DuplicateEndpointNames", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}]
  - name: iris
    variants: [{name: green, model: n}]
)",
                  ":4:", {"endpoint 'iris' appears twice"}},
        BadConfig{"DuplicateVariantVersions", R"(endpoints:
  - name: iris
    variants:
      - {name: blue, model: m, version: "1"}
      - {name: green, model: n, version: "1"}
)",
                  ":2:", {"endpoint 'iris'", "variant names and versions must be unique", "'green', '1'"}},
        BadConfig{"ShadowSharesAVariantsVersion", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m, version: "1"}]
    shadow: {name: next, model: n, version: "1"}
)",
                  ":2:", {"endpoint 'iris'", "the shadow's name and version must differ"}},
        BadConfig{"ZeroWeight", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m, weight: 0}]
)",
                  ":3:", {"variant 'blue'", "weight must be a finite number > 0"}},
        BadConfig{"NegativeWeight", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m, weight: -2}]
)",
                  ":3:", {"variant 'blue'", "weight must be a finite number > 0"}},
        BadConfig{"MalformedYaml", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}
)",
                  ":4:1:", {}}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST(LoadServeConfigTest, ValidationErrorsNameTheLine) {
  testing::TempDir dir;
  const auto path = dir.Write("serve.yaml", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m, weight: 0}]
)");
  EXPECT_THAT(LoadServeConfig(path).status().message(), HasSubstr(path.string() + ":3:"));
}

TEST(LoadServeConfigTest, AliasToANonScalarIsAnErrorNotAnException) {
  testing::TempDir dir;
  const auto path = dir.Write("serve.yaml", R"(endpoints:
  - name: iris
    variants: [{name: blue, model: m}]
    aliases: {pental_length: [petal_length]}
)");
  Status status;
  EXPECT_NO_THROW(status = LoadServeConfig(path).status());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(path.string() + ":4:"));
}

TEST(LoadServeConfigTest, EmptyNameOrVersionIsAnError) {
  testing::TempDir dir;
  for (const char* yaml : {"endpoints:\n  - name:\n    variants: [{name: blue, model: m}]\n",
                           "endpoints:\n  - name: iris\n    variants: [{name: blue, model: m, version: }]\n"}) {
    EXPECT_FALSE(LoadServeConfig(dir.Write("serve.yaml", yaml)).ok()) << yaml;
  }
}

TEST(LoadServeConfigTest, InfiniteWeightIsAnError) {
  testing::TempDir dir;
  const auto path = dir.Write("serve.yaml", R"(endpoints:
  - name: iris
    variants:
      - {name: blue, model: m, version: "1", weight: .inf}
      - {name: green, model: n, version: "2", weight: 1}
)");
  EXPECT_FALSE(LoadServeConfig(path).ok());
}

TEST(ServeConfigFromModelFlagsTest, MakesOneEndpointPerFlag) {
  auto config = ServeConfigFromModelFlags({"iris=out/iris/Modelfile", "wine=/abs/wine.wharf"});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->endpoints.size(), 2u);
  EXPECT_EQ(config->endpoints[0].name, "iris");
  ASSERT_EQ(config->endpoints[0].variants.size(), 1u);
  EXPECT_EQ(config->endpoints[0].variants[0].model, std::filesystem::path("out/iris/Modelfile"));
  EXPECT_EQ(config->endpoints[0].variants[0].version, "1");
  EXPECT_EQ(config->endpoints[1].name, "wine");
  EXPECT_EQ(config->endpoints[1].variants[0].model, std::filesystem::path("/abs/wine.wharf"));
}

TEST(ServeConfigFromModelFlagsTest, RejectsFlagsWithoutNameAndPath) {
  for (const std::string flag : {"name", "=path", "name=", "="}) {
    auto config = ServeConfigFromModelFlags({flag});
    ASSERT_FALSE(config.ok()) << flag;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(), AllOf(HasSubstr("'" + flag + "'"), HasSubstr("NAME=PATH")));
  }
}

TEST(ServeConfigFromModelFlagsTest, RejectsNoFlagsAndDuplicateNames) {
  EXPECT_THAT(ServeConfigFromModelFlags({}).status().message(), HasSubstr("nothing to serve"));
  EXPECT_THAT(ServeConfigFromModelFlags({"iris=a", "iris=b"}).status().message(),
              HasSubstr("endpoint 'iris' appears twice"));
  EXPECT_THAT(ServeConfigFromModelFlags({"a/b=m"}).status().message(), HasSubstr("contain no '/'"));
}

TEST(ParseCaptureModeTest, ParsesTheThreeModesAndListsThemOnError) {
  for (auto mode : {CaptureMode::kOff, CaptureMode::kAsync, CaptureMode::kDurable}) {
    auto parsed = ParseCaptureMode(CaptureModeName(mode));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_EQ(ParseCaptureMode("Durable").status().message(),
            "unknown capture mode 'Durable'; known: off, async, durable");
}

}  // namespace
}  // namespace wharf::serve
