// TrainDataParallel with its ranks as threads of this process (the real
// MPI ranks are covered by tests/e2e/train_ranks_test.cc).

#include <barrier>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ml/train.h"
#include "testing/temp_dir.h"

namespace wharf::ml {
namespace {

using ::testing::HasSubstr;

// Ranks as threads: sums are taken in rank order from shared slots, so every
// rank gets the same bits, as MpiCollective guarantees.
class ThreadRanks {
 public:
  explicit ThreadRanks(int size)
      : size_(size), sync_(size), slots_(static_cast<std::size_t>(size)), strings_(static_cast<std::size_t>(size)) {}

  class Rank final : public Collective {
   public:
    Rank(ThreadRanks& ranks, int rank) : ranks_(ranks), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return ranks_.size_; }
    Status Sum(std::span<double> values) override {
      auto& slot = ranks_.slots_[static_cast<std::size_t>(rank_)];
      slot.assign(values.begin(), values.end());
      ranks_.sync_.arrive_and_wait();
      for (std::size_t i = 0; i < values.size(); ++i) {
        double sum = 0;
        for (const auto& s : ranks_.slots_) sum += s[i];
        values[i] = sum;
      }
      ranks_.sync_.arrive_and_wait();
      return Status::Ok();
    }
    Result<std::vector<std::string>> AllGather(const std::string& mine) override {
      ranks_.strings_[static_cast<std::size_t>(rank_)] = mine;
      ranks_.sync_.arrive_and_wait();
      std::vector<std::string> all = ranks_.strings_;
      ranks_.sync_.arrive_and_wait();
      return all;
    }

   private:
    ThreadRanks& ranks_;
    int rank_;
  };

  // Runs TrainDataParallel on every rank; the results in rank order.
  std::vector<Result<TrainResult>> Train(const TrainOptions& options) {
    std::vector<Result<TrainResult>> results(static_cast<std::size_t>(size_), Internal("not run"));
    std::vector<std::thread> threads;
    for (int r = 0; r < size_; ++r) {
      threads.emplace_back([&, r] {
        Rank rank(*this, r);
        results[static_cast<std::size_t>(r)] = TrainDataParallel(options, rank);
      });
    }
    for (auto& t : threads) t.join();
    return results;
  }

 private:
  int size_;
  std::barrier<> sync_;
  std::vector<std::vector<double>> slots_;
  std::vector<std::string> strings_;
};

TrainOptions Logistic() {
  TrainOptions options;
  options.train = testing::WineDir() / "TrainingDataset.csv";
  options.validation = testing::WineDir() / "ValidationDataset.csv";
  options.label = "quality";
  options.estimator = "logistic";
  options.threads = 1;
  return options;
}

TEST(TrainDataParallelTest, LogisticOnThreeRanksLearnsTheOneProcessModel) {
  auto one = Train(Logistic());
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ThreadRanks ranks(3);
  auto results = ranks.Train(Logistic());
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.status().ToString();
  const TrainResult& r0 = *results[0];
  // Every rank holds the same model, and it is the one-process model up to
  // the order in which floating-point sums were added.
  for (const auto& r : results) {
    EXPECT_EQ(r->modelfile.header["estimator"], r0.modelfile.header["estimator"]);
    EXPECT_EQ(r->train.confusion, r0.train.confusion);
  }
  EXPECT_EQ(r0.train.rows, one->train.rows);
  EXPECT_EQ(r0.validation->rows, one->validation->rows);
  EXPECT_NEAR(r0.validation->weighted_f1, one->validation->weighted_f1, 0.01);
  EXPECT_NEAR(r0.train.weighted_f1, one->train.weighted_f1, 0.01);
  EXPECT_EQ(r0.modelfile.header["schema"], one->modelfile.header["schema"]);
  EXPECT_EQ(r0.modelfile.header["training"]["ranks"], 3);
  // Rank 0 hashes the whole file, as one process does.
  EXPECT_EQ(r0.modelfile.header["data"]["train"]["sha256"], one->modelfile.header["data"]["train"]["sha256"]);
  EXPECT_EQ(r0.modelfile.header["data"]["train"]["rows"], one->modelfile.header["data"]["train"]["rows"]);
}

TEST(TrainDataParallelTest, ClassesAreTheUnionOfEveryRanksLabels) {
  testing::TempDir dir;
  // Rank 0's half has only class a, rank 1's only class b.
  std::string text = "x,y\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(i) + ",a\n";
  for (int i = 50; i < 100; ++i) text += std::to_string(i) + ",b\n";
  TrainOptions options = Logistic();
  options.train = dir.Write("t.csv", text);
  options.validation.reset();
  options.label = "y";
  ThreadRanks ranks(2);
  auto results = ranks.Train(options);
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->modelfile.header["schema"]["classes"], (std::vector<std::string>{"a", "b"}));
    EXPECT_GT(r->train.accuracy, 0.9);
  }
}

TEST(TrainDataParallelTest, ABadRowOnOneRankStopsEveryRank) {
  testing::TempDir dir;
  std::string text = "x,y\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + "," + (i % 2 ? "a" : "b") + "\n";
  text += "oops,a\n";  // line 42, in rank 1's half
  TrainOptions options = Logistic();
  options.train = dir.Write("t.csv", text);
  options.validation.reset();
  options.label = "y";
  ThreadRanks ranks(2);
  auto results = ranks.Train(options);
  ASSERT_FALSE(results[1].ok());
  EXPECT_THAT(results[1].status().message(), HasSubstr("t.csv:42:1"));
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(results[0].status().message(), HasSubstr("rank 1 failed"));
}

TEST(TrainDataParallelTest, FamiliesThatCannotSplitTheirRowsAreRefused) {
  TrainOptions options = Logistic();
  options.estimator = "ordinal-logistic";
  auto family = DataParallelFamily(options);
  ASSERT_FALSE(family.ok());
  EXPECT_THAT(family.status().message(), HasSubstr("these can: logistic, xgboost, rf"));
  options.estimator = "logistic";
  options.trials = 4;
  EXPECT_FALSE(DataParallelFamily(options).ok());
}

}  // namespace
}  // namespace wharf::ml
