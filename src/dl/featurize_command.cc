// `wharf featurize`: images -> a CNN's features, as CSV and .npy tables
// (data/feature_table.h), in parallel, optionally one shard of many; and
// `wharf featurize merge`, which joins the shards into what one run writes.
//
// Inputs: an image folder tree (label = the parent folder's name; a tree of
// SPLIT/CLASS/IMAGE, like Fruits-360's Training/ and Test/, gives one table
// per split), an IDX images file, or a directory of IDX files (train and
// test tables). Images are listed and sorted first, then cut into batches;
// a shard takes a contiguous run of whole batches, so every image goes
// through the network in the same batch whether sharded or not, and the
// merged shards are byte for byte the single run's tables.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "cli/exit_code.h"
#include "core/file.h"
#include "core/json_depth.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "core/version.h"
#include "data/feature_table.h"
#include "data/image_set.h"
#include "dl/commands.h"
#include "dl/featurizer.h"
#include "dl/image_codec.h"
#include "dl/training_sets.h"

namespace wharf::dl {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kManifest[] = "features.json";

struct Flags {
  fs::path images, model, out, classes;
  bool raw = false, list_layers = false;
  std::string layer, engine, device = "cpu", color = "none", shard, on_error = "skip", size;
  std::size_t batch_size = 64;
  int threads = 0;
};

// One image to featurize: a file, or an image inside an IDX array.
struct Item {
  std::string path;   // as written in the table: relative to the input, or FILE#index
  std::string label;  // empty when unlabelled
  fs::path file;      // empty for an IDX image
  std::size_t idx_image = 0;
};

// The images of one output table.
struct Split {
  std::string name;  // the table's file stem
  std::vector<Item> items;
  std::shared_ptr<const data::ImageSet> idx;  // an IDX split's pixels
};

struct Inputs {
  std::vector<Split> splits;
  bool labelled = false;
};

// `--classes` names, then the label numbers for any label it does not name.
Result<std::vector<std::string>> ClassNamesFor(const fs::path& classes, std::size_t count) {
  std::vector<std::string> names;
  if (!classes.empty()) {
    WHARF_ASSIGN_OR_RETURN(names, ClassNames(classes.string()));
  }
  for (std::size_t i = names.size(); i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

Result<Split> IdxSplit(const std::string& name, const fs::path& images, const fs::path& classes) {
  const fs::path labels = data::IdxLabelsFor(images);
  WHARF_ASSIGN_OR_RETURN(data::ImageSet set, data::ReadIdxImages(images, labels));
  int top = -1;
  for (const int l : set.labels) top = std::max(top, l);
  WHARF_ASSIGN_OR_RETURN(const std::vector<std::string> names, ClassNamesFor(classes, static_cast<std::size_t>(top + 1)));
  Split split{name, {}, nullptr};
  for (std::size_t i = 0; i < set.count; ++i) {
    split.items.push_back({fmt::format("{}#{}", images.filename().string(), i),
                           set.labels.empty() ? "" : names[static_cast<std::size_t>(set.labels[i])], {}, i});
  }
  split.idx = std::make_shared<const data::ImageSet>(std::move(set));
  return split;
}

// Lists the input: IDX, or an image folder tree.
Result<Inputs> ListInputs(const Flags& f) {
  std::error_code ec;
  Inputs inputs;
  if (!fs::exists(f.images, ec)) return NotFound(fmt::format("--images {}: no such file or directory", f.images.string()));
  if (!fs::is_directory(f.images, ec)) {
    WHARF_ASSIGN_OR_RETURN(Split split, IdxSplit("features", f.images, f.classes));
    inputs.labelled = !split.idx->labels.empty();
    inputs.splits.push_back(std::move(split));
    return inputs;
  }
  if (const fs::path train = data::FindIdxImages(f.images, "train"); !train.empty()) {
    WHARF_ASSIGN_OR_RETURN(Split t, IdxSplit("train", train, f.classes));
    inputs.labelled = !t.idx->labels.empty();
    inputs.splits.push_back(std::move(t));
    if (const fs::path test = data::FindIdxImages(f.images, "t10k"); !test.empty()) {
      WHARF_ASSIGN_OR_RETURN(Split t10k, IdxSplit("test", test, f.classes));
      inputs.splits.push_back(std::move(t10k));
    }
    return inputs;
  }
  // An image tree: every image file under the root, sorted by path.
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(f.images, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && data::HasImageExtension(it->path())) files.push_back(it->path().lexically_relative(f.images));
  }
  if (ec) return IoError(fmt::format("--images {}: {}", f.images.string(), ec.message()));
  if (files.empty()) return InvalidArgument(fmt::format("--images {}: no image files under it", f.images.string()));
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  std::size_t depth = 0;
  bool same_depth = true;
  for (const auto& p : files) {
    const std::size_t d = static_cast<std::size_t>(std::distance(p.begin(), p.end()));
    same_depth = same_depth && (depth == 0 || d == depth);
    depth = d;
  }
  // SPLIT/CLASS/IMAGE: one table per split; otherwise one table, labelled
  // by the parent folder (none for images at the root).
  const bool by_split = same_depth && depth == 3;
  std::map<std::string, Split> splits;
  for (const auto& p : files) {
    const std::string split = by_split ? p.begin()->string() : "features";
    const std::string label = p.has_parent_path() ? p.parent_path().filename().string() : "";
    auto& s = splits.try_emplace(split, Split{split, {}, nullptr}).first->second;
    s.items.push_back({p.generic_string(), label, f.images / p, 0});
    inputs.labelled = inputs.labelled || !label.empty();
  }
  for (auto& [name, split] : splits) inputs.splits.push_back(std::move(split));
  return inputs;
}

Result<std::pair<std::size_t, std::size_t>> ParseShard(const std::string& text) {
  const std::size_t slash = text.find('/');
  std::size_t index = 0, count = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    index = std::stoul(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("junk");
    count = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    return InvalidArgument(fmt::format("--shard '{}': give INDEX/COUNT, e.g. 0/4", text));
  }
  if (count == 0 || index >= count) {
    return InvalidArgument(fmt::format("--shard {}: the index must be below the count (0/{} .. {}/{})", text, count,
                                       count == 0 ? 0 : count - 1, count));
  }
  return std::pair{index, count};
}

Result<ColorConversion> ParseColor(const std::string& color) {
  if (color == "none") return ColorConversion::kNone;
  if (color == "gray") return ColorConversion::kGray;
  if (color == "replicate") return ColorConversion::kReplicate;
  return InvalidArgument(fmt::format("--color {}: use none, gray or replicate", color));
}

// One image decoded into its input row, or why not.
Status Decode(const Split& split, const Item& item, const ImageShape& shape, ColorConversion color, float* row) {
  if (split.idx) {
    const data::ImageSet& set = *split.idx;
    return ConvertGrayPixelsTo(set.pixels.data() + item.idx_image * set.image_bytes(), static_cast<std::int64_t>(set.height),
                               static_cast<std::int64_t>(set.width), shape, color, row);
  }
  WHARF_ASSIGN_OR_RETURN(const std::string bytes, ReadFile(item.file));
  return DecodeImageFileTo(bytes, shape, color, row);
}

// A batch decoded: rows of the images that decoded, and why the others did not.
struct Decoded {
  std::vector<float> x;
  std::vector<std::size_t> ok;                              // item indices, in order
  std::vector<std::pair<std::size_t, std::string>> failed;  // item index, reason
};

Decoded DecodeBatch(const Split& split, std::size_t begin, std::size_t end, const ImageShape& shape,
                    ColorConversion color, int threads) {
  const std::size_t width = static_cast<std::size_t>(shape.channels * shape.height * shape.width);
  std::vector<float> rows((end - begin) * width);
  std::vector<Status> status(end - begin, Status::Ok());
  ParallelFor(end - begin, threads, [&](std::size_t i) {
    status[i] = Decode(split, split.items[begin + i], shape, color, rows.data() + i * width);
  });
  Decoded d;
  for (std::size_t i = 0; i < end - begin; ++i) {
    if (status[i].ok()) {
      if (d.ok.size() != i) std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(i * width), width,
                                        rows.begin() + static_cast<std::ptrdiff_t>(d.ok.size() * width));
      d.ok.push_back(begin + i);
    } else {
      d.failed.emplace_back(begin + i, status[i].message());
    }
  }
  rows.resize(d.ok.size() * width);
  d.x = std::move(rows);
  return d;
}

// The shape a --raw run reads images at: --size, else the first image's, at --color's channels.
Result<ImageShape> RawShape(const Flags& f, const Inputs& inputs, ColorConversion color) {
  const Split& first = inputs.splits.front();
  ImageShape shape;
  if (first.idx) {
    shape = {1, static_cast<std::int64_t>(first.idx->height), static_cast<std::int64_t>(first.idx->width)};
  } else {
    data::ImageFolder folder;
    folder.files = {first.items.front().file};
    WHARF_ASSIGN_OR_RETURN(shape, FirstImageShape(folder, 0));
  }
  if (color == ColorConversion::kGray) shape.channels = 1;
  if (color == ColorConversion::kReplicate) shape.channels = 3;
  if (!f.size.empty()) {
    unsigned w = 0, h = 0;
    char x = 0, extra = 0;
    if (std::sscanf(f.size.c_str(), "%u%c%u%c", &w, &x, &h, &extra) != 3 || x != 'x' || w == 0 || h == 0 ||
        static_cast<std::int64_t>(w) * h > kMaxImagePixels) {
      return InvalidArgument(fmt::format("--size {}: give WIDTHxHEIGHT, e.g. 28x28", f.size));
    }
    shape.width = w;
    shape.height = h;
  }
  return shape;
}

Status Featurize(const Flags& f) {
  if (f.raw == !f.model.empty()) return InvalidArgument("give --model MODELFILE (a CNN to cut) or --raw (pixels as features)");
  if (!f.size.empty() && !f.raw) return InvalidArgument("--size goes with --raw; a network's input size is its own");
  if (f.batch_size == 0) return InvalidArgument("--batch-size must be at least 1");
  if (f.on_error != "skip" && f.on_error != "fail") return InvalidArgument("--on-error: use skip or fail");
  WHARF_ASSIGN_OR_RETURN(const ColorConversion color, ParseColor(f.color));
  std::pair<std::size_t, std::size_t> shard{0, 1};
  if (!f.shard.empty()) {
    WHARF_ASSIGN_OR_RETURN(shard, ParseShard(f.shard));
  }
  const int threads = f.threads > 0 ? f.threads : HardwareThreads();

  std::unique_ptr<Featurizer> featurizer;
  json model_json = nullptr;
  if (!f.raw) {
    WHARF_ASSIGN_OR_RETURN(const artifact::Modelfile file, artifact::ReadModelfile(f.model));
    Result<std::unique_ptr<Featurizer>> loaded = LoadFeaturizer(file, {f.layer, f.engine, f.device, threads});
    if (!loaded.ok()) return InvalidArgument(fmt::format("--model {}: {}", f.model.string(), loaded.status().message()));
    featurizer = std::move(*loaded);
    WHARF_ASSIGN_OR_RETURN(const std::string sha, Sha256OfFile(f.model));
    model_json = {{"path", f.model.string()}, {"sha256", sha}, {"engine", f.engine.empty() ? file.header["estimator"].value("kind", "") : f.engine}};
  }
  WHARF_ASSIGN_OR_RETURN(const Inputs inputs, ListInputs(f));
  if (f.raw) {
    WHARF_ASSIGN_OR_RETURN(const ImageShape shape, RawShape(f, inputs, color));
    featurizer = RawPixels(shape);
  }
  const ImageShape shape = featurizer->input();

  // The layout of every table, from the whole input (not this shard's part).
  data::FeatureTableLayout layout;
  layout.labelled = inputs.labelled;
  const char* prefix = f.raw ? "p" : "f";
  for (std::size_t i = 0; i < featurizer->width(); ++i) layout.feature_names.push_back(fmt::format("{}{}", prefix, i + 1));
  std::size_t total = 0, batches = 0;
  for (const auto& split : inputs.splits) {
    total += split.items.size();
    batches += (split.items.size() + f.batch_size - 1) / f.batch_size;
    for (const auto& item : split.items) {
      layout.path_chars = std::max(layout.path_chars, item.path.size());
      layout.label_chars = std::max(layout.label_chars, item.label.size());
    }
  }
  // This shard's batches: [first, last) of all splits' batches in order.
  const std::size_t first = shard.first * batches / shard.second, last = (shard.first + 1) * batches / shard.second;

  std::error_code ec;
  fs::create_directories(f.out, ec);
  if (ec) return IoError(fmt::format("--out {}: {}", f.out.string(), ec.message()));
  fmt::print(stderr, "Featurizing {} images{} ({}x{}x{} input, {} features from {}) with {} threads\n",
             total, shard.second > 1 ? fmt::format(", shard {}/{} (batches {}..{} of {})", shard.first, shard.second, first, last, batches) : "",
             shape.channels, shape.height, shape.width, featurizer->width(), f.raw ? "pixels" : "layer " + featurizer->layer(), threads);

  const auto start = std::chrono::steady_clock::now();
  json skipped = json::array(), tables = json::object();
  std::size_t done = 0, batch_number = 0;
  double forward_seconds = 0;  // in the network alone
  std::vector<float> features;
  for (const auto& split : inputs.splits) {
    WHARF_ASSIGN_OR_RETURN(auto writer, data::FeatureTableWriter::Create(f.out / split.name, layout));
    // The batches of this split that are this shard's, decoded one ahead of the network.
    std::vector<std::pair<std::size_t, std::size_t>> mine;
    for (std::size_t b = 0; b * f.batch_size < split.items.size(); ++b, ++batch_number) {
      if (batch_number >= first && batch_number < last) {
        mine.emplace_back(b * f.batch_size, std::min(split.items.size(), (b + 1) * f.batch_size));
      }
    }
    auto decode = [&](std::size_t k) {
      return std::async(std::launch::async, DecodeBatch, std::cref(split), mine[k].first, mine[k].second,
                        std::cref(shape), color, threads);
    };
    std::future<Decoded> next = mine.empty() ? std::future<Decoded>() : decode(0);
    for (std::size_t k = 0; k < mine.size(); ++k) {
      Decoded batch = next.get();
      if (k + 1 < mine.size()) next = decode(k + 1);
      for (const auto& [item, reason] : batch.failed) {
        const std::string& path = split.items[item].path;
        if (f.on_error == "fail") {
          return InvalidArgument(fmt::format("{}: {} (pass --on-error skip to leave such images out)",
                                             (f.images / path).string(), reason));
        }
        fmt::print(stderr, "skipped {}: {}\n", path, reason);
        skipped.push_back({{"path", path}, {"reason", reason}});
      }
      features.resize(batch.ok.size() * featurizer->width());
      const auto forward_start = std::chrono::steady_clock::now();
      WHARF_RETURN_IF_ERROR(featurizer->Run(batch.x.data(), batch.ok.size(), features.data()));
      forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - forward_start).count();
      for (std::size_t r = 0; r < batch.ok.size(); ++r) {
        const Item& item = split.items[batch.ok[r]];
        WHARF_RETURN_IF_ERROR(writer->Append(item.path, item.label, features.data() + r * featurizer->width()));
      }
      done += mine[k].second - mine[k].first;
    }
    WHARF_RETURN_IF_ERROR(writer->Finish());
    tables[split.name] = {{"rows", writer->rows()}, {"csv", split.name + ".csv"}, {"npy", split.name + ".npy"}};
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  json manifest = {{"wharf_version", kVersion},
                   {"input", fs::absolute(f.images).lexically_normal().string()},
                   {"images", total},
                   {"model", model_json},
                   {"layer", featurizer->layer()},
                   {"input_shape", {shape.channels, shape.height, shape.width}},
                   {"color", f.color},
                   {"resize", f.raw && f.size.empty() ? "none" : "area when shrinking, bilinear when enlarging"},
                   {"layout", {{"features", layout.feature_names.size()}, {"labelled", layout.labelled},
                               {"path_chars", layout.path_chars}, {"label_chars", layout.label_chars},
                               {"prefix", prefix}}},
                   {"batch_size", f.batch_size},
                   {"shard", {{"index", shard.first}, {"count", shard.second}}},
                   {"tables", tables},
                   {"processed", done},
                   {"skipped", skipped},
                   {"seconds", seconds},
                   {"forward_seconds", forward_seconds}};
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(f.out / kManifest, manifest.dump(2) + "\n"));
  fmt::print("Featurized {} images ({} skipped) in {:.1f} s ({:.0f} images/s): {} features each\n", done,
             skipped.size(), seconds, seconds > 0 ? static_cast<double>(done) / seconds : 0.0, featurizer->width());
  for (const auto& [name, t] : tables.items()) {
    fmt::print("  {} ({} rows; also {})\n", (f.out / t["csv"].get<std::string>()).string(), t["rows"].get<std::size_t>(),
               t["npy"].get<std::string>());
  }
  return Status::Ok();
}

