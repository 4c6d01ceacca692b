#include "ml/estimator.h"

#include <fmt/format.h>

#include "ml/linear.h"
#include "ml/xgboost.h"

namespace wharf::ml {

namespace {

using Scale = ParamRange::Scale;

std::vector<EstimatorFamily> MakeFamilies() {
  return {
      {"logistic", "multinomial logistic regression (L2, L-BFGS) on standardized features", true,
       DataParallel::kCollective,
       {{"C", 1.0}, {"max_iter", 500}},
       {{"C", Scale::kLog, 1e-3, 1e2, {}}},
       FitLogistic, LoadLogistic},
      {"ordinal-logistic", "cumulative-link (proportional odds) logit for ordered classes", true,
       DataParallel::kNo,
       {{"C", 1.0}, {"max_iter", 500}},
       {{"C", Scale::kLog, 1e-3, 1e2, {}}},
       FitOrdinalLogistic, LoadOrdinalLogistic},
      {"xgboost", "gradient-boosted trees (XGBoost hist); ordinal=1 regresses on the class order", false,
       DataParallel::kXgboost,
       {{"max_depth", 4}, {"eta", 0.05}, {"num_round", 300}, {"subsample", 0.8}, {"colsample_bytree", 0.8},
        {"min_child_weight", 1}, {"lambda", 1}, {"ordinal", 0}},
       {{"max_depth", Scale::kInteger, 2, 8, {}},
        {"eta", Scale::kLog, 0.01, 0.3, {}},
        {"num_round", Scale::kInteger, 50, 600, {}},
        {"subsample", Scale::kLinear, 0.5, 1.0, {}},
        {"colsample_bytree", Scale::kLinear, 0.4, 1.0, {}},
        {"min_child_weight", Scale::kLog, 0.5, 20, {}},
        {"lambda", Scale::kLog, 0.1, 20, {}},
        {"ordinal", Scale::kChoice, 0, 0, {0, 1}}},
       FitBoostedTrees, LoadXgboost},
      {"rf", "random forest (XGBoost num_parallel_tree); ordinal=1 regresses on the class order", false,
       DataParallel::kXgboost,
       {{"num_parallel_tree", 200}, {"max_depth", 14}, {"subsample", 0.632}, {"colsample_bynode", 1.0},
        {"min_child_weight", 1}, {"lambda", 0}, {"ordinal", 1}},
       {{"num_parallel_tree", Scale::kInteger, 100, 500, {}},
        {"max_depth", Scale::kInteger, 4, 16, {}},
        {"subsample", Scale::kLinear, 0.4, 0.9, {}},
        {"colsample_bynode", Scale::kLinear, 0.2, 1.0, {}},
        {"min_child_weight", Scale::kLog, 0.5, 20, {}},
        {"ordinal", Scale::kChoice, 0, 0, {0, 1}}},
       FitRandomForest, LoadXgboost},
  };
}

}  // namespace

const std::vector<EstimatorFamily>& Families() {
  static const std::vector<EstimatorFamily> kFamilies = MakeFamilies();
  return kFamilies;
}

Result<const EstimatorFamily*> FindFamily(std::string_view kind) {
  std::vector<std::string> known;
  for (const auto& family : Families()) {
    if (family.kind == kind) return &family;
    known.push_back(family.kind);
  }
  return InvalidArgument(fmt::format("unknown estimator '{}'; known: {}", kind, fmt::join(known, ", ")));
}

Result<Params> ResolveParams(const EstimatorFamily& family, const Params& overrides) {
  Params params = family.defaults;
  for (const auto& [name, value] : overrides) {
    auto it = params.find(name);
    if (it == params.end()) {
      std::vector<std::string> known;
      for (const auto& [k, v] : family.defaults) known.push_back(k);
      return InvalidArgument(fmt::format("estimator '{}' has no parameter '{}'; known: {}", family.kind, name,
                                         fmt::join(known, ", ")));
    }
    it->second = value;
  }
  return params;
}

}  // namespace wharf::ml
