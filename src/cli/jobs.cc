// The built-in jobs a task definition can name ("job": "train", ...): each
// turns its parameters into the argv of a child `wharf` process running the
// matching command. Registered here, in the composition root, so the
// control plane never links the ML code.

#include <cmath>

#include <fmt/format.h>

#include "cli/commands.h"

namespace wharf::cli {

namespace {

using control::JobContext;
using control::JobParam;
using control::JobType;
using nlohmann::json;

// A parameter as one argv element: strings as they are, numbers and
// booleans as JSON writes them. InvalidArgument for objects, arrays, null.
Result<std::string> Scalar(const json& params, const std::string& name) {
  const json& v = params.at(name);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return InvalidArgument(fmt::format("params.{}: must be a string, number or boolean", name));
}

// Appends "--flag value" for each (param, flag) present in `params`.
Status AddOptions(std::vector<std::string>& argv, const json& params,
                  std::initializer_list<std::pair<const char*, const char*>> options) {
  for (const auto& [param, flag] : options) {
    if (!params.contains(param)) continue;
    WHARF_ASSIGN_OR_RETURN(std::string value, Scalar(params, param));
    argv.push_back(flag);
    argv.push_back(std::move(value));
  }
  return Status::Ok();
}

// Appends "--flag value" for a string parameter, or for each string of a list.
Status AddRepeated(std::vector<std::string>& argv, const json& params, const char* param, const char* flag) {
  if (!params.contains(param)) return Status::Ok();
  const json& v = params[param];
  const json values = v.is_array() ? v : json::array({v});
  for (const auto& value : values) {
    if (!value.is_string()) return InvalidArgument(fmt::format("params.{}: must be a string or a list of strings", param));
    argv.push_back(flag);
    argv.push_back(value.get<std::string>());
  }
  return Status::Ok();
}

Result<bool> Flag(const json& params, const char* name) {
  if (!params.contains(name)) return false;
  if (!params[name].is_boolean()) return InvalidArgument(fmt::format("params.{}: must be true or false", name));
  return params[name].get<bool>();
}

std::string Threads(const JobContext& context) {
  return std::to_string(std::max(1, static_cast<int>(std::ceil(context.cpus))));
}

JobType TrainJob() {
  JobType job;
  job.name = "train";
  job.description = "Train a model on a CSV (wharf train); its Modelfile is registered as a new model version";
  job.params = {{"train", true, "training CSV"},
                {"validation", false, "validation CSV, reported as [Test]"},
                {"label", false, "label column (default quality)"},
                {"ignore", false, "columns that are not features: a name or a list, e.g. [\"path\"]"},
                {"estimator", false, "logistic | ordinal-logistic | xgboost | rf | auto"},
                {"hyperparameters", false, "object of pinned hyperparameters, e.g. {\"max_depth\": 6}"},
                {"trials", false, "hyperparameter search: configurations to evaluate"},
                {"parallel", false, "trials evaluated at a time"},
                {"search", false, "random | grid"},
                {"folds", false, "cross-validation folds"},
                {"cv_split", false, "stratified | blocked"},
                {"cv", false, "true: report k-fold CV of a fixed configuration"},
                {"seed", false, "seed for folds, search and estimators"}};
  job.produces_model = true;
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    std::vector<std::string> argv = {context.wharf_executable.string(), "train", "--out",
                                     context.output_dir.string(), "--threads", Threads(context)};
    // One model trained data-parallel by the task's ranks (srun under Slurm, mpirun here).
    if (context.ranks > 1) argv.insert(argv.end(), {"--ranks", std::to_string(context.ranks)});
    WHARF_RETURN_IF_ERROR(AddOptions(argv, p,
                                     {{"train", "--train"},
                                      {"validation", "--validation"},
                                      {"label", "--label"},
                                      {"estimator", "--estimator"},
                                      {"trials", "--trials"},
                                      {"parallel", "--parallel"},
                                      {"search", "--search"},
                                      {"folds", "--folds"},
                                      {"cv_split", "--cv-split"},
                                      {"seed", "--seed"}}));
    if (p.contains("hyperparameters")) {
      if (!p["hyperparameters"].is_object()) return InvalidArgument("params.hyperparameters: must be an object");
      for (const auto& [name, value] : p["hyperparameters"].items()) {
        if (!value.is_number() && !value.is_string()) {
          return InvalidArgument(fmt::format("params.hyperparameters.{}: must be a number or string", name));
        }
        argv.push_back("--param");
        argv.push_back(name + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
      }
    }
    WHARF_RETURN_IF_ERROR(AddRepeated(argv, p, "ignore", "--ignore"));
    WHARF_ASSIGN_OR_RETURN(bool cv, Flag(p, "cv"));
    if (cv) argv.push_back("--cv");
    return argv;
  };
  return job;
}

JobType DlTrainJob() {
  JobType job;
  job.name = "dl-train";
  job.description = "Train a CNN (wharf dl-train, LibTorch); its Modelfile is registered as a new model version";
  job.params = {{"data", false, "directory: IDX files (train-*/t10k-*) or image folders"},
                {"train", false, "training IDX images file or image folder (instead of data)"},
                {"test", false, "test IDX images file or image folder"},
                {"classes", false, "class names: a file (one per line) or a,b,c"},
                {"arch", false, "lenet | resnet-small"},
                {"optimizer", false, "adam | sgd"},
                {"lr", false, "learning rate"},
                {"schedule", false, "constant | step | cosine"},
                {"epochs", false, "epochs"},
                {"batch_size", false, "images per step"},
                {"limit", false, "train on a seeded sample of this many images"},
                {"flip", false, "true: augment with random horizontal flips"},
                {"shift", false, "augment with random shifts by up to N pixels"},
                {"device", false, "cpu | cuda (the task's resources.gpus pick the GPUs)"},
                {"seed", false, "seed"}};
  job.produces_model = true;
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    if (!p.contains("data") && !p.contains("train")) return InvalidArgument("params: give data or train");
    std::vector<std::string> argv = {context.wharf_executable.string(), "dl-train", "--out",
                                     context.output_dir.string(), "--threads", Threads(context)};
    WHARF_RETURN_IF_ERROR(AddOptions(argv, p,
                                     {{"data", "--data"},
                                      {"train", "--train"},
                                      {"test", "--test"},
                                      {"classes", "--classes"},
                                      {"arch", "--arch"},
                                      {"optimizer", "--optimizer"},
                                      {"lr", "--lr"},
                                      {"schedule", "--schedule"},
                                      {"epochs", "--epochs"},
                                      {"batch_size", "--batch-size"},
                                      {"limit", "--limit"},
                                      {"shift", "--shift"},
                                      {"device", "--device"},
                                      {"seed", "--seed"}}));
    WHARF_ASSIGN_OR_RETURN(bool flip, Flag(p, "flip"));
    if (flip) argv.push_back("--flip");
    // A retried attempt continues from the last finished epoch.
    argv.push_back("--resume");
    return argv;
  };
  return job;
}

JobType FeaturizeJob() {
  JobType job;
  job.name = "featurize";
  job.description =
      "CNN features of images (wharf featurize) into OUTPUT_DIR; a run of count N writes N shards for wharf featurize "
      "merge";
  job.params = {{"images", true, "image folder tree, IDX images file or IDX directory"},
                {"model", false, "Modelfile whose CNN is cut (or raw: true)"},
                {"raw", false, "true: the pixels are the features"},
                {"layer", false, "where to cut the network (default: the penultimate layer)"},
                {"engine", false, "torchscript | onnx"},
                {"device", false, "cpu | cuda"},
                {"color", false, "none | gray | replicate"},
                {"size", false, "with raw: WIDTHxHEIGHT"},
                {"classes", false, "IDX input: class names, one per line"},
                {"batch_size", false, "images per forward pass"},
                {"on_error", false, "skip | fail: an image that cannot be read"}};
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    std::vector<std::string> argv = {context.wharf_executable.string(), "featurize", "--out",
                                     context.output_dir.string(), "--threads", Threads(context)};
    // Each task of the run takes its slice of the images.
    if (context.count > 1) argv.insert(argv.end(), {"--shard", fmt::format("{}/{}", context.index, context.count)});
    WHARF_RETURN_IF_ERROR(AddOptions(argv, p,
                                     {{"images", "--images"},
                                      {"model", "--model"},
                                      {"layer", "--layer"},
                                      {"engine", "--engine"},
                                      {"device", "--device"},
                                      {"color", "--color"},
                                      {"size", "--size"},
                                      {"classes", "--classes"},
                                      {"batch_size", "--batch-size"},
                                      {"on_error", "--on-error"}}));
    WHARF_ASSIGN_OR_RETURN(bool raw, Flag(p, "raw"));
    if (raw) argv.push_back("--raw");
    return argv;
  };
  return job;
}

