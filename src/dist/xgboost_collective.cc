#include "dist/xgboost_collective.h"

#include <xgboost/c_api.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

namespace wharf::dist {

Result<std::unique_ptr<XgboostCollective>> XgboostCollective::Join(int rank) {
  const char* uri = std::getenv("DMLC_TRACKER_URI");
  const char* port = std::getenv("DMLC_TRACKER_PORT");
  if (uri == nullptr || port == nullptr) {
    return FailedPrecondition(
        "xgboost across ranks needs XGBoost's tracker: start the ranks with `wharf train --ranks N`, which starts "
        "it, or set DMLC_TRACKER_URI and DMLC_TRACKER_PORT");
  }
  // XGBoost 1.7 reads only the upper-case keys here.
  const nlohmann::json config = {
      {"DMLC_TRACKER_URI", uri}, {"DMLC_TRACKER_PORT", port}, {"DMLC_TASK_ID", std::to_string(rank)}};
  if (XGCommunicatorInit(config.dump().c_str()) != 0) {
    return Unavailable(std::string("xgboost: cannot join the tracker at ") + uri + ":" + port + ": " +
                       XGBGetLastError());
  }
  return std::unique_ptr<XgboostCollective>(new XgboostCollective());
}

XgboostCollective::~XgboostCollective() { XGCommunicatorFinalize(); }

}  // namespace wharf::dist
