#include "cli/drift_report.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "core/clock.h"

namespace wharf::cli {

namespace {

using monitor::DriftReason;
using monitor::DriftVerdict;
using monitor::FeatureDrift;

std::string_view ReasonName(DriftReason reason) {
  switch (reason) {
    case DriftReason::kPsi: return "psi";
    case DriftReason::kKs: return "ks";
    case DriftReason::kMissingRate: return "missing_rate";
  }
  return "?";
}

std::string_view VerdictName(DriftVerdict verdict) {
  switch (verdict) {
    case DriftVerdict::kOk: return "ok";
    case DriftVerdict::kDrifted: return "drifted";
    case DriftVerdict::kTooFewRows: return "too_few_rows";
  }
  return "?";
}

// "since 2026-...Z", "before ...", "from ... to ...", or "in all captures".
std::string RangeText(const DriftReport& r) {
  if (r.since_us && r.until_us) return fmt::format("from {} to {}", FormatTimeUtc(*r.since_us), FormatTimeUtc(*r.until_us));
  if (r.since_us) return "since " + FormatTimeUtc(*r.since_us);
  if (r.until_us) return "before " + FormatTimeUtc(*r.until_us);
  return "in all captures";
}

std::string Flag(const FeatureDrift& f) {
  if (f.verdict == DriftVerdict::kOk) return "ok";
  if (f.verdict == DriftVerdict::kTooFewRows) return "too few rows";
  std::vector<std::string> reasons;
  for (auto reason : f.reasons) {
    reasons.push_back(reason == DriftReason::kPsi ? "PSI" : reason == DriftReason::kKs ? "KS" : "missing");
  }
  return fmt::format("DRIFT ({})", fmt::join(reasons, ", "));
}

std::string Ks(const FeatureDrift& f) {
  if (!f.ks) return "-";
  if (f.ks->p_value < 0.001) return fmt::format("{:.3f} (<0.001)", f.ks->d);
  return fmt::format("{:.3f} ({:.3f})", f.ks->d, f.ks->p_value);
}

std::string Missing(const FeatureDrift& f) {
  if (f.live_rows == 0) return fmt::format("{:.1f} → -", 100 * f.training_missing_rate);
  return fmt::format("{:.1f} → {:.1f}", 100 * f.training_missing_rate, 100 * f.live_missing_rate);
}

std::string Mean(const FeatureDrift& f) {
  return fmt::format("{:.4g} → {}", f.training_mean, f.live_mean ? fmt::format("{:.4g}", *f.live_mean) : "-");
}

// feature | live rows | missing % | PSI | KS D (p) | mean | flag
void AppendRow(std::string& out, std::size_t name_width, const std::array<std::string, 7>& c) {
  out += fmt::format("{:<{}}  {:>9}  {:>20}  {:>7}  {:>15}  {:>20}  {}\n", c[0], name_width, c[1], c[2], c[3], c[4],
                     c[5], c[6]);
}

std::string Heading(const DriftReport& r) {
  std::string out = fmt::format("Endpoint {}{}, captures {} in {}\n", r.endpoint,
                                r.variant.empty() ? "" : " variant " + r.variant, RangeText(r), r.store);
  if (!r.models_from.empty()) {
    out += fmt::format("Model: variant {} version {}, from {}\n", r.model_variant, r.model_version, r.models_from);
  }
  out += fmt::format("Training data: {} ({} rows)\n", r.modelfile, r.training_rows);
  if (r.captures > 0) {
    out += fmt::format("Read {} captures ({} rows) from {} to {}\n", r.captures, r.rows, FormatTimeUtc(*r.first_us),
                       FormatTimeUtc(*r.last_us));
  }
  if (r.unparsed > 0) {
    out += fmt::format("Skipped {} of them: their body did not parse for this model (first: {})\n", r.unparsed,
                       r.first_unparsed);
  }
  return out;
}

}  // namespace

std::size_t CountDrifted(const DriftReport& report) {
  return std::count_if(report.features.begin(), report.features.end(),
                       [](const FeatureDrift& f) { return f.verdict == DriftVerdict::kDrifted; });
}

std::string FormatDriftTable(const DriftReport& r) {
  std::string out = Heading(r);
  if (r.captures == 0) {
    return out + fmt::format("No primary captures answered with 200 for endpoint '{}' {}: nothing to compare.\n",
                             r.endpoint, RangeText(r));
  }
  std::size_t name_width = 7;
  for (const auto& f : r.features) name_width = std::max(name_width, f.feature.size());
  out += "\n";
  AppendRow(out, name_width, {"feature", "live rows", "missing % train→live", "PSI", "KS D (p)", "mean train→live", "flag"});
  for (const auto& f : r.features) {
    AppendRow(out, name_width, {f.feature, std::to_string(f.live_rows), Missing(f),
                                f.psi ? fmt::format("{:.3f}", *f.psi) : "-", Ks(f), Mean(f), Flag(f)});
  }
  const auto too_few = std::count_if(r.features.begin(), r.features.end(),
                                     [](const FeatureDrift& f) { return f.verdict == DriftVerdict::kTooFewRows; });
  const auto& t = r.thresholds;
  out += fmt::format("\n{} of {} features drifted {}{}.\n", CountDrifted(r), r.features.size(), RangeText(r),
                     too_few > 0 ? fmt::format("; {} had too few rows to judge", too_few) : "");
  out += fmt::format("Thresholds: PSI ≥ {:g}; KS D ≥ {:g} with p < {:g}; missing rate ≥ training's + {:g}; at least "
                     "{} live rows.\n",
                     t.psi, t.ks_d, t.ks_p_value, t.missing_rate, t.min_rows);
  return out;
}

nlohmann::ordered_json DriftJson(const DriftReport& r) {
  using Json = nlohmann::ordered_json;
  const auto time = [](const std::optional<std::int64_t>& us) { return us ? Json(FormatTimeUtc(*us)) : Json(); };
  Json features = Json::array();
  for (const auto& f : r.features) {
    Json reasons = Json::array();
    for (auto reason : f.reasons) reasons.push_back(ReasonName(reason));
    features.push_back({{"feature", f.feature},
                        {"verdict", VerdictName(f.verdict)},
                        {"reasons", reasons},
                        {"live_rows", f.live_rows},
                        {"live_present", f.live_present},
                        {"missing_rate", {{"training", f.training_missing_rate}, {"live", f.live_missing_rate}}},
                        {"psi", f.psi ? Json(*f.psi) : Json()},
                        {"ks", f.ks ? Json{{"d", f.ks->d}, {"p_value", f.ks->p_value}} : Json()},
                        {"mean", {{"training", f.training_mean}, {"live", f.live_mean ? Json(*f.live_mean) : Json()}}}});
  }
  const auto& t = r.thresholds;
  return {{"endpoint", r.endpoint},
          {"variant", r.variant.empty() ? Json() : Json(r.variant)},
          {"store", r.store},
          {"revision", r.revision > 0 ? Json(r.revision) : Json()},
          {"training",
           {{"modelfile", r.modelfile}, {"rows", r.training_rows}, {"variant", r.model_variant},
            {"version", r.model_version}}},
          {"since", time(r.since_us)},
          {"until", time(r.until_us)},
          {"captures", r.captures},
          {"unparsed", r.unparsed},
          {"first_unparsed", r.unparsed > 0 ? Json(r.first_unparsed) : Json()},
          {"rows", r.rows},
          {"first_capture", time(r.first_us)},
          {"last_capture", time(r.last_us)},
          {"thresholds",
           {{"psi", t.psi}, {"ks_d", t.ks_d}, {"ks_p_value", t.ks_p_value}, {"missing_rate", t.missing_rate},
            {"min_rows", t.min_rows}}},
          {"drifted", CountDrifted(r)},
          {"features", features}};
}

}  // namespace wharf::cli