JobType PcaJob() {
  JobType job;
  job.name = "pca";
  job.description = "Fit a PCA on a feature table (wharf pca fit): Modelfile, curve and reduced tables in OUTPUT_DIR";
  job.params = {{"table", true, "feature table (CSV), e.g. a featurize task's train.csv"},
                {"transform", false, "other tables to project: a path or a list"},
                {"components", false, "keep exactly this many components"},
                {"explained_variance", false, "keep the fewest components explaining this share (default 0.95)"},
                {"keep", false, "text columns carried along: a name or a list (default path, label)"},
                {"seed", false, "seed of the randomized SVD"}};
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    WHARF_ASSIGN_OR_RETURN(std::string table, Scalar(p, "table"));
    std::vector<std::string> argv = {context.wharf_executable.string(), "pca", "fit", std::move(table), "--out",
                                     context.output_dir.string()};
    WHARF_RETURN_IF_ERROR(AddOptions(
        argv, p, {{"components", "--components"}, {"explained_variance", "--explained-variance"}, {"seed", "--seed"}}));
    WHARF_RETURN_IF_ERROR(AddRepeated(argv, p, "transform", "--transform"));
    WHARF_RETURN_IF_ERROR(AddRepeated(argv, p, "keep", "--keep"));
    return argv;
  };
  return job;
}

