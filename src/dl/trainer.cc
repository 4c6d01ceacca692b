#include "dl/trainer.h"

#include <chrono>
#include <cmath>
#include <numbers>
#include <optional>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "core/file.h"
#include "core/json_depth.h"
#include "core/parallel.h"
#include "dl/torch_model.h"

namespace wharf::dl {

namespace fs = std::filesystem;

namespace {

constexpr char kCheckpointState[] = "checkpoint.json";

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(Network& network, const TrainOptions& o) {
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        network->parameters(),
        torch::optim::SGDOptions(o.learning_rate).momentum(o.momentum).nesterov(o.momentum > 0).weight_decay(o.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(network->parameters(),
                                              torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
}

// The learning rate at `step` (0-based, over the whole run) of `total`.
double LearningRate(const TrainOptions& o, std::size_t step, std::size_t steps_per_epoch, std::size_t total) {
  if (o.schedule == "cosine") {
    return o.learning_rate * 0.5 * (1 + std::cos(std::numbers::pi * static_cast<double>(step) / static_cast<double>(total)));
  }
  if (o.schedule == "step") {
    const auto epoch = static_cast<int>(step / steps_per_epoch);
    return o.learning_rate * std::pow(o.step_gamma, epoch / o.step_epochs);
  }
  return o.learning_rate;
}

// Random translations by up to `shift` pixels (zero fill), one per image.
torch::Tensor Shift(const torch::Tensor& x, int shift, at::Generator& gen) {
  const std::int64_t s = shift, h = x.size(2), w = x.size(3);
  const torch::Tensor padded = torch::constant_pad_nd(x, {s, s, s, s}, 0);
  const torch::Tensor offsets = torch::randint(0, 2 * s + 1, {x.size(0), 2}, gen, torch::kLong);
  const auto at = offsets.accessor<std::int64_t, 2>();
  std::vector<torch::Tensor> crops;
  crops.reserve(static_cast<std::size_t>(x.size(0)));
  for (std::int64_t i = 0; i < x.size(0); ++i) crops.push_back(padded[i].narrow(1, at[i][0], h).narrow(2, at[i][1], w));
  return torch::stack(crops);
}

torch::Tensor Flip(const torch::Tensor& x, at::Generator& gen) {
  const torch::Tensor flip = torch::rand({x.size(0), 1, 1, 1}, gen) < 0.5;
  return torch::where(flip, x.flip({3}), x);
}

torch::Tensor Images(const data::ImageSet& set) {
  return torch::from_blob(const_cast<std::uint8_t*>(set.pixels.data()),
                          {static_cast<std::int64_t>(set.count), static_cast<std::int64_t>(set.channels),
                           static_cast<std::int64_t>(set.height), static_cast<std::int64_t>(set.width)},
                          torch::kUInt8);
}

torch::Tensor Normalizer(const std::vector<float>& v) {
  return torch::tensor(v).view({1, static_cast<std::int64_t>(v.size()), 1, 1});
}

double Accuracy(Network& network, const data::ImageSet& set, const std::vector<float>& mean,
                const std::vector<float>& std, torch::Device device) {
  const std::vector<int> predicted = PredictClasses(network, set, mean, std, device);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == set.labels[i];
  return predicted.empty() ? 0 : static_cast<double>(correct) / static_cast<double>(predicted.size());
}

nlohmann::json EpochJson(const EpochStats& e) {
  return {{"epoch", e.epoch}, {"loss", e.loss}, {"accuracy", e.accuracy}, {"test_accuracy", e.test_accuracy},
          {"seconds", e.seconds}, {"steps", e.steps}};
}

EpochStats EpochFromJson(const nlohmann::json& j) {
  return {j.at("epoch").get<int>(), j.at("loss").get<double>(), j.at("accuracy").get<double>(),
          j.at("test_accuracy").get<double>(), j.at("seconds").get<double>(), j.at("steps").get<std::size_t>()};
}

// What must match for a checkpoint to be resumed: everything that shapes the run.
nlohmann::json RunIdentity(const TrainOptions& o, const data::ImageSet& train, std::int64_t classes) {
  nlohmann::json j = o.ToJson();
  j.erase("resume");
  j.erase("threads");
  j.erase("device");
  j["images"] = {train.count, train.channels, train.height, train.width};
  j["classes"] = classes;
  return j;
}

Status SaveCheckpoint(const fs::path& dir, int epoch, Network& network, torch::optim::Optimizer& optimizer,
                      const nlohmann::json& identity, const TrainedNetwork& state) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("{}: {}", dir.string(), ec.message()));
  const std::string weights = fmt::format("epoch-{}.pt", epoch), moments = fmt::format("epoch-{}.optimizer.pt", epoch);
  try {
    torch::serialize::OutputArchive archive;
    network->save(archive);
    archive.save_to((dir / weights).string());
    torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    optimizer_archive.save_to((dir / moments).string());
  } catch (const c10::Error& e) {
    return IoError(fmt::format("{}: writing a checkpoint: {}", dir.string(), e.what_without_backtrace()));
  }
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : state.history) history.push_back(EpochJson(e));
  const nlohmann::json checkpoint = {{"epoch", epoch},       {"weights", weights}, {"optimizer", moments},
                                     {"run", identity},      {"mean", state.mean}, {"std", state.std},
                                     {"history", history}};
  // Written last: the checkpoint named here is complete.
  return WriteFileAtomically(dir / kCheckpointState, checkpoint.dump(2));
}

// Loads the last checkpoint into network/optimizer/state; returns its epoch (0 if none).
Result<int> LoadCheckpoint(const fs::path& dir, Network& network, torch::optim::Optimizer& optimizer,
                           const nlohmann::json& identity, TrainedNetwork& state, torch::Device device) {
  std::error_code ec;
  if (!fs::exists(dir / kCheckpointState, ec)) return 0;
  WHARF_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / kCheckpointState));
  WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, (dir / kCheckpointState).string()));
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (j.at("run") != identity) {
      return FailedPrecondition(fmt::format(
          "{}: the checkpoint was made by a run with other data or settings ({}); start afresh without --resume "
          "or in another --out",
          (dir / kCheckpointState).string(), j.at("run").dump()));
    }
    torch::serialize::InputArchive archive;
    archive.load_from((dir / j.at("weights").get<std::string>()).string(), device);
    network->load(archive);
    torch::serialize::InputArchive optimizer_archive;
    optimizer_archive.load_from((dir / j.at("optimizer").get<std::string>()).string(), device);
    optimizer.load(optimizer_archive);
    state.mean = j.at("mean").get<std::vector<float>>();
    state.std = j.at("std").get<std::vector<float>>();
    for (const auto& e : j.at("history")) state.history.push_back(EpochFromJson(e));
    return j.at("epoch").get<int>();
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(fmt::format("{}: {}", (dir / kCheckpointState).string(), e.what()));
  } catch (const c10::Error& e) {
    return DataLoss(fmt::format("{}: {}", dir.string(), e.what_without_backtrace()));
  }
}

}  // namespace