Status ListLayersOf(const Flags& f) {
  if (f.model.empty()) return InvalidArgument("--list-layers needs --model");
  WHARF_ASSIGN_OR_RETURN(const artifact::Modelfile file, artifact::ReadModelfile(f.model));
  WHARF_ASSIGN_OR_RETURN(const std::vector<std::string> lines, ListLayers(file, {f.layer, f.engine, f.device, 1}));
  for (const auto& line : lines) fmt::print("{}\n", line);
  return Status::Ok();
}

// What identifies a run: shards of one run agree on all of it.
json RunIdentity(const json& m) {
  json id = m;
  for (const char* key : {"shard", "tables", "processed", "skipped", "seconds", "forward_seconds"}) id.erase(key);
  return id;
}

Status Merge(const std::vector<fs::path>& shards, const fs::path& out) {
  if (shards.empty()) return InvalidArgument("give the shards' output directories");
  std::vector<json> manifests(shards.size());
  std::size_t count = 0;
  std::map<std::size_t, std::size_t> by_index;  // shard index -> position in `shards`
  for (std::size_t i = 0; i < shards.size(); ++i) {
    WHARF_ASSIGN_OR_RETURN(const std::string text, ReadFile(shards[i] / kManifest));
    WHARF_RETURN_IF_ERROR(CheckJsonDepth(text, (shards[i] / kManifest).string()));
    manifests[i] = json::parse(text, nullptr, false);
    if (!manifests[i].is_object() || !manifests[i].contains("shard")) {
      return InvalidArgument(fmt::format("{}: not a featurize manifest", (shards[i] / kManifest).string()));
    }
    const std::size_t index = manifests[i]["shard"]["index"], n = manifests[i]["shard"]["count"];
    if (i > 0 && RunIdentity(manifests[i]) != RunIdentity(manifests[0])) {
      return InvalidArgument(fmt::format("{} and {} come from different runs (input, model, layer or layout differ)",
                                         shards[0].string(), shards[i].string()));
    }
    if (i > 0 && n != count) {
      return InvalidArgument(fmt::format("{} is shard {}/{}, but {} is of {}", shards[i].string(), index, n,
                                         shards[0].string(), count));
    }
    count = n;
    if (!by_index.emplace(index, i).second) {
      return InvalidArgument(fmt::format("shard {}/{} given twice: {} and {}", index, n, shards[by_index[index]].string(),
                                         shards[i].string()));
    }
  }
  std::vector<std::size_t> absent;
  for (std::size_t k = 0; k < count; ++k) {
    if (!by_index.count(k)) absent.push_back(k);
  }
  if (!absent.empty()) {
    return InvalidArgument(fmt::format("shards {} of {} are missing", fmt::join(absent, ", "), count));
  }
  const json& first = manifests[by_index[0]];
  data::FeatureTableLayout layout;
  const json& l = first["layout"];
  const std::string prefix = l["prefix"];
  for (std::size_t i = 0; i < l["features"].get<std::size_t>(); ++i) layout.feature_names.push_back(fmt::format("{}{}", prefix, i + 1));
  layout.labelled = l["labelled"];
  layout.path_chars = l["path_chars"];
  layout.label_chars = l["label_chars"];

  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return IoError(fmt::format("--out {}: {}", out.string(), ec.message()));
  json merged = first, tables = json::object(), skipped = json::array();
  std::size_t processed = 0;
  double seconds = 0, forward_seconds = 0;
  for (const auto& [name, table] : first["tables"].items()) {
    std::vector<fs::path> parts;
    std::size_t rows = 0;
    for (const auto& [index, at] : by_index) {
      parts.push_back(shards[at] / name);
      rows += manifests[at]["tables"][name]["rows"].get<std::size_t>();
    }
    WHARF_RETURN_IF_ERROR(data::ConcatFeatureTables(layout, parts, out / name));
    tables[name] = {{"rows", rows}, {"csv", name + ".csv"}, {"npy", name + ".npy"}};
    fmt::print("  {} ({} rows from {} shards)\n", (out / (name + ".csv")).string(), rows, count);
  }
  for (const auto& [index, at] : by_index) {
    processed += manifests[at]["processed"].get<std::size_t>();
    seconds += manifests[at]["seconds"].get<double>();
    forward_seconds += manifests[at].value("forward_seconds", 0.0);
    for (const auto& s : manifests[at]["skipped"]) skipped.push_back(s);
  }
  merged["shard"] = {{"index", 0}, {"count", 1}, {"merged_from", count}};
  merged["tables"] = tables;
  merged["processed"] = processed;
  merged["skipped"] = skipped;
  merged["seconds"] = seconds;
  merged["forward_seconds"] = forward_seconds;
  WHARF_RETURN_IF_ERROR(WriteFileAtomically(out / kManifest, merged.dump(2) + "\n"));
  fmt::print("Merged {} shards: {} images ({} skipped) -> {}\n", count, processed, skipped.size(), out.string());
  return Status::Ok();
}

