// `wharf dl-train`: a CNN from IDX files or image folders -> Modelfile
// (TorchScript, and ONNX when built with libonnx), results.txt,
// metrics.json, checkpoints/.

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "artifact/modelfile.h"
#include "cli/exit_code.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/sha256.h"
#include "core/version.h"
#include "dl/commands.h"
#include "dl/image_model.h"
#include "dl/plugin_api.h"
#include "dl/torch_model.h"
#include "dl/trainer.h"
#include "dl/training_sets.h"
#include "ml/metrics.h"
#include "ml/report.h"
#ifdef WHARF_HAVE_ONNX
#include "dl/onnx_export.h"
#endif

namespace wharf::dl {

namespace fs = std::filesystem;

namespace {

struct Flags {
  DataSource source;
  TrainOptions train;
  fs::path out;
};

// A redrawn bar on a terminal; one line per epoch otherwise (logs, CI).
class Progress {
 public:
  explicit Progress(int epochs) : epochs_(epochs), terminal_(isatty(STDERR_FILENO) == 1) {}

  void Step(int epoch, std::size_t step, std::size_t steps, double loss, double accuracy) {
    if (!terminal_ || (step % 10 != 0 && step != steps)) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * step / steps);
    fmt::print(stderr, "\repoch {}/{} [{}{}] {}/{} loss {:.4f} acc {:.4f}", epoch, epochs_, std::string(filled, '='),
               std::string(kWidth - filled, ' '), step, steps, loss, accuracy);
    std::fflush(stderr);
  }

  void Epoch(const EpochStats& e) {
    if (terminal_) fmt::print(stderr, "\r\033[K");
    fmt::print(stderr, "epoch {}/{}: loss {:.4f}, train accuracy {:.4f}{}, {:.1f} s ({:.1f} steps/s)\n", e.epoch,
               epochs_, e.loss, e.accuracy,
               e.test_accuracy >= 0 ? fmt::format(", test accuracy {:.4f}", e.test_accuracy) : "", e.seconds,
               static_cast<double>(e.steps) / e.seconds);
  }

