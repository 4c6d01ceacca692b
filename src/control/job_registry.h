#pragma once
// Built-in jobs a task definition may name instead of a command ("train",
// "predict", ...). The control plane knows no ML: the composition root (cli)
// registers each job as a way to turn parameters into the argv of a child
// `wharf` process that runs that one job.
// Thread-safe after registration: Add during start-up, then only read.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace wharf::control {

// One parameter of a job.
struct JobParam {
  std::string name;
  bool required = false;
  std::string description;
};

// What a job's argv is built from, besides its parameters.
struct JobContext {
  std::filesystem::path wharf_executable;  // the binary that runs the job
  std::filesystem::path output_dir;        // where the job must write its outputs
  double cpus = 1;                         // declared per rank; jobs size their thread pools by it
  std::uint32_t ranks = 1;                 // declared; a job that can splits its work over this many processes
  int index = 0, count = 1;                // the task's place in its run: a job that can takes shard index/count
};

// A built-in job.
struct JobType {
  std::string name;
  std::string description;
  std::vector<JobParam> params;
  // The argv of the child process; params are already checked against
  // `params` (required present, no unknown names) and resolved (artifact:
  // and model: references replaced by paths). InvalidArgument naming the
  // parameter for a bad value.
  std::function<Result<std::vector<std::string>>(const nlohmann::json& params, const JobContext& context)> argv;
  bool produces_model = false;  // on success, output_dir/Modelfile is registered as a model version
};

class JobRegistry {
 public:
  // AlreadyExists for a second job of one name.
  Status Add(JobType job);
  const JobType* Find(const std::string& name) const;  // nullptr if unknown
  const std::map<std::string, JobType>& jobs() const { return jobs_; }

  // OK if `params` (an object) has every required parameter of `job` and
  // no other; InvalidArgument naming the first offender ("params.foo").
  static Status CheckParams(const JobType& job, const nlohmann::json& params);

 private:
  std::map<std::string, JobType> jobs_;
};

}  // namespace wharf::control
