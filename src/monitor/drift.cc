#include "monitor/drift.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numbers>
#include <numeric>

namespace wharf::monitor {
namespace {

// The knots of TrainingCdf: (min, 0), (quantile_i, p_i)..., (max, 1).
struct CdfKnots {
  std::vector<double> x, p;
};

CdfKnots KnotsOf(const data::FeatureSummary& training) {
  WHARF_CHECK(training.quantiles.size() == std::size(data::kSummaryQuantiles));
  CdfKnots k;
  k.x.push_back(training.min);
  k.p.push_back(0);
  for (std::size_t i = 0; i < training.quantiles.size(); ++i) {
    k.x.push_back(training.quantiles[i]);
    k.p.push_back(data::kSummaryQuantiles[i]);
  }
  k.x.push_back(training.max);
  k.p.push_back(1);
  // Interpolated quantiles may round a hair past their neighbours; the CDF must not go backwards.
  for (std::size_t i = 1; i < k.x.size(); ++i) k.x[i] = std::max(k.x[i], k.x[i - 1]);
  return k;
}

// Linear between knots lo and lo + 1, where k.x[lo] < k.x[lo + 1].
double Interpolate(const CdfKnots& k, std::size_t lo, double x) {
  return k.p[lo] + (k.p[lo + 1] - k.p[lo]) * (x - k.x[lo]) / (k.x[lo + 1] - k.x[lo]);
}

double CdfAt(const CdfKnots& k, double x) {
  if (x < k.x.front()) return 0;
  if (x >= k.x.back()) return 1;
  const auto above = std::upper_bound(k.x.begin(), k.x.end(), x);  // first knot > x
  return Interpolate(k, static_cast<std::size_t>(above - k.x.begin()) - 1, x);
}

// The left limit F(x-): at a step (tied knots) the value before it.
double CdfBefore(const CdfKnots& k, double x) {
  if (x <= k.x.front()) return 0;
  if (x > k.x.back()) return 1;
  const auto at_or_above = std::lower_bound(k.x.begin(), k.x.end(), x);  // first knot >= x
  return Interpolate(k, static_cast<std::size_t>(at_or_above - k.x.begin()) - 1, x);
}

// Index of the PSI bin of a present value: 0 below min, 1..bins the
// histogram's bins (half-open, the last one closed), bins + 1 above max.
std::size_t PsiBin(const data::FeatureSummary& training, double x) {
  const auto& edges = training.histogram_edges;
  const std::size_t bins = training.histogram_counts.size();
  if (x < edges.front()) return 0;
  if (x > edges.back()) return bins + 1;
  if (edges.front() == edges.back()) return 1;  // a constant column: Summarize put it all in the first bin
  const auto above = std::upper_bound(edges.begin(), edges.end(), x);  // first edge > x
  return std::min(static_cast<std::size_t>(above - edges.begin()), bins);  // max belongs to the last bin
}

double PsiTerm(double live_share, double training_share) {
  const double live = std::max(live_share, kPsiEmptyShare);
  const double training = std::max(training_share, kPsiEmptyShare);
  return (live - training) * std::log(live / training);
}

// Rates are ratios of small counts, so a difference that is exactly the
// threshold in decimal (0.15 - 0.10 >= 0.05) must not be lost to rounding.
constexpr double kRateTolerance = 1e-9;

double Rate(std::size_t part, std::size_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

double PopulationStabilityIndex(const data::FeatureSummary& training, std::span<const double> live) {
  const auto& counts = training.histogram_counts;
  WHARF_CHECK(!live.empty() && !counts.empty() && training.histogram_edges.size() == counts.size() + 1);
  const std::size_t training_total = std::accumulate(counts.begin(), counts.end(), std::size_t{0});
  WHARF_CHECK(training_total > 0);
  std::vector<std::size_t> live_counts(counts.size() + 2, 0);
  for (double x : live) ++live_counts[PsiBin(training, x)];

  double psi = 0;
  for (std::size_t b = 0; b < live_counts.size(); ++b) {
    const bool tail = b == 0 || b == live_counts.size() - 1;
    const double training_share = tail ? 0.0 : Rate(counts[b - 1], training_total);
    psi += PsiTerm(Rate(live_counts[b], live.size()), training_share);
  }
  return psi;
}

double TrainingCdf(const data::FeatureSummary& training, double x) { return CdfAt(KnotsOf(training), x); }

KsResult KolmogorovSmirnov(const data::FeatureSummary& training, std::span<const double> sorted_live) {
  WHARF_CHECK(training.count > 0 && !sorted_live.empty());
  WHARF_CHECK(std::is_sorted(sorted_live.begin(), sorted_live.end()));
  const CdfKnots knots = KnotsOf(training);
  const double n = static_cast<double>(sorted_live.size());
  // Between consecutive candidates (live values and knots) the live CDF is
  // flat and the training CDF linear, so the sup is at a candidate: at it or
  // just before it.
  std::vector<double> candidates(sorted_live.begin(), sorted_live.end());
  candidates.insert(candidates.end(), knots.x.begin(), knots.x.end());
  double d = 0;
  for (double z : candidates) {
    const auto below = std::lower_bound(sorted_live.begin(), sorted_live.end(), z) - sorted_live.begin();
    const auto at_or_below = std::upper_bound(sorted_live.begin(), sorted_live.end(), z) - sorted_live.begin();
    d = std::max({d, std::abs(static_cast<double>(at_or_below) / n - CdfAt(knots, z)),
                  std::abs(static_cast<double>(below) / n - CdfBefore(knots, z))});
  }
  const double m = static_cast<double>(training.count);
  return {d, KolmogorovSurvival(d * std::sqrt(n * m / (n + m)))};
}

double KolmogorovSurvival(double lambda) {
  if (lambda < 0.2) return 1;  // Q(0.2) = 1 - 5e-13; below it the series below would divide by ~0
  double q = 0;
  if (lambda < 1.18) {  // 1 - CDF, with the series that converges fast for small lambda
    const double a = std::numbers::pi * std::numbers::pi / (8 * lambda * lambda);
    double cdf = 0;
    for (int k = 1; k <= 8; ++k) cdf += std::exp(-(2 * k - 1) * (2 * k - 1) * a);
    q = 1 - std::sqrt(2 * std::numbers::pi) / lambda * cdf;
  } else {  // 2 sum (-1)^(k-1) exp(-2 k^2 lambda^2): a few terms reach double precision here
    for (int k = 1; k <= 8; ++k) q += (k % 2 == 1 ? 2 : -2) * std::exp(-2.0 * k * k * lambda * lambda);
  }
  return std::clamp(q, 0.0, 1.0);
}

FeatureDrift MeasureDrift(const data::FeatureSummary& training, std::span<const double> live,
                          const DriftThresholds& thresholds) {
  FeatureDrift r;
  r.feature = training.name;
  r.live_rows = live.size();
  r.training_mean = training.mean;
  r.training_missing_rate = Rate(training.missing, training.count + training.missing);

  std::vector<double> present;
  present.reserve(live.size());
  std::copy_if(live.begin(), live.end(), std::back_inserter(present), [](double x) { return std::isfinite(x); });
  std::sort(present.begin(), present.end());
  r.live_present = present.size();
  r.live_missing_rate = Rate(r.live_rows - r.live_present, r.live_rows);
  if (!present.empty()) {
    r.live_mean = std::accumulate(present.begin(), present.end(), 0.0) / static_cast<double>(present.size());
    if (training.count > 0) {
      r.psi = PopulationStabilityIndex(training, present);
      r.ks = KolmogorovSmirnov(training, present);
    }
  }

  const bool enough_values = r.live_present >= thresholds.min_rows;
  if (enough_values && r.psi && *r.psi >= thresholds.psi) r.reasons.push_back(DriftReason::kPsi);
  if (enough_values && r.ks && r.ks->d >= thresholds.ks_d && r.ks->p_value < thresholds.ks_p_value) {
    r.reasons.push_back(DriftReason::kKs);
  }
  if (r.live_rows >= thresholds.min_rows &&
      r.live_missing_rate - r.training_missing_rate >= thresholds.missing_rate - kRateTolerance) {
    r.reasons.push_back(DriftReason::kMissingRate);
  }
  r.verdict = !r.reasons.empty() ? DriftVerdict::kDrifted
              : enough_values    ? DriftVerdict::kOk
                                 : DriftVerdict::kTooFewRows;
  return r;
}

}  // namespace wharf::monitor