nlohmann::json TrainOptions::ToJson() const {
  return {{"architecture", architecture}, {"optimizer", optimizer},       {"learning_rate", learning_rate},
          {"momentum", momentum},         {"weight_decay", weight_decay}, {"schedule", schedule},
          {"step_epochs", step_epochs},   {"step_gamma", step_gamma},     {"epochs", epochs},
          {"batch_size", batch_size},     {"flip", flip},                 {"shift", shift},
          {"device", device},             {"threads", threads},           {"seed", seed},
          {"channels_last", channels_last}, {"resume", resume}};
}

Status TrainOptions::Validate() const {
  if (optimizer != "adam" && optimizer != "sgd") return InvalidArgument(fmt::format("--optimizer {}: use adam or sgd", optimizer));
  if (schedule != "constant" && schedule != "step" && schedule != "cosine") {
    return InvalidArgument(fmt::format("--schedule {}: use constant, step or cosine", schedule));
  }
  if (!(learning_rate > 0 && learning_rate < 10)) return InvalidArgument("--lr must be in (0, 10)");
  if (momentum < 0 || momentum >= 1) return InvalidArgument("--momentum must be in [0, 1)");
  if (weight_decay < 0) return InvalidArgument("--weight-decay must not be negative");
  if (step_epochs < 1) return InvalidArgument("--step-epochs must be at least 1");
  if (!(step_gamma > 0 && step_gamma <= 1)) return InvalidArgument("--step-gamma must be in (0, 1]");
  if (epochs < 1 || epochs > 10000) return InvalidArgument("--epochs must be 1 to 10000");
  if (batch_size < 1 || batch_size > 65536) return InvalidArgument("--batch-size must be 1 to 65536");
  if (shift < 0 || shift > 16) return InvalidArgument("--shift must be 0 to 16 pixels");
  if (threads < 0) return InvalidArgument("--threads must not be negative");
  return Status::Ok();
}