int ParseAndRun(CLI::App& app, int argc, char** argv, const std::function<Status()>& run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  return cli::ExitWith(run());
}

}  // namespace

int RunFeaturize(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "merge") {
    std::vector<fs::path> shards;
    fs::path out;
    CLI::App app{"Join the shards of one featurize run into the tables a single run writes"};
    app.name("wharf featurize merge");
    app.add_option("shards", shards, "The shards' output directories (each with features.json)")->required();
    app.add_option("--out", out, "Output directory")->required();
    return ParseAndRun(app, argc - 1, argv + 1, [&] { return Merge(shards, out); });
  }
  Flags f;
  CLI::App app{"Turn images into a CNN's features (CSV and .npy), optionally one shard of many"};
  app.name("wharf featurize");
  app.footer("Then: wharf featurize merge SHARD_DIR... --out DIR; wharf pca fit TABLE.csv --out DIR");
  app.add_option("--images", f.images,
                 "An image folder tree (label: the parent folder; SPLIT/CLASS/IMAGE gives one table per split), an IDX "
                 "images file or a directory of IDX files");
  app.add_option("--model", f.model, "A Modelfile whose CNN is cut at --layer (TorchScript or ONNX)");
  app.add_flag("--raw", f.raw, "No network: the pixels are the features (a baseline)");
  app.add_option("--layer", f.layer, "Where to cut the network (default: the penultimate layer; see --list-layers)");
  app.add_flag("--list-layers", f.list_layers, "Print the layers --layer can name, and exit");
  app.add_option("--engine", f.engine, "torchscript | onnx (default: the Modelfile's own)");
  app.add_option("--device", f.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--color", f.color,
                 "Channels the network lacks: none (images must match), gray (colour -> gray), replicate (gray -> RGB)")
      ->check(CLI::IsMember({"none", "gray", "replicate"}))
      ->capture_default_str();
  app.add_option("--size", f.size, "With --raw: resize every image to WIDTHxHEIGHT (default: the first image's size)");
  app.add_option("--classes", f.classes, "IDX input: class names, one per line (default: the label numbers)");
  app.add_option("--out", f.out, "Output directory: one SPLIT.csv and SPLIT.npy per table, and features.json");
  app.add_option("--shard", f.shard, "INDEX/COUNT: featurize only this deterministic slice (e.g. $(WHARF_TASK_INDEX)/$(WHARF_TASK_COUNT))");
  app.add_option("--on-error", f.on_error, "An image that cannot be read: skip it (counted, logged) or fail")
      ->check(CLI::IsMember({"skip", "fail"}))
      ->capture_default_str();
  app.add_option("--batch-size", f.batch_size, "Images per forward pass")->capture_default_str();
  app.add_option("--threads", f.threads, "Cores for decoding and the network (default: all)");
  return ParseAndRun(app, argc, argv, [&]() -> Status {
    if (f.list_layers) return ListLayersOf(f);
    if (f.images.empty() || f.out.empty()) return InvalidArgument("--images and --out are required");
    return Featurize(f);
  });
}

}  // namespace wharf::dl
