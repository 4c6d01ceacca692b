#pragma once
// How far one feature's live inputs have drifted from the training data the
// Modelfile summarizes (data::FeatureSummary). Pure statistics, no I/O; free
// functions, thread-safe.
//
// A live value that is NaN or infinite is missing, as in the summary. The
// distribution statistics (PSI, KS) compare present values only; missing
// values are judged by their rate.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "data/summary.h"

namespace wharf::monitor {

// An empty bin's share in PSI, on either side: a bin empty in training but
// not live adds a large but finite term, one empty on both sides adds 0.
inline constexpr double kPsiEmptyShare = 1e-4;

// Population stability index of `live` (present values, any order) against
// the training histogram: sum over bins of (live - training) * ln(live /
// training), with shares of present values. The bins are the summary's
// kSummaryBins bins over [min, max] plus one below min and one above max,
// whose training share is 0 (so kPsiEmptyShare). Needs a training histogram
// with values and a non-empty `live` (checked).
double PopulationStabilityIndex(const data::FeatureSummary& training, std::span<const double> live);

// The two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value.
struct KsResult {
  double d = 0;        // sup |F_live(x) - F_training(x)|, in [0, 1]
  double p_value = 1;  // P(D this large | same distribution), from the Kolmogorov distribution
};

// The training CDF as KS sees it: piecewise linear through (min, 0), the
// stored quantiles (kSummaryQuantiles), and (max, 1); right-continuous, so
// tied quantiles make a step.
double TrainingCdf(const data::FeatureSummary& training, double x);

// KS of `sorted_live` (present values, ascending: checked) against
// TrainingCdf. D is exact for these two CDFs; the p-value takes n = the
// training count and m = the live count: Q(D * sqrt(nm / (n + m))). It
// assumes continuous distributions, so it is conservative for discrete ones.
// Needs training values and a non-empty `sorted_live` (checked).
KsResult KolmogorovSmirnov(const data::FeatureSummary& training, std::span<const double> sorted_live);

// Q(lambda) = P(K > lambda) for the Kolmogorov distribution K (1 below 0.2,
// where it is within 5e-13 of 1).
double KolmogorovSurvival(double lambda);

// When a feature counts as drifted. The defaults are common rules of thumb.
struct DriftThresholds {
  double psi = 0.2;             // PSI >= psi
  double ks_d = 0.1;            // KS D >= ks_d ...
  double ks_p_value = 0.01;     // ... and p < ks_p_value (both: D alone grows noisy on few rows)
  double missing_rate = 0.05;   // live missing rate >= training's + missing_rate
  std::size_t min_rows = 30;    // fewer live rows (or present values, for PSI and KS) are not judged
};

enum class DriftReason { kPsi, kKs, kMissingRate };

enum class DriftVerdict {
  kOk,          // judged and within every threshold
  kDrifted,     // at least one reason
  kTooFewRows,  // fewer than min_rows live rows or present values, and no reason: never flagged
};

// One feature's comparison. Statistics that cannot be computed are absent.
struct FeatureDrift {
  std::string feature;
  std::size_t live_rows = 0;    // live values, missing included
  std::size_t live_present = 0;
  double training_missing_rate = 0;
  double live_missing_rate = 0;  // 0 without live rows
  double training_mean = 0;
  std::optional<double> live_mean;  // absent without present live values
  std::optional<double> psi;        // absent without present values on either side
  std::optional<KsResult> ks;       // likewise
  DriftVerdict verdict = DriftVerdict::kTooFewRows;
  std::vector<DriftReason> reasons;  // in DriftReason order; empty unless kDrifted
};

// Compares `live` (one value per live row, NaN = missing) with `training`.
// The missing rate is judged with at least min_rows live rows, PSI and KS
// with at least min_rows present values.
FeatureDrift MeasureDrift(const data::FeatureSummary& training, std::span<const double> live,
                          const DriftThresholds& thresholds = {});

}  // namespace wharf::monitor
