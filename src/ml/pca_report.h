#pragma once
// What `wharf pca fit` reports about a fitted Pca: the explained-variance
// curve as a table and as a plot (SVG, readable by any browser), so the
// choice of k can be checked by eye. Stateless functions: thread-safe.

#include <optional>
#include <string>

#include "ml/pca.h"

namespace wharf::ml {

// CSV: component,variance,ratio,cumulative,kept, one row per computed component.
std::string ExplainedVarianceCsv(const Pca& pca);

// An SVG plot of each component's share (bars) and the cumulative share
// (line) against the component number, with the target share (when k was
// chosen by one) and the kept k marked.
std::string ExplainedVarianceSvg(const Pca& pca, std::optional<double> target);

}  // namespace wharf::ml