std::pair<std::vector<float>, std::vector<float>> ChannelStatistics(const data::ImageSet& set) {
  const std::size_t plane = set.height * set.width;
  std::vector<double> sum(set.channels), squares(set.channels);
  for (std::size_t i = 0; i < set.count; ++i) {
    for (std::size_t c = 0; c < set.channels; ++c) {
      const std::uint8_t* p = set.pixels.data() + i * set.image_bytes() + c * plane;
      std::uint64_t s = 0, q = 0;
      for (std::size_t k = 0; k < plane; ++k) {
        s += p[k];
        q += std::uint64_t{p[k]} * p[k];
      }
      sum[c] += static_cast<double>(s);
      squares[c] += static_cast<double>(q);
    }
  }
  std::vector<float> mean(set.channels), std(set.channels);
  const double n = static_cast<double>(set.count * plane);
  for (std::size_t c = 0; c < set.channels; ++c) {
    const double m = sum[c] / n / 255.0;
    const double var = squares[c] / n / (255.0 * 255.0) - m * m;
    mean[c] = static_cast<float>(m);
    std[c] = static_cast<float>(std::max(std::sqrt(std::max(var, 0.0)), 1e-3));
  }
  return {mean, std};
}

std::vector<int> PredictClasses(Network& network, const data::ImageSet& set, const std::vector<float>& mean,
                                const std::vector<float>& std, torch::Device device, int batch) {
  network->eval();
  // On the CPU through the inference engine's form (frozen TorchScript with
  // oneDNN convolutions: several times faster than the eager module).
  std::optional<torch::jit::Module> script;
  if (device.is_cpu()) {
    torch::jit::Module frozen = torch::jit::freeze(ToTorchScript(network));
    script = torch::jit::optimize_for_inference(frozen);
  }
  c10::InferenceMode inference;
  const torch::Tensor images = Images(set), m = Normalizer(mean), s = Normalizer(std);
  std::vector<int> out;
  out.reserve(set.count);
  for (std::int64_t at = 0; at < static_cast<std::int64_t>(set.count); at += batch) {
    const std::int64_t n = std::min<std::int64_t>(batch, static_cast<std::int64_t>(set.count) - at);
    torch::Tensor x = ((images.narrow(0, at, n).to(torch::kFloat32) / 255.0) - m) / s;
    const torch::Tensor logits = script ? script->forward({x}).toTensor() : network->forward(x.to(device));
    const torch::Tensor best = logits.argmax(1).to(torch::kCPU);
    const auto a = best.accessor<std::int64_t, 1>();
    for (std::int64_t i = 0; i < n; ++i) out.push_back(static_cast<int>(a[i]));
  }
  return out;
}

