// The web console as `wharf server` serves it: its files at / without a
// token (the API behind them still needs one), with the headers that keep a
// value shown on a page from running as script, and every file a page loads
// present.

#include <regex>
#include <set>

#include "control_server_fixture.h"

namespace wharf::testing {
namespace {

using ConsoleTest = ControlServerTest;

TEST_F(ConsoleTest, ServesTheConsoleAtTheRootWithoutAToken) {
  const HttpResult index = http_->Get("/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<title>wharf console</title>"), std::string::npos);
  EXPECT_EQ(http_->Get("/index.html").body, index.body);
  // The console's data still needs the token.
  EXPECT_EQ(http_->Get("/api/tasks").status, 401);
}

TEST_F(ConsoleTest, PagesMayOnlyRunScriptsFromThisServer) {
  for (const std::string path : {"/", "/js/app.js", "/app.css"}) {
    const HttpResult r = http_->Get(path);
    ASSERT_EQ(r.status, 200) << path;
    const std::string& csp = r.headers.at("content-security-policy");
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(r.headers.at("x-content-type-options"), "nosniff");
  }
  EXPECT_EQ(http_->Get("/js/app.js").headers.at("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(http_->Get("/app.css").headers.at("content-type"), "text/css; charset=utf-8");
}

// Follows every src/href of index.html and every import of the scripts it
// reaches: each must be served (a missing one would break the console).
TEST_F(ConsoleTest, EveryFileThePagesLoadIsServed) {
  const std::regex reference(R"re((?:src|href)="([^"#]+)")re");
  const std::regex import(R"re(from '(\.[^']+)')re");
  std::set<std::string> seen;
  std::vector<std::string> queue = {"/index.html"};
  while (!queue.empty()) {
    const std::string path = queue.back();
    queue.pop_back();
    if (!seen.insert(path).second) continue;
    const HttpResult r = http_->Get(path);
    ASSERT_EQ(r.status, 200) << path << " is referenced but not served";
    const std::string dir = path.substr(0, path.rfind('/') + 1);
    const std::regex& pattern = path.ends_with(".js") ? import : reference;
    for (std::sregex_iterator it(r.body.begin(), r.body.end(), pattern), end; it != end; ++it) {
      std::string target = (*it)[1];
      if (target.starts_with("./")) target = target.substr(2);
      std::string resolved = dir;
      while (target.starts_with("../")) {
        resolved = resolved.substr(0, resolved.rfind('/', resolved.size() - 2) + 1);
        target = target.substr(3);
      }
      queue.push_back(resolved + target);
    }
  }
  EXPECT_TRUE(seen.contains("/vendor/uplot/uPlot.iife.min.js"));
  EXPECT_TRUE(seen.contains("/js/pages/endpoints.js"));
  EXPECT_TRUE(seen.contains("/js/charts.js"));
  // The chart library's license ships with it.
  const HttpResult license = http_->Get("/vendor/uplot/LICENSE");
  ASSERT_EQ(license.status, 200);
  EXPECT_NE(license.body.find("MIT"), std::string::npos);
}

TEST_F(ConsoleTest, UnknownPathsAndOtherMethodsAreNotTheConsole) {
  EXPECT_EQ(http_->Get("/no-such-page.js").status, 404);
  EXPECT_EQ(http_->Get("/../wharf.db").status, 404);
  EXPECT_EQ(http_->Get("/server.token").status, 404);
  EXPECT_EQ(http_->Post("/index.html", "x").status, 404);
  // A query string does not change the file.
  EXPECT_EQ(http_->Get("/?x=1").status, 200);
}

}  // namespace
}  // namespace wharf::testing
