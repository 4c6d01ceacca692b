#include "control/model_registry.h"

#include <unistd.h>

#include <charconv>
#include <fstream>

#include <fmt/format.h>

#include "artifact/modelfile.h"
#include "core/clock.h"
#include "core/file.h"

namespace wharf::control {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json ParseOrEmpty(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json::object() : j;
}

// Writes `bytes` to `target`, failing with AlreadyExists rather than
// replacing a file already there: a temporary file hard-linked into place.
Status WriteNoReplace(const std::string& bytes, const fs::path& target) {
  const fs::path temp = target.parent_path() / fmt::format(".Modelfile.tmp.{}", ::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) return IoError(temp.string() + ": cannot write");
  }
  std::error_code ec;
  fs::create_hard_link(temp, target, ec);
  std::error_code ignored;
  fs::remove(temp, ignored);
  if (ec == std::errc::file_exists) return AlreadyExists(target.string() + " already exists");
  if (ec) return IoError(fmt::format("{}: cannot create: {}", target.string(), ec.message()));
  return Status::Ok();
}

// Copies `bytes` to MODELS_DIR/NAME/N/Modelfile for the first N from
// `first` whose slot is free (one left by a crashed or concurrent register
// is skipped), returning the path.
Result<fs::path> StoreCopy(const fs::path& models_dir, std::string_view name, int first, const std::string& bytes) {
  const fs::path model_dir = fs::absolute(models_dir) / std::string(name);
  for (int n = first; n < first + 100; ++n) {
    const fs::path dir = model_dir / std::to_string(n);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError(fmt::format("{}: cannot create: {}", dir.string(), ec.message()));
    Status s = WriteNoReplace(bytes, dir / "Modelfile");
    if (s.ok()) return dir / "Modelfile";
    if (s.code() != StatusCode::kAlreadyExists) return s;
  }
  return Internal(fmt::format("{}: no free version directory", model_dir.string()));
}

}  // namespace

Result<store::ModelVersion> RegisterModelfile(store::MetadataStore& store, const fs::path& models_dir,
                                              const ModelRegistration& r) {
  WHARF_RETURN_IF_ERROR(store::ValidateName("model", r.model));
  if (!r.alias.empty()) WHARF_RETURN_IF_ERROR(store::ValidateModelAlias(r.alias));
  WHARF_ASSIGN_OR_RETURN(std::string bytes, ReadFile(r.modelfile));
  WHARF_ASSIGN_OR_RETURN(artifact::Modelfile file, artifact::ParseModelfile(bytes, r.modelfile.string()));

  const json& h = file.header;
  const json metrics = h.contains("metrics") ? h["metrics"] : json::object();
  json lineage = {{"source", fs::absolute(r.modelfile).string()}};
  const json train = h.value("data", json::object()).value("train", json::object());
  if (train.is_object() && train.contains("sha256")) lineage["data_sha256"] = train["sha256"];
  const json estimator = h.value("estimator", json::object());
  if (estimator.is_object() && estimator.contains("kind")) lineage["estimator"] = estimator["kind"];
  if (h.contains("created_at")) lineage["created_at"] = h["created_at"];
  for (const auto& [key, value] : r.lineage.items()) lineage[key] = value;

  int next = 1;
  if (auto versions = store.ListModelVersions(r.model); versions.ok() && !versions.value().empty()) {
    next = versions.value().back().version + 1;
  }
  WHARF_ASSIGN_OR_RETURN(fs::path path, StoreCopy(models_dir, r.model, next, bytes));
  WHARF_ASSIGN_OR_RETURN(store::ModelVersion v,
                         store.RegisterModelVersion(r.model, path.string(), metrics.dump(), lineage.dump()));
  if (!r.alias.empty()) WHARF_RETURN_IF_ERROR(store.SetAlias(r.model, r.alias, v.version));
  return v;
}

Result<ModelRef> ParseModelRef(std::string_view text) {
  ModelRef ref;
  const auto at = text.find('@');
  ref.model = std::string(text.substr(0, at));
  WHARF_RETURN_IF_ERROR(store::ValidateName("model", ref.model));
  if (at == std::string_view::npos) return ref;
  const std::string_view which = text.substr(at + 1);
  int number = 0;
  const auto [end, err] = std::from_chars(which.data(), which.data() + which.size(), number);
  if (!which.empty() && err == std::errc() && end == which.data() + which.size()) {
    if (number < 1) return InvalidArgument(fmt::format("model reference '{}': versions start at 1", text));
    ref.version_or_alias = number;
  } else {
    WHARF_RETURN_IF_ERROR(store::ValidateModelAlias(which));
    ref.version_or_alias = std::string(which);
  }
  return ref;
}

Result<store::ModelVersion> ResolveModelRef(store::MetadataStore& store, const ModelRef& ref) {
  if (ref.version_or_alias) return store.GetModelVersion(ref.model, *ref.version_or_alias);
  WHARF_ASSIGN_OR_RETURN(std::vector<store::ModelVersion> versions, store.ListModelVersions(ref.model));
  return versions.back();
}

json TimeToJson(std::int64_t us) { return us == 0 ? json(nullptr) : json(FormatTimeUtc(us)); }

json ModelVersionToJson(const store::ModelVersion& v, const std::map<std::string, int>& aliases) {
  json j = {{"model", v.model},
            {"version", v.version},
            {"path", v.modelfile_path},
            {"created_at", TimeToJson(v.created_us)},
            {"metrics", ParseOrEmpty(v.metrics_json)},
            {"lineage", ParseOrEmpty(v.lineage_json)},
            {"aliases", json::array()}};
  for (const auto& [alias, version] : aliases) {
    if (version == v.version) j["aliases"].push_back(alias);
  }
  return j;
}

}  // namespace wharf::control