Result<TrainedNetwork> TrainNetwork(const data::ImageSet& train, const data::ImageSet* test, std::int64_t classes,
                                    const TrainOptions& options, const TrainObserver& observer) {
  WHARF_RETURN_IF_ERROR(options.Validate());
  if (train.count == 0) return InvalidArgument("no training images");
  if (train.labels.size() != train.count) return InvalidArgument("training images need labels");
  for (const int label : train.labels) {
    if (label < 0 || label >= classes) {
      return InvalidArgument(fmt::format("label {} is not a class index in [0, {})", label, classes));
    }
  }
  if (test != nullptr && (test->labels.size() != test->count || test->image_bytes() != train.image_bytes())) {
    return InvalidArgument("the test images need labels and the training images' shape");
  }
  WHARF_ASSIGN_OR_RETURN(const torch::Device device, ParseDevice(options.device));
  at::set_num_threads(options.threads > 0 ? options.threads : HardwareThreads());
  WHARF_ASSIGN_OR_RETURN(Architecture architecture,
                         MakeArchitecture(options.architecture, static_cast<std::int64_t>(train.channels),
                                          static_cast<std::int64_t>(train.height),
                                          static_cast<std::int64_t>(train.width), classes));
  torch::manual_seed(options.seed);
  TrainedNetwork result;
  result.network = Network(std::move(architecture));
  Network& network = result.network;
  network->to(device);
  const auto memory_format = options.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  if (options.channels_last) {
    for (auto& p : network->parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(memory_format));
    }
  }
  auto optimizer = MakeOptimizer(network, options);
  const nlohmann::json identity = RunIdentity(options, train, classes);

  int done = 0;
  if (options.resume && !options.checkpoint_dir.empty()) {
    WHARF_ASSIGN_OR_RETURN(done, LoadCheckpoint(options.checkpoint_dir, network, *optimizer, identity, result, device));
    if (done > 0 && observer.on_resume) observer.on_resume(done);
  }
  if (done == 0) std::tie(result.mean, result.std) = ChannelStatistics(train);

  const torch::Tensor images = Images(train);
  std::vector<std::int64_t> label_values(train.labels.begin(), train.labels.end());
  const torch::Tensor labels = torch::tensor(label_values, torch::kLong);
  const torch::Tensor mean = Normalizer(result.mean), std = Normalizer(result.std);
  const auto n = static_cast<std::int64_t>(train.count);
  const auto steps_per_epoch = static_cast<std::size_t>((n + options.batch_size - 1) / options.batch_size);
  const std::size_t total_steps = steps_per_epoch * static_cast<std::size_t>(options.epochs);

  std::size_t steps_run = 0;
  for (int epoch = done + 1; epoch <= options.epochs; ++epoch) {
    const auto epoch_started = Clock::now();
    network->train();
    // Every draw of this epoch comes from generators seeded by (seed, epoch).
    torch::manual_seed(options.seed * 7919 + static_cast<std::uint64_t>(epoch));
    at::Generator gen = at::detail::createCPUGenerator(options.seed * 1000003 + static_cast<std::uint64_t>(epoch));
    const torch::Tensor order = torch::randperm(n, gen, torch::kLong);
    double loss_sum = 0;
    std::int64_t correct = 0;
    for (std::size_t step = 0; step < steps_per_epoch; ++step) {
      const std::int64_t from = static_cast<std::int64_t>(step) * options.batch_size;
      const torch::Tensor index = order.narrow(0, from, std::min<std::int64_t>(options.batch_size, n - from));
      torch::Tensor x = images.index_select(0, index).to(torch::kFloat32) / 255.0;
      if (options.flip) x = Flip(x, gen);
      if (options.shift > 0) x = Shift(x, options.shift, gen);
      x = ((x - mean) / std).contiguous(memory_format).to(device);
      const torch::Tensor y = labels.index_select(0, index).to(device);

      const double lr = LearningRate(options, (static_cast<std::size_t>(epoch) - 1) * steps_per_epoch + step,
                                     steps_per_epoch, total_steps);
      for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
      optimizer->zero_grad();
      const torch::Tensor logits = network->forward(x);
      const torch::Tensor loss = torch::cross_entropy_loss(logits, y);
      loss.backward();
      optimizer->step();

      const auto rows = index.size(0);
      loss_sum += loss.item<double>() * static_cast<double>(rows);
      correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
      ++steps_run;
      if (observer.on_step) {
        const double seen = static_cast<double>(from + rows);
        observer.on_step(epoch, step + 1, steps_per_epoch, loss_sum / seen, static_cast<double>(correct) / seen);
      }
    }
    EpochStats stats{.epoch = epoch,
                     .loss = loss_sum / static_cast<double>(n),
                     .accuracy = static_cast<double>(correct) / static_cast<double>(n),
                     .test_accuracy = -1,
                     .seconds = 0,
                     .steps = steps_per_epoch};
    stats.seconds = Seconds(epoch_started);
    result.train_seconds += stats.seconds;
    if (test != nullptr) stats.test_accuracy = Accuracy(network, *test, result.mean, result.std, device);
    result.history.push_back(stats);
    if (!options.checkpoint_dir.empty()) {
      WHARF_RETURN_IF_ERROR(SaveCheckpoint(options.checkpoint_dir, epoch, network, *optimizer, identity, result));
    }
    if (observer.on_epoch && !observer.on_epoch(stats) && epoch < options.epochs) {
      result.complete = false;
      break;
    }
  }
  if (steps_run > 0) result.steps_per_second = static_cast<double>(steps_run) / result.train_seconds;
  network->eval();
  return result;
}

}  // namespace wharf::dl