JobType PredictJob() {
  JobType job;
  job.name = "predict";
  job.description = "Predict a CSV in batch (wharf predict) into OUTPUT_DIR/predictions.csv";
  job.params = {{"model", true, "Modelfile path, or model:NAME[@VERSION|@ALIAS]"},
                {"input", true, "input CSV"},
                {"proba", false, "true: add a probability column per class"},
                {"top_k", false, "add the k most probable classes"},
                {"batch_rows", false, "rows per batch"}};
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    std::vector<std::string> argv = {context.wharf_executable.string(), "predict", "--output",
                                     (context.output_dir / "predictions.csv").string()};
    WHARF_RETURN_IF_ERROR(
        AddOptions(argv, p, {{"model", "--model"}, {"input", "--input"}, {"top_k", "--top-k"}, {"batch_rows", "--batch-rows"}}));
    WHARF_ASSIGN_OR_RETURN(bool proba, Flag(p, "proba"));
    if (proba) argv.push_back("--proba");
    return argv;
  };
  return job;
}

JobType EvaluateJob() {
  JobType job;
  job.name = "evaluate";
  job.description = "Score a Modelfile on a labelled CSV (wharf evaluate --json); the metrics are the task's stdout";
  job.params = {{"model", true, "Modelfile path, or model:NAME[@VERSION|@ALIAS]"}, {"input", true, "labelled CSV"}};
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    std::vector<std::string> argv = {context.wharf_executable.string(), "evaluate", "--json"};
    WHARF_RETURN_IF_ERROR(AddOptions(argv, p, {{"model", "--model"}, {"input", "--input"}}));
    return argv;
  };
  return job;
}

JobType ServeJob() {
  JobType job;
  job.name = "serve";
  job.description = "Serve a model over HTTP (wharf serve) until the task is stopped";
  job.params = {{"model", false, "Modelfile path, or model:NAME[@VERSION|@ALIAS]"},
                {"name", false, "endpoint name (default: model)"},
                {"config", false, "endpoint YAML instead of model"},
                {"host", false, "address to bind (default 127.0.0.1)"},
                {"port", false, "port (default 8080)"},
                {"capture", false, "off | async | durable"},
                {"announce", false, "true: open an admin port and write its URL to the output dir's replica.json"},
                {"admin_token_file", false, "bearer token that reloads over the admin port must carry"},
                {"replica_group", false, "share the port with the replicas of this group only (set by endpoints)"}};
  job.argv = [](const json& p, const JobContext& context) -> Result<std::vector<std::string>> {
    if (p.contains("model") == p.contains("config")) return InvalidArgument("params: serve needs model or config");
    std::vector<std::string> argv = {context.wharf_executable.string(), "serve", "--threads", Threads(context)};
    if (p.contains("model")) {
      WHARF_ASSIGN_OR_RETURN(std::string path, Scalar(p, "model"));
      const std::string name = p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : "model";
      argv.push_back("--model");
      argv.push_back(name + "=" + path);
    }
    WHARF_RETURN_IF_ERROR(AddOptions(argv, p,
                                     {{"config", "--config"},
                                      {"host", "--host"},
                                      {"port", "--port"},
                                      {"capture", "--capture"},
                                      {"admin_token_file", "--admin-token-file"},
                                      {"replica_group", "--replica-group"}}));
    WHARF_ASSIGN_OR_RETURN(const bool announce, Flag(p, "announce"));
    if (announce) {
      argv.insert(argv.end(), {"--admin-port", "0", "--announce", (context.output_dir / "replica.json").string()});
    }
    return argv;
  };
  return job;
}

}  // namespace

void RegisterBuiltinJobs(control::JobRegistry& jobs) {
  for (JobType job : {TrainJob(), DlTrainJob(), FeaturizeJob(), PcaJob(), PredictJob(), EvaluateJob(), ServeJob()}) {
    WHARF_CHECK(jobs.Add(std::move(job)).ok());
  }
}

}  // namespace wharf::cli
