#include "ml/search.h"

#include <gtest/gtest.h>

#include "synthetic.h"

namespace wharf::ml {
namespace {

SearchOptions Options(std::size_t trials, int parallel, SearchStrategy strategy = SearchStrategy::kRandom) {
  SearchOptions o;
  for (const auto& family : Families()) {
    if (family.kind == "logistic" || family.kind == "xgboost") o.families.push_back(&family);
  }
  o.trials = trials;
  o.parallel = parallel;
  o.folds = 3;
  o.seed = 11;
  o.strategy = strategy;
  o.fixed = {{"num_round", 20}};
  return o;
}

TEST(SearchTest, TriesEachFamilysDefaultsFirst) {
  auto trials = PlanTrials(Options(5, 1));
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 5u);
  EXPECT_EQ((*trials)[0].params, (*trials)[0].family->defaults);
  EXPECT_EQ((*trials)[1].params.at("num_round"), 20);  // pinned, not drawn
  EXPECT_EQ((*trials)[3].family->kind, "xgboost");  // random draws alternate families
  EXPECT_EQ((*trials)[3].params.at("num_round"), 20);
}

TEST(SearchTest, SameSeedGivesSameRankingWhateverTheParallelism) {
  const auto data = testdata::Blobs(150, 3, 3);
  auto serial = RunSearch(data, Options(6, 1), nullptr);
  auto parallel = RunSearch(data, Options(6, 3), nullptr);
  ASSERT_TRUE(serial.ok() && parallel.ok());
  for (std::size_t i = 0; i < serial->size(); ++i) {
    EXPECT_EQ((*serial)[i].index, (*parallel)[i].index);
    EXPECT_DOUBLE_EQ((*serial)[i].score.weighted_f1, (*parallel)[i].score.weighted_f1);
  }
}

TEST(SearchTest, RanksBestFirstAndReportsEveryTrial) {
  const auto data = testdata::Blobs(150, 3, 3);
  std::size_t calls = 0;
  auto trials = RunSearch(data, Options(4, 2), [&](const Trial&, std::size_t done, std::size_t total) {
    ++calls;
    EXPECT_LE(done, total);
  });
  ASSERT_TRUE(trials.ok());
  EXPECT_EQ(calls, 4u);
  for (std::size_t i = 1; i < trials->size(); ++i) {
    EXPECT_GE((*trials)[i - 1].score.weighted_f1, (*trials)[i].score.weighted_f1);
  }
}

TEST(SearchTest, GridVisitsDistinctPoints) {
  auto trials = PlanTrials(Options(12, 1, SearchStrategy::kGrid));
  ASSERT_TRUE(trials.ok());
  // After the two defaults, every grid point of a family is distinct.
  for (std::size_t i = 2; i < trials->size(); ++i) {
    for (std::size_t j = i + 1; j < trials->size(); ++j) {
      if ((*trials)[i].family == (*trials)[j].family) {
        EXPECT_NE((*trials)[i].params, (*trials)[j].params);
      }
    }
  }
}

TEST(SearchTest, StratifiedFoldsSpreadEveryClass) {
  std::vector<int> y;
  for (int i = 0; i < 100; ++i) y.push_back(i < 10 ? 0 : 1);
  const auto folds = StratifiedFolds(y, 2, 5, 3);
  std::vector<int> rare_per_fold(5, 0);
  for (std::size_t i = 0; i < 10; ++i) ++rare_per_fold[static_cast<std::size_t>(folds[i])];
  for (int count : rare_per_fold) EXPECT_EQ(count, 2);
}

}  // namespace
}  // namespace wharf::ml
