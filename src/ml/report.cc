#include "ml/report.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>

namespace wharf::ml {

namespace {

// Features whose validation mean is this many training SDs away get listed.
constexpr double kShiftWorthNoting = 0.25;
// Beyond this, shuffled CV on the training file overstates the test score.
constexpr double kShiftWorthWarning = 0.5;
constexpr std::size_t kTrialsShown = 10;

std::string HowChosen(const TrainResult& r) {
  if (!r.cv) return "the estimator's defaults (no cross-validation run; add --trials N or --cv)";
  const auto& cv = *r.cv;
  const auto& j = r.modelfile.header["metrics"]["cv"];
  std::string how = fmt::format("{}-fold {} CV on the training file: weighted F1 {:.4f} ± {:.4f}, accuracy {:.4f}",
                                j.value("folds", 0), j.value("split", "?"), cv.weighted_f1, cv.weighted_f1_std,
                                cv.accuracy);
  if (!r.trials.empty()) how += fmt::format("; best of {} trials", r.trials.size());
  return how;
}

}  // namespace

std::string FormatMetricsSection(const std::string& name, const Metrics& m) {
  return fmt::format("[{}]\nWeighted F1 score: {:.4f}\nAccuracy:          {:.4f}\nMacro F1 score:    {:.4f}\nRows:              {}\n\n",
                     name, m.weighted_f1, m.accuracy, m.macro_f1, m.rows);
}

std::string FormatParams(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) out += fmt::format("{}{}={:.4g}", out.empty() ? "" : ", ", name, value);
  return out;
}

std::string FormatResults(const TrainResult& r) {
  std::string out = "wharf training results\n\n";
  out += FormatMetricsSection("Train", r.train);
  if (r.validation) {
    out += FormatMetricsSection("Test", *r.validation);
    out += "([Test] is the validation file: reported, never used to choose the model.)\n\n";
  }
  out += fmt::format("Model\n  estimator: {} ({})\n  params:    {}\n  chosen by: {}\n  label:     {} (classes {})\n",
                     r.family->kind, r.family->description, FormatParams(r.params), HowChosen(r),
                     r.label, fmt::join(r.modelfile.header["schema"]["classes"].get<std::vector<std::string>>(), ", "));
  out += fmt::format("  training:  {} ({} rows, sha256 {})\n", r.train_path.string(), r.train.rows,
                     r.modelfile.header["data"]["train"]["sha256"].get<std::string>());
  if (r.validation_path) {
    out += fmt::format("  test:      {} ({} rows)\n", r.validation_path->string(), r.validation->rows);
  }
  const auto& training = r.modelfile.header["training"];
  if (training.contains("ranks")) {
    out += fmt::format("  ranks:     {} (data-parallel: each rank read its shard; {} collective)\n",
                       training["ranks"].get<int>(), training.value("collective", "?"));
  }
  out += fmt::format("  took:      {:.2f} s\n\n", r.seconds);

  const bool on_validation = r.validation.has_value();
  out += fmt::format("Per-class metrics on the {} data\n", on_validation ? "test" : "training");
  out += FormatClassReport(on_validation ? *r.validation : r.train);

  if (!r.trials.empty()) {
    out += fmt::format("\nSearch: top {} of {} trials by CV weighted F1\n", std::min(kTrialsShown, r.trials.size()),
                       r.trials.size());
    for (std::size_t i = 0; i < r.trials.size() && i < kTrialsShown; ++i) {
      const Trial& t = r.trials[i];
      if (!t.status.ok()) {
        out += fmt::format("  #{:<3} {:<16} failed: {}\n", t.index, t.family->kind, t.status.message());
        continue;
      }
      out += fmt::format("  #{:<3} {:<16} {:.4f} ± {:.4f}  {}\n", t.index, t.family->kind, t.score.weighted_f1,
                         t.score.weighted_f1_std, FormatParams(t.params));
    }
  }

  if (!r.shift.empty()) {
    out += fmt::format("\nData shift: test mean vs training mean, in training SDs (|d| >= {})\n", kShiftWorthNoting);
    bool any = false;
    for (const auto& s : r.shift) {
      if (std::abs(s.standardized_difference) < kShiftWorthNoting) continue;
      any = true;
      out += fmt::format("  {:<24} train {:>10.4g}  test {:>10.4g}  d = {:+.2f}\n", s.feature, s.train_mean,
                         s.validation_mean, s.standardized_difference);
    }
    if (!any) out += "  none: the two files look alike feature by feature\n";
    if (std::abs(r.shift.front().standardized_difference) >= kShiftWorthWarning) {
      out += "  The test file is not distributed like the training file: scores from shuffled CV on the training\n"
             "  file overstate what transfers. --cv-split blocked estimates transfer to an unseen segment.\n";
    }
  }
  return out;
}

nlohmann::json MetricsJson(const TrainResult& r) {
  nlohmann::json j = {{"estimator", r.family->kind}, {"params", r.params}, {"train", ToJson(r.train)},
                      {"seconds", r.seconds}};
  if (r.validation) j["validation"] = ToJson(*r.validation);
  if (r.cv) j["cv"] = r.modelfile.header["metrics"]["cv"];
  if (!r.trials.empty()) {
    j["trials"] = nlohmann::json::array();
    for (const auto& t : r.trials) {
      nlohmann::json trial = {{"index", t.index}, {"estimator", t.family->kind}, {"params", t.params},
                              {"seconds", t.seconds}};
      if (t.status.ok()) {
        trial["cv_weighted_f1"] = t.score.weighted_f1;
        trial["cv_weighted_f1_std"] = t.score.weighted_f1_std;
        trial["cv_accuracy"] = t.score.accuracy;
      } else {
        trial["error"] = t.status.message();
      }
      j["trials"].push_back(trial);
    }
  }
  if (!r.shift.empty()) {
    j["shift"] = nlohmann::json::array();
    for (const auto& s : r.shift) {
      j["shift"].push_back({{"feature", s.feature}, {"train_mean", s.train_mean},
                            {"test_mean", s.validation_mean}, {"standardized_difference", s.standardized_difference}});
    }
  }
  return j;
}

namespace {

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return IoError(path.string() + ": cannot write");
  return Status::Ok();
}

}  // namespace

Status WriteTrainOutputs(const TrainResult& result, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  WHARF_RETURN_IF_ERROR(artifact::WriteModelfile(result.modelfile, dir / "Modelfile"));
  WHARF_RETURN_IF_ERROR(WriteText(dir / "results.txt", FormatResults(result)));
  return WriteText(dir / "metrics.json", MetricsJson(result).dump(2) + "\n");
}

std::string FormatTrainSummary(const TrainResult& result, const std::filesystem::path& dir) {
  std::string out =
      fmt::format("Trained {} ({}) in {:.2f} s\n", result.family->kind, FormatParams(result.params), result.seconds);
  if (result.cv) {
    out += fmt::format("  [CV]    weighted F1 {:.4f} ± {:.4f}\n", result.cv->weighted_f1, result.cv->weighted_f1_std);
  }
  out += fmt::format("  [Train] weighted F1 {:.4f}  accuracy {:.4f}\n", result.train.weighted_f1,
                     result.train.accuracy);
  if (result.validation) {
    out += fmt::format("  [Test]  weighted F1 {:.4f}  accuracy {:.4f}\n", result.validation->weighted_f1,
                       result.validation->accuracy);
  }
  return out + fmt::format("Model:   {}\nReport:  {}\nMetrics: {}\n", (dir / "Modelfile").string(),
                           (dir / "results.txt").string(), (dir / "metrics.json").string());
}

}  // namespace wharf::ml
