#include "cli/params.h"

#include <gtest/gtest.h>

#include "cli/exit_code.h"

namespace wharf::cli {
namespace {

TEST(ParamsTest, ParsesNameEqualsNumber) {
  auto params = ParseParams({"max_depth=6", "eta=0.1"});
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->at("max_depth"), 6);
  EXPECT_EQ(params->at("eta"), 0.1);
}

TEST(ParamsTest, RejectsWhatIsNotNameEqualsNumber) {
  for (const char* bad : {"max_depth", "=3", "eta=fast", "eta=1x", "eta=inf"}) {
    auto params = ParseParams({bad});
    ASSERT_FALSE(params.ok()) << bad;
    EXPECT_NE(params.status().message().find(bad), std::string::npos);
  }
}

TEST(ExitCodeTest, BadInputIsTwoAndInternalIsOne) {
  EXPECT_EQ(ExitCode(Status::Ok()), 0);
  EXPECT_EQ(ExitCode(InvalidArgument("x")), 2);
  EXPECT_EQ(ExitCode(NotFound("x")), 2);
  EXPECT_EQ(ExitCode(DataLoss("x")), 2);
  EXPECT_EQ(ExitCode(Internal("x")), 1);
}

}  // namespace
}  // namespace wharf::cli
