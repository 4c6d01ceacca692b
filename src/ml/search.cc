#include "ml/search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "core/mutex.h"
#include "core/parallel.h"

namespace wharf::ml {

namespace {

using Scale = ParamRange::Scale;

double Draw(const ParamRange& range, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  switch (range.scale) {
    case Scale::kLinear: return range.low + unit(rng) * (range.high - range.low);
    case Scale::kLog: return std::exp(std::log(range.low) + unit(rng) * (std::log(range.high) - std::log(range.low)));
    case Scale::kInteger:
      return static_cast<double>(std::uniform_int_distribution<long>(static_cast<long>(range.low),
                                                                     static_cast<long>(range.high))(rng));
    case Scale::kChoice: return range.choices[std::uniform_int_distribution<std::size_t>(0, range.choices.size() - 1)(rng)];
  }
  return range.low;
}

// Three levels per numeric range (low, middle, high on its scale); every choice.
std::vector<double> GridLevels(const ParamRange& range) {
  switch (range.scale) {
    case Scale::kLinear: return {range.low, (range.low + range.high) / 2, range.high};
    case Scale::kLog: return {range.low, std::sqrt(range.low * range.high), range.high};
    case Scale::kInteger: return {range.low, std::round((range.low + range.high) / 2), range.high};
    case Scale::kChoice: return range.choices;
  }
  return {range.low};
}

// Applies the user's pinned parameters that this family has.
Params WithFixed(Params params, const Params& fixed) {
  for (const auto& [name, value] : fixed) {
    if (params.count(name)) params[name] = value;
  }
  return params;
}

std::vector<Params> GridPoints(const EstimatorFamily& family, const Params& fixed) {
  std::vector<Params> points{family.defaults};
  for (const auto& range : family.space) {
    if (fixed.count(range.name)) continue;
    std::vector<Params> next;
    for (const auto& point : points) {
      for (double level : GridLevels(range)) {
        Params p = point;
        p[range.name] = level;
        next.push_back(std::move(p));
      }
    }
    points = std::move(next);
  }
  for (auto& p : points) p = WithFixed(std::move(p), fixed);
  return points;
}

// Best first: by mean CV weighted F1, ties by trial order, failed trials last.
Result<std::vector<Trial>> Ranked(std::vector<Trial> trials) {
  std::stable_sort(trials.begin(), trials.end(), [](const Trial& a, const Trial& b) {
    if (a.status.ok() != b.status.ok()) return a.status.ok();
    return a.score.weighted_f1 > b.score.weighted_f1;
  });
  if (!trials.front().status.ok()) return trials.front().status.WithContext("every trial failed; the first error");
  return trials;
}

}  // namespace

Result<std::vector<Trial>> PlanTrials(const SearchOptions& options) {
  if (options.families.empty()) return InvalidArgument("search: no estimator to try");
  if (options.trials == 0) return InvalidArgument("search: --trials must be at least 1");
  std::mt19937_64 rng(options.seed);
  std::vector<Trial> trials;
  // Defaults first, one per family, so a search never ranks below them by CV.
  for (const auto* family : options.families) {
    if (trials.size() == options.trials) break;
    trials.push_back({trials.size(), family, WithFixed(family->defaults, options.fixed), {}, 0, {}});
  }
  if (options.strategy == SearchStrategy::kGrid) {
    std::vector<Trial> grid;
    for (const auto* family : options.families) {
      for (auto& point : GridPoints(*family, options.fixed)) grid.push_back({0, family, std::move(point), {}, 0, {}});
    }
    std::shuffle(grid.begin(), grid.end(), rng);  // a truncated grid still covers every family and corner
    for (auto& t : grid) {
      if (trials.size() == options.trials) break;
      t.index = trials.size();
      trials.push_back(std::move(t));
    }
  }
  while (trials.size() < options.trials) {
    const auto* family = options.families[trials.size() % options.families.size()];
    Params params = family->defaults;
    for (const auto& range : family->space) params[range.name] = Draw(range, rng);
    trials.push_back({trials.size(), family, WithFixed(std::move(params), options.fixed), {}, 0, {}});
  }
  return trials;
}

Result<std::vector<Trial>> RunSearch(const TrainingData& data, const SearchOptions& options,
                                     const TrialCallback& on_trial) {
  WHARF_ASSIGN_OR_RETURN(std::vector<Trial> trials, PlanTrials(options));
  if (options.runner) {
    WHARF_RETURN_IF_ERROR(options.runner(trials));
    return Ranked(std::move(trials));
  }
  const std::vector<int> folds = MakeFolds(options.split, data.y, data.num_classes, options.folds, options.seed);
  const int parallel = std::max(1, std::min<int>(options.parallel, static_cast<int>(trials.size())));
  const int threads = options.threads > 0 ? options.threads : HardwareThreads();
  const FitContext context{options.seed, std::max(1, threads / parallel)};
  Mutex mu;
  std::size_t done = 0;
  ParallelFor(trials.size(), parallel, [&](std::size_t i) {
    Trial& trial = trials[i];
    const auto start = std::chrono::steady_clock::now();
    auto score = CrossValidate(*trial.family, trial.params, data, folds, options.folds, context);
    trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (score.ok()) {
      trial.score = *score;
    } else {
      trial.status = score.status();
    }
    MutexLock lock(mu);
    ++done;
    if (on_trial) on_trial(trial, done, trials.size());
  });
  return Ranked(std::move(trials));
}

}  // namespace wharf::ml
