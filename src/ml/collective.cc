#include "ml/collective.h"

#include <fmt/format.h>

namespace wharf::ml {

Status AgreeAcrossRanks(Collective& collective, const Status& mine) {
  // One slot per rank (did it fail?), then one per status code (how many
  // failed with it), so the others can fail with the same kind of error.
  constexpr auto kCodes = static_cast<std::size_t>(StatusCode::kUnauthenticated) + 1;
  const auto ranks = static_cast<std::size_t>(collective.size());
  std::vector<double> failed(ranks + kCodes, 0.0);
  if (!mine.ok()) {
    failed[static_cast<std::size_t>(collective.rank())] = 1;
    failed[ranks + static_cast<std::size_t>(mine.code())] = 1;
  }
  WHARF_RETURN_IF_ERROR(collective.Sum(failed));
  if (!mine.ok()) return mine;
  std::vector<int> who;
  for (std::size_t r = 0; r < ranks; ++r) {
    if (failed[r] > 0) who.push_back(static_cast<int>(r));
  }
  if (who.empty()) return Status::Ok();
  auto code = StatusCode::kInternal;
  for (std::size_t c = 1; c < kCodes; ++c) {
    if (failed[ranks + c] > 0) {
      code = static_cast<StatusCode>(c);
      break;
    }
  }
  return Status(code, fmt::format("rank {} failed (its own message says why)", fmt::join(who, ", ")));
}

}  // namespace wharf::ml
