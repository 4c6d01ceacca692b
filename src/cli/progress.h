#pragma once
// Reports search progress on stderr: a redrawn bar on a terminal, one plain
// line per trial otherwise (logs, CI). Not thread-safe; the search calls it
// from one thread at a time.

#include <cstddef>

#include "ml/search.h"

namespace wharf::cli {

class SearchProgress {
 public:
  SearchProgress();
  void OnTrial(const ml::Trial& trial, std::size_t done, std::size_t total);

 private:
  bool terminal_;
  double best_ = -1;
};

}  // namespace wharf::cli
