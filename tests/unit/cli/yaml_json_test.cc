#include "cli/yaml_json.h"

#include <string>

#include <gtest/gtest.h>

namespace wharf::cli {
namespace {

using nlohmann::json;

json Convert(const std::string& yaml) {
  auto result = YamlToJson(yaml, "spec.yaml");
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : json();
}

std::string Error(const std::string& yaml) {
  auto result = YamlToJson(yaml, "spec.yaml");
  EXPECT_FALSE(result.ok()) << "converted to " << (result.ok() ? result->dump() : "");
  return result.ok() ? "" : result.status().message();
}

TEST(YamlToJsonTest, PlainScalarsResolveByTheCoreSchema) {
  struct Case {
    std::string yaml;
    json expected;
  };
  const Case cases[] = {
      {"1", 1},         {"-7", -7},          {"+3", 3},           {"0x1f", 31},          {"0o17", 15},
      {"0.5", 0.5},     {"-1.5e3", -1500.0}, {".5", 0.5},         {"true", true},        {"False", false},
      {"null", json()}, {"~", json()},       {"", json()},        {"wine@3", "wine@3"},  {"30s", "30s"},
      {"yes", "yes"},   {"1.2.3", "1.2.3"},  {"0x", "0x"},        {"127.0.0.1", "127.0.0.1"},
  };
  for (const auto& c : cases) {
    const json converted = Convert("v: " + c.yaml);
    EXPECT_EQ(converted["v"], c.expected) << "v: " << c.yaml << " gave " << converted;
    EXPECT_EQ(converted["v"].type(), c.expected.type()) << "v: " << c.yaml;
  }
}

TEST(YamlToJsonTest, QuotedAndBlockScalarsStayStrings) {
  const json j = Convert("a: \"1\"\nb: 'true'\nc: \"null\"\nd: !!str 0.5\ne: |\n  7\n");
  EXPECT_EQ(j, json({{"a", "1"}, {"b", "true"}, {"c", "null"}, {"d", "0.5"}, {"e", "7\n"}}));
}

TEST(YamlToJsonTest, IntegersAndDoublesKeepTheirKinds) {
  const json j = Convert("port: 8080\nweight: 0.5\n");
  EXPECT_TRUE(j["port"].is_number_integer()) << j;
  EXPECT_EQ(j["port"], 8080);
  EXPECT_TRUE(j["weight"].is_number_float()) << j;
}

TEST(YamlToJsonTest, NestedMappingsAndSequencesBecomeObjectsAndArrays) {
  const json j = Convert(R"(
name: wine
variants:
  - {name: blue, model: wine@3, weight: 90}
  - name: green
    model: wine@production
shadow: {name: next, model: wine@4}
replicas: {min: 2, cooldown: 30s}
)");
  const json expected = {
      {"name", "wine"},
      {"variants", {{{"name", "blue"}, {"model", "wine@3"}, {"weight", 90}},
                    {{"name", "green"}, {"model", "wine@production"}}}},
      {"shadow", {{"name", "next"}, {"model", "wine@4"}}},
      {"replicas", {{"min", 2}, {"cooldown", "30s"}}},
  };
  EXPECT_EQ(j, expected);
}

TEST(YamlToJsonTest, AnEmptyDocumentIsNull) { EXPECT_TRUE(Convert("").is_null()); }

TEST(YamlToJsonTest, SyntaxErrorsNameTheFileLineAndColumn) {
  // A mis-indented key: yaml-cpp stops at its ':'.
  const std::string message = Error("name: wine\nport: 8080\n  host: x\n");
  EXPECT_EQ(message.rfind("spec.yaml:3:7: ", 0), 0u) << message;
  EXPECT_EQ(Error("name: wine\nvariants:\n  - {name: blue\n").rfind("spec.yaml:4:1: ", 0), 0u);
}

TEST(YamlToJsonTest, DuplicateKeysAreErrorsAtTheSecondKey) {
  EXPECT_EQ(Error("port: 1\nname: x\nport: 2\n"), "spec.yaml:3:1: duplicate key 'port'");
}

TEST(YamlToJsonTest, ValuesJsonCannotHoldAreErrors) {
  EXPECT_NE(Error("v: .inf").find("spec.yaml:1:4: '.inf' has no JSON equivalent"), std::string::npos);
  EXPECT_NE(Error("v: 99999999999999999999999").find("does not fit in 64 bits"), std::string::npos);
  EXPECT_NE(Error("[1, 2]: x").find("spec.yaml:1:1: a mapping key"), std::string::npos);
}

TEST(YamlToJsonTest, MoreThanOneDocumentIsAnError) {
  EXPECT_NE(Error("a: 1\n---\nb: 2\n").find("expected one YAML document, found 2"), std::string::npos);
}

}  // namespace
}  // namespace wharf::cli
