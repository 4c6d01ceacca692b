#pragma once
// Trains a CNN on an ImageSet with LibTorch: shuffled mini-batches, the
// chosen optimizer and learning-rate schedule, optional augmentation, a
// checkpoint after every epoch and resumption from the last one.
// Deterministic on the CPU for a seed and a thread count: each epoch's
// shuffle, augmentation and dropout draw from generators seeded by (seed,
// epoch), so a run resumed from a checkpoint ends with the same weights as
// one that never stopped.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "data/image_set.h"
#include "dl/network.h"

namespace wharf::dl {

// How to train: what `wharf dl-train` flags set.
struct TrainOptions {
  std::string architecture = "lenet";
  std::string optimizer = "adam";  // adam | sgd (momentum, nesterov)
  double learning_rate = 1e-3;
  double momentum = 0.9;  // sgd only
  double weight_decay = 0;
  std::string schedule = "cosine";  // constant | step | cosine (per step, to 0 at the end)
  int step_epochs = 1;              // step: multiply by step_gamma every step_epochs epochs
  double step_gamma = 0.5;
  int epochs = 3;
  int batch_size = 64;
  bool flip = false;    // augmentation: random horizontal flips
  int shift = 0;        // augmentation: random translations by up to `shift` pixels
  std::string device = "cpu";
  int threads = 0;      // intra-op threads on the CPU; 0: all cores
  std::uint64_t seed = 42;
  bool channels_last = false;
  std::filesystem::path checkpoint_dir;  // empty: no checkpoints
  bool resume = false;                   // continue from checkpoint_dir's last epoch

  nlohmann::json ToJson() const;
  // InvalidArgument naming the flag for values out of range.
  Status Validate() const;
};

// One finished epoch.
struct EpochStats {
  int epoch = 0;  // 1-based
  double loss = 0, accuracy = 0;  // training, over the epoch's batches
  double test_accuracy = -1;      // -1 without a test set
  double seconds = 0;
  std::size_t steps = 0;
};

// Told about every step and every epoch (for a progress bar).
struct TrainObserver {
  std::function<void(int epoch, std::size_t step, std::size_t steps, double loss, double accuracy)> on_step;
  // After each epoch (and its checkpoint); false stops the run there, as an
  // interruption would (a later run with resume continues it).
  std::function<bool(const EpochStats&)> on_epoch;
  std::function<void(int epoch)> on_resume;  // resumed after this epoch
};

// A trained network with what produced it.
struct TrainedNetwork {
  Network network{nullptr};
  std::vector<float> mean, std;  // per-channel input normalization (from the training pixels)
  std::vector<EpochStats> history;
  double train_seconds = 0;      // the epochs run by this process
  double steps_per_second = 0;   // ditto
  bool complete = true;          // false when an observer stopped the run early
};

// Trains on `train`, testing after every epoch on `test` when not null.
// Labels must be in [0, classes).
Result<TrainedNetwork> TrainNetwork(const data::ImageSet& train, const data::ImageSet* test, std::int64_t classes,
                                    const TrainOptions& options, const TrainObserver& observer = {});

// The most probable class of every image, in eval mode, `batch` at a time.
std::vector<int> PredictClasses(Network& network, const data::ImageSet& set, const std::vector<float>& mean,
                                const std::vector<float>& std, torch::Device device, int batch = 256);

// Per-channel mean and standard deviation of a set's pixels scaled to [0, 1].
std::pair<std::vector<float>, std::vector<float>> ChannelStatistics(const data::ImageSet& set);

}  // namespace wharf::dl
