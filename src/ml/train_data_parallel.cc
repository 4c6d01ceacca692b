// TrainDataParallel: one configuration fitted on rows spread over ranks.

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/parallel.h"
#include "core/sha256.h"
#include "data/query_source.h"
#include "data/shard.h"
#include "ml/train.h"
#include "ml/train_steps.h"

namespace wharf::ml {

namespace {

}  // namespace

Result<const EstimatorFamily*> DataParallelFamily(const TrainOptions& options) {
  if (options.trials > 0 || options.estimator == "auto" || options.cross_validate) {
    return InvalidArgument("training across ranks fits one configuration: no --trials, --estimator auto or --cv");
  }
  WHARF_ASSIGN_OR_RETURN(const EstimatorFamily* family, FindFamily(options.estimator));
  if (family->data_parallel == DataParallel::kNo) {
    std::vector<std::string> able;
    for (const auto& f : Families()) {
      if (f.data_parallel != DataParallel::kNo) able.push_back(f.kind);
    }
    return InvalidArgument(fmt::format("estimator '{}' cannot train across ranks; these can: {}", family->kind,
                                       fmt::join(able, ", ")));
  }
  return family;
}

namespace {

// This rank's shard, read only once every rank knows the others read theirs.
Result<data::Dataset> ReadShard(const std::filesystem::path& path, const data::ColumnSpec& spec,
                                Collective& collective) {
  if (data::IsQueryLocation(path.string())) {
    return InvalidArgument("a database source cannot be split over ranks yet: train it with --ranks 1, or export it "
                           "to a CSV");
  }
  auto shard = data::ReadDatasetShard(path, spec, static_cast<std::size_t>(collective.rank()),
                                      static_cast<std::size_t>(collective.size()));
  WHARF_RETURN_IF_ERROR(AgreeAcrossRanks(collective, shard.status()));
  return std::move(*shard);
}

// The classes of every rank's labels together.
Result<LabelMap> ClassesAcross(const TrainOptions& options, const data::Dataset& shard, Collective& collective) {
  const LabelMap local = LabelMap::FromLabels(shard.labels);
  std::string mine;
  for (const auto& label : local.classes()) {
    mine += label;
    mine += '\0';
  }
  WHARF_ASSIGN_OR_RETURN(const std::vector<std::string> all, collective.AllGather(mine));
  std::vector<std::string> labels;
  for (const auto& joined : all) {
    for (std::size_t begin = 0, end; (end = joined.find('\0', begin)) != std::string::npos; begin = end + 1) {
      labels.push_back(joined.substr(begin, end - begin));
    }
  }
  return ClassesOf(options, labels);
}

// Rows in every rank's shard together.
Result<std::size_t> RowsAcross(std::size_t mine, Collective& collective) {
  double rows = static_cast<double>(mine);
  WHARF_RETURN_IF_ERROR(collective.Sum({&rows, 1}));
  return static_cast<std::size_t>(rows);
}

// The metrics of every rank's predictions together.
Result<Metrics> MetricsAcross(const Pipeline& pipeline, const TrainingData& data, const LabelMap& classes,
                              Collective& collective) {
  WHARF_ASSIGN_OR_RETURN(const std::vector<int> predicted, pipeline.PredictClasses(data.x.data(), data.rows));
  const std::size_t k = classes.size();
  std::vector<double> counts(k * k, 0.0);
  for (std::size_t i = 0; i < data.rows; ++i) {
    counts[static_cast<std::size_t>(data.y[i]) * k + static_cast<std::size_t>(predicted[i])] += 1;
  }
  WHARF_RETURN_IF_ERROR(collective.Sum(counts));
  ConfusionMatrix confusion(k);
  for (std::size_t t = 0; t < k; ++t) {
    for (std::size_t p = 0; p < k; ++p) {
      confusion.Add(static_cast<int>(t), static_cast<int>(p), static_cast<std::size_t>(counts[t * k + p]));
    }
  }
  return confusion.Compute(classes.classes());
}

// Each feature's name, mean and sample standard deviation over every rank's
// rows (what CompareMeans reads).
Result<std::vector<data::FeatureSummary>> MomentsAcross(const data::Dataset& shard, Collective& collective) {
  const std::size_t cols = shard.cols();
  std::vector<double> sums(2 * cols, 0.0);  // count, sum
  for (std::size_t r = 0; r < shard.rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = shard.row(r)[c];
      if (std::isnan(v)) continue;
      sums[2 * c] += 1;
      sums[2 * c + 1] += v;
    }
  }
  WHARF_RETURN_IF_ERROR(collective.Sum(sums));
  std::vector<data::FeatureSummary> out(cols);
  for (std::size_t c = 0; c < cols; ++c) {
    out[c].name = shard.features[c];
    out[c].count = static_cast<std::size_t>(sums[2 * c]);
    if (out[c].count > 0) out[c].mean = sums[2 * c + 1] / sums[2 * c];
  }
  std::vector<double> squares(cols, 0.0);
  for (std::size_t r = 0; r < shard.rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = shard.row(r)[c];
      if (!std::isnan(v)) squares[c] += (v - out[c].mean) * (v - out[c].mean);
    }
  }
  WHARF_RETURN_IF_ERROR(collective.Sum(squares));
  for (std::size_t c = 0; c < cols; ++c) {
    if (out[c].count > 1) out[c].std = std::sqrt(squares[c] / static_cast<double>(out[c].count - 1));
  }
  return out;
}

