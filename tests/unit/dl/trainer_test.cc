#include "dl/trainer.h"

#include <gtest/gtest.h>

#include "data/image_set.h"
#include "testing/temp_dir.h"

namespace wharf::dl {
namespace {

const std::filesystem::path kFashionMnist = "/usr/share/datasets/fashion-mnist";

// A seeded sample of Fashion-MNIST (Debian's dataset-fashion-mnist, which
// scripts/install-deps installs).
std::optional<data::ImageSet> FashionMnist(const std::string& split, std::size_t n) {
  const auto images = data::FindIdxImages(kFashionMnist, split);
  if (images.empty()) return std::nullopt;
  auto set = data::ReadIdxImages(images, data::IdxLabelsFor(images));
  EXPECT_TRUE(set.ok()) << set.status().message();
  if (!set.ok()) return std::nullopt;
  data::ImageSet sample = std::move(*set);
  sample.count = n;  // the first n: the files are not ordered by class
  sample.pixels.resize(n * sample.image_bytes());
  sample.labels.resize(n);
  sample.names.resize(n);
  return sample;
}

std::vector<torch::Tensor> Weights(Network& network) {
  std::vector<torch::Tensor> out;
  for (const auto& p : network->parameters()) out.push_back(p.detach().clone());
  return out;
}

bool SameWeights(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

TEST(TrainerTest, ATinyNetLearnsFarAboveChanceInSeconds) {
  auto train = FashionMnist("train", 2000), test = FashionMnist("t10k", 500);
  if (!train || !test) GTEST_SKIP() << kFashionMnist << " is missing (Debian package dataset-fashion-mnist)";
  TrainOptions options;
  options.epochs = 2;
  options.threads = 2;
  auto trained = TrainNetwork(*train, &*test, 10, options);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ASSERT_EQ(trained->history.size(), 2u);
  EXPECT_GT(trained->history.back().test_accuracy, 0.6);  // chance is 0.1
  EXPECT_LT(trained->history.back().loss, trained->history.front().loss);
}

TEST(TrainerTest, TheSameSeedGivesTheSameWeightsAndAResumedRunEndsWhereAnUnbrokenOneDoes) {
  auto train = FashionMnist("train", 384);
  if (!train) GTEST_SKIP() << kFashionMnist << " is missing (Debian package dataset-fashion-mnist)";
  testing::TempDir dir;
  TrainOptions options;
  options.epochs = 2;
  options.threads = 1;
  options.flip = true;
  options.shift = 2;
  options.checkpoint_dir = dir.path() / "unbroken";
  auto unbroken = TrainNetwork(*train, nullptr, 10, options);
  ASSERT_TRUE(unbroken.ok()) << unbroken.status().message();

  options.checkpoint_dir = dir.path() / "again";
  auto again = TrainNetwork(*train, nullptr, 10, options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(SameWeights(Weights(unbroken->network), Weights(again->network)));

  // Stopped after epoch 1, then resumed from its checkpoint.
  options.checkpoint_dir = dir.path() / "resumed";
  TrainObserver interrupt;
  interrupt.on_epoch = [](const EpochStats&) { return false; };
  auto stopped = TrainNetwork(*train, nullptr, 10, options, interrupt);
  ASSERT_TRUE(stopped.ok());
  EXPECT_FALSE(stopped->complete);
  EXPECT_EQ(stopped->history.size(), 1u);
  options.resume = true;
  int resumed_after = 0;
  TrainObserver observer;
  observer.on_resume = [&](int epoch) { resumed_after = epoch; };
  auto resumed = TrainNetwork(*train, nullptr, 10, options, observer);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(resumed_after, 1);
  ASSERT_EQ(resumed->history.size(), 2u);
  EXPECT_TRUE(SameWeights(Weights(unbroken->network), Weights(resumed->network)));
}

TEST(TrainerTest, ACheckpointOfAnotherRunIsNotResumed) {
  auto train = FashionMnist("train", 128);
  if (!train) GTEST_SKIP() << kFashionMnist << " is missing (Debian package dataset-fashion-mnist)";
  testing::TempDir dir;
  TrainOptions options;
  options.epochs = 1;
  options.threads = 1;
  options.checkpoint_dir = dir.path();
  ASSERT_TRUE(TrainNetwork(*train, nullptr, 10, options).ok());
  options.resume = true;
  options.epochs = 2;
  options.learning_rate = 0.01;
  auto other = TrainNetwork(*train, nullptr, 10, options);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("without --resume"), std::string::npos) << other.status().message();
}

TEST(TrainerTest, BadOptionsAndLabelsAreNamed) {
  data::ImageSet set;
  set.count = 2;
  set.height = set.width = 28;
  set.pixels.assign(2 * 28 * 28, 0);
  set.labels = {0, 12};
  set.names = {"a", "b"};
  auto bad_label = TrainNetwork(set, nullptr, 10, {});
  ASSERT_FALSE(bad_label.ok());
  EXPECT_NE(bad_label.status().message().find("label 12"), std::string::npos);
  TrainOptions options;
  options.optimizer = "rmsprop";
  set.labels = {0, 1};
  auto bad_optimizer = TrainNetwork(set, nullptr, 10, options);
  ASSERT_FALSE(bad_optimizer.ok());
  EXPECT_NE(bad_optimizer.status().message().find("--optimizer"), std::string::npos);
}

}  // namespace
}  // namespace wharf::dl
