#pragma once
// Membership of XGBoost's own collective (rabit) for a data-parallel tree
// fit: the ranks' boosters then agree on every split. Debian's libxgboost is
// built without MPI, so its collective meets through a tracker (python3-
// xgboost's RabitTracker, which `wharf train --ranks` starts) whose address
// arrives in DMLC_TRACKER_URI and DMLC_TRACKER_PORT.

#include <memory>

#include "core/status.h"

namespace wharf::dist {

class XgboostCollective {
 public:
  // Joins as task `rank`. FailedPrecondition when no tracker is named in the
  // environment; Unavailable when the tracker cannot be reached.
  static Result<std::unique_ptr<XgboostCollective>> Join(int rank);
  // Leaves the collective.
  ~XgboostCollective();
  XgboostCollective(const XgboostCollective&) = delete;
  XgboostCollective& operator=(const XgboostCollective&) = delete;

 private:
  XgboostCollective() = default;
};

}  // namespace wharf::dist