 private:
  int epochs_;
  bool terminal_;
};

ml::Metrics Score(Network& network, const data::ImageSet& set, const TrainedNetwork& trained,
                  const std::vector<std::string>& classes, torch::Device device) {
  const std::vector<int> predicted = PredictClasses(network, set, trained.mean, trained.std, device);
  ml::ConfusionMatrix confusion(classes.size());
  for (std::size_t i = 0; i < predicted.size(); ++i) confusion.Add(set.labels[i], predicted[i]);
  return confusion.Compute(classes);
}

nlohmann::json DataJson(const std::string& source, std::size_t rows) {
  nlohmann::json j = {{"path", source}, {"rows", rows}};
  std::error_code ec;
  if (fs::is_regular_file(source, ec)) {
    if (auto sha = Sha256OfFile(source); sha.ok()) j["sha256"] = *sha;
  }
  return j;
}

Status Run(const Flags& f) {
  WHARF_RETURN_IF_ERROR(f.train.Validate());
  WHARF_ASSIGN_OR_RETURN(const torch::Device device, ParseDevice(f.train.device));
  WHARF_ASSIGN_OR_RETURN(TrainingSets sets, ReadTrainingSets(f.source));
  fmt::print(stderr, "Training {} on {} images of {}x{}x{} ({} classes){}\n", f.train.architecture, sets.train.count,
             sets.train.channels, sets.train.height, sets.train.width, sets.classes.size(),
             sets.test ? fmt::format(", testing on {}", sets.test->count) : "");

  TrainOptions options = f.train;
  options.checkpoint_dir = f.out / "checkpoints";
  Progress progress(options.epochs);
  TrainObserver observer;
  observer.on_step = [&](int e, std::size_t s, std::size_t n, double loss, double acc) { progress.Step(e, s, n, loss, acc); };
  observer.on_epoch = [&](const EpochStats& e) {
    progress.Epoch(e);
    return true;
  };
  observer.on_resume = [](int epoch) { fmt::print(stderr, "Resuming after epoch {} (checkpoints/)\n", epoch); };
  WHARF_ASSIGN_OR_RETURN(TrainedNetwork trained,
                         TrainNetwork(sets.train, sets.test ? &*sets.test : nullptr,
                                      static_cast<std::int64_t>(sets.classes.size()), options, observer));

  const ml::Metrics train_metrics = Score(trained.network, sets.train, trained, sets.classes, device);
  std::optional<ml::Metrics> test_metrics;
  if (sets.test) test_metrics = Score(trained.network, *sets.test, trained, sets.classes, device);

  // The Modelfile: TorchScript always, ONNX when this build can write it.
  trained.network->to(torch::kCPU);
  artifact::Modelfile file;
  ImageModelSpec spec;
  spec.schema.label = "label";
  spec.schema.classes = sets.classes;
  spec.schema.image_shape = {static_cast<std::int64_t>(sets.train.channels), static_cast<std::int64_t>(sets.train.height),
                             static_cast<std::int64_t>(sets.train.width)};
  spec.mean = trained.mean;
  spec.std = trained.std;
  spec.logits = true;
  auto& h = file.header;
  h["format"] = "wharf.modelfile";
  h["wharf_version"] = kVersion;
  h["created_at"] = FormatTimeUtc(NowMicros());
  h["estimator"] = {{"kind", kTorchScriptKind}, {"architecture", options.architecture}, {"params", options.ToJson()}};
  spec.WriteHeader(h);
  h["metrics"] = {{"train", ml::ToJson(train_metrics)}};
  if (test_metrics) h["metrics"]["validation"] = ml::ToJson(*test_metrics);
  h["data"] = {{"train", DataJson(sets.train_source, sets.train.count)}};
  if (sets.test) h["data"]["validation"] = DataJson(sets.test_source, sets.test->count);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : trained.history) {
    history.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"accuracy", e.accuracy}, {"test_accuracy", e.test_accuracy},
                       {"seconds", e.seconds}});
  }
  h["training"] = {{"seed", options.seed}, {"device", options.device}, {"threads", options.threads},
                   {"epochs", history}, {"steps_per_second", trained.steps_per_second},
                   {"seconds", trained.train_seconds}};
  try {
    std::ostringstream script;
    ToTorchScript(trained.network).save(script);
    file.sections.push_back({kTorchScriptSection, script.str()});
  } catch (const c10::Error& e) {
    return Internal(fmt::format("TorchScript export failed: {}", e.what_without_backtrace()));
  }
#ifdef WHARF_HAVE_ONNX
  WHARF_ASSIGN_OR_RETURN(std::string onnx, ToOnnx(trained.network));
  file.sections.push_back({kOnnxSection, std::move(onnx)});
  h["estimator"]["engines"] = {kTorchScriptKind, kOnnxKind};
#else
  h["estimator"]["engines"] = {kTorchScriptKind};
#endif
  std::error_code ec;
  fs::create_directories(f.out, ec);
  if (ec) return IoError(fmt::format("{}: {}", f.out.string(), ec.message()));
  WHARF_RETURN_IF_ERROR(artifact::WriteModelfile(file, f.out / "Modelfile"));

  std::string results = "wharf deep learning results\n\n" + ml::FormatMetricsSection("Train", train_metrics);
  if (test_metrics) results += ml::FormatMetricsSection("Test", *test_metrics);
  results += fmt::format(
      "Model\n  network:   {} ({})\n  optimizer: {} lr {} ({} schedule), batch {}, {} epochs, seed {}\n"
      "  input:     {}x{}x{}, normalized by mean {} std {}\n  classes:   {}\n  training:  {} ({} images)\n",
      options.architecture, fmt::join(h["estimator"]["engines"].get<std::vector<std::string>>(), " + "),
      options.optimizer, options.learning_rate, options.schedule, options.batch_size, options.epochs, options.seed,
      sets.train.channels, sets.train.height, sets.train.width, fmt::join(trained.mean, ","),
      fmt::join(trained.std, ","), fmt::join(sets.classes, ", "), sets.train_source, sets.train.count);
  if (sets.test) results += fmt::format("  test:      {} ({} images)\n", sets.test_source, sets.test->count);
  results += fmt::format("  took:      {:.1f} s on {} ({:.1f} steps/s)\n\nEpochs\n", trained.train_seconds,
                         options.device, trained.steps_per_second);
  for (const auto& e : trained.history) {
    results += fmt::format("  {:>3}  loss {:.4f}  train accuracy {:.4f}{}\n", e.epoch, e.loss, e.accuracy,
                           e.test_accuracy >= 0 ? fmt::format("  test accuracy {:.4f}", e.test_accuracy) : "");
  }
  results += fmt::format("\nPer-class metrics on the {} data\n", test_metrics ? "test" : "training");
  results += ml::FormatClassReport(test_metrics ? *test_metrics : train_metrics);
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(f.out / "results.txt", results));
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(f.out / "metrics.json", h["metrics"].dump(2) + "\n"));

  fmt::print("Model:   {}\nReport:  {}\nTrain accuracy {:.4f}{}\n", (f.out / "Modelfile").string(),
             (f.out / "results.txt").string(), train_metrics.accuracy,
             test_metrics ? fmt::format(", test accuracy {:.4f} (weighted F1 {:.4f})", test_metrics->accuracy,
                                        test_metrics->weighted_f1)
                          : "");
  return Status::Ok();
}

}  // namespace