// DataJson of a sharded file: every rank's rows, and rank 0 hashes the file.
Result<nlohmann::json> ShardedDataJson(const std::filesystem::path& path, std::size_t rows, Collective& collective) {
  std::string sha256;
  if (collective.rank() == 0) {
    WHARF_ASSIGN_OR_RETURN(sha256, Sha256OfFile(path));
  }
  return DataJson(path.string(), sha256, rows);
}

}  // namespace

Result<TrainResult> TrainDataParallel(const TrainOptions& options, Collective& collective) {
  const auto start = std::chrono::steady_clock::now();
  TrainResult result;
  result.label = options.label;
  result.train_path = options.train;
  result.validation_path = options.validation;
  // Every rank checks the same flags, so every rank stops here together.
  WHARF_ASSIGN_OR_RETURN(result.family, DataParallelFamily(options));
  WHARF_ASSIGN_OR_RETURN(result.params, ResolveParams(*result.family, options.params));

  WHARF_ASSIGN_OR_RETURN(const data::Dataset train_set, ReadShard(options.train, {options.label, true, {}, options.ignore}, collective));
  WHARF_ASSIGN_OR_RETURN(const std::size_t train_rows, RowsAcross(train_set.rows, collective));
  if (train_rows == 0) return InvalidArgument(options.train.string() + ": no data rows, expected at least one");
  WHARF_ASSIGN_OR_RETURN(const LabelMap classes, ClassesAcross(options, train_set, collective));
  // Labels are known everywhere now, so only a validation label no rank
  // trained on can fail below.
  auto y = classes.EncodeAll(train_set.labels);
  WHARF_RETURN_IF_ERROR(AgreeAcrossRanks(collective, y.status()));
  const TrainingData train = ToTrainingData(train_set, std::move(*y), classes.size());

  std::optional<data::Dataset> validation_set;
  std::optional<TrainingData> validation;
  if (options.validation) {
    WHARF_ASSIGN_OR_RETURN(validation_set,
                           ReadShard(*options.validation, {options.label, true, train_set.features, {}}, collective));
    auto vy = classes.EncodeAll(validation_set->labels);
    if (!vy.ok()) vy = vy.status().WithContext(options.validation->string());
    WHARF_RETURN_IF_ERROR(AgreeAcrossRanks(collective, vy.status()));
    validation = ToTrainingData(*validation_set, std::move(*vy), classes.size());
  }

  const artifact::ModelSchema schema{artifact::ModelKind::kClassifier, train_set.features, options.label,
                                     classes.classes(), {}};
  const FitContext context{options.seed, options.threads > 0 ? options.threads : HardwareThreads(), &collective};
  auto fitted = Pipeline::Fit(*result.family, result.params, train, context, schema);
  WHARF_RETURN_IF_ERROR(AgreeAcrossRanks(collective, fitted.status()));
  const Pipeline& pipeline = **fitted;

  WHARF_ASSIGN_OR_RETURN(result.train, MetricsAcross(pipeline, train, classes, collective));
  WHARF_ASSIGN_OR_RETURN(const auto train_moments, MomentsAcross(train_set, collective));
  WHARF_ASSIGN_OR_RETURN(nlohmann::json train_json, ShardedDataJson(options.train, train_rows, collective));
  nlohmann::json data = {{"train", std::move(train_json)}};
  if (validation) {
    WHARF_ASSIGN_OR_RETURN(result.validation, MetricsAcross(pipeline, *validation, classes, collective));
    WHARF_ASSIGN_OR_RETURN(const auto validation_moments, MomentsAcross(*validation_set, collective));
    result.shift = CompareMeans(train_moments, validation_moments);
    WHARF_ASSIGN_OR_RETURN(const std::size_t validation_rows, RowsAcross(validation_set->rows, collective));
    WHARF_ASSIGN_OR_RETURN(data["validation"], ShardedDataJson(*options.validation, validation_rows, collective));
  }

  const nlohmann::json training = {
      {"seed", options.seed},
      {"ranks", collective.size()},
      {"collective", result.family->data_parallel == DataParallel::kXgboost ? "xgboost" : "wharf"},
      {"feature_summary_rows", train_set.rows}};
  WHARF_RETURN_IF_ERROR(
      FinishModelfile(pipeline, options, std::move(data), training, data::SummarizeAll(train_set), result));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace wharf::ml