int RunDlTrain(int argc, char** argv) {
  Flags f;
  CLI::App app{"Train a CNN (LibTorch) on IDX files or image folders; write a Modelfile with TorchScript and ONNX"};
  app.name("wharf dl-train");
  app.add_option("--data", f.source.data,
                 "Directory: IDX files (train-*/t10k-*, e.g. /usr/share/datasets/fashion-mnist), an image folder "
                 "with train/ and test/, or one image folder to split");
  app.add_option("--train", f.source.train, "Training IDX images file or image folder (instead of --data)");
  app.add_option("--test", f.source.test, "Test IDX images file or image folder");
  app.add_option("--classes", f.source.classes, "Class names: a file (one per line) or a,b,c");
  app.add_option("--test-fraction", f.source.test_fraction, "One image folder: share held out for testing")
      ->capture_default_str();
  app.add_option("--limit", f.source.limit, "Train on a seeded sample of this many images");
  app.add_option("--test-limit", f.source.test_limit, "Test on a seeded sample of this many images");
  app.add_option("--channels", f.source.channels, "Image folders: 1 (grayscale) or 3 (RGB); default: as stored")
      ->check(CLI::IsMember({0, 1, 3}));
  app.add_flag("--resize", f.source.resize, "Image folders: resize images to the first image's size");
  app.add_option("--out", f.out, "Output directory")->required();
  app.add_option("--arch", f.train.architecture, "lenet | resnet-small")->capture_default_str();
  app.add_option("--optimizer", f.train.optimizer, "adam | sgd")->capture_default_str();
  app.add_option("--lr", f.train.learning_rate, "Learning rate")->capture_default_str();
  app.add_option("--momentum", f.train.momentum, "SGD momentum (Nesterov)")->capture_default_str();
  app.add_option("--weight-decay", f.train.weight_decay, "L2 weight decay")->capture_default_str();
  app.add_option("--schedule", f.train.schedule, "constant | step | cosine")->capture_default_str();
  app.add_option("--step-epochs", f.train.step_epochs, "step schedule: epochs per step")->capture_default_str();
  app.add_option("--step-gamma", f.train.step_gamma, "step schedule: factor per step")->capture_default_str();
  app.add_option("--epochs", f.train.epochs, "Epochs")->capture_default_str();
  app.add_option("--batch-size", f.train.batch_size, "Images per step")->capture_default_str();
  app.add_flag("--flip", f.train.flip, "Augment: random horizontal flips");
  app.add_option("--shift", f.train.shift, "Augment: random shifts by up to N pixels")->capture_default_str();
  app.add_option("--device", f.train.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--threads", f.train.threads, "CPU threads (default: all cores)");
  app.add_option("--seed", f.train.seed, "Seed: weights, shuffling, augmentation, sampling")->capture_default_str();
  app.add_flag("--channels-last", f.train.channels_last, "Use the channels-last memory format");
  app.add_flag("--resume", f.train.resume, "Continue from the last checkpoint in --out/checkpoints");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  f.source.seed = f.train.seed;
  f.source.threads = f.train.threads;
  return cli::ExitWith(Run(f));
}

}  // namespace wharf::dl
