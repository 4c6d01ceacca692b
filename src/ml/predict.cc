#include "ml/predict.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "core/file.h"
#include "data/dataset.h"
#include "data/query_source.h"
#include "data/image_set.h"
#include "data/text.h"
#include "ml/label_map.h"

namespace wharf::ml {

using data::CsvField;

namespace {

// Buffered output that lands at `path` only on Commit(); "-" is stdout.
class OutputFile {
 public:
  static Result<OutputFile> Open(const std::filesystem::path& path) {
    OutputFile f;
    f.path_ = path;
    if (path == "-") {
      f.file_ = stdout;
      return f;
    }
    f.temp_ = path.string() + fmt::format(".tmp-{}", getpid());
    f.file_ = std::fopen(f.temp_.c_str(), "wb");
    if (f.file_ == nullptr) return IoError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
    return f;
  }
  OutputFile(OutputFile&& o) noexcept
      : path_(std::move(o.path_)), temp_(std::move(o.temp_)), file_(std::exchange(o.file_, nullptr)) {}
  ~OutputFile() {
    if (file_ && file_ != stdout) {
      std::fclose(file_);
      std::remove(temp_.c_str());
    }
  }
  void Write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), file_); }
  Status Commit() {
    if (file_ == stdout) return std::fflush(stdout) == 0 ? Status::Ok() : IoError("cannot write to stdout");
    const bool ok = std::fflush(file_) == 0 && !std::ferror(file_) && fsync(fileno(file_)) == 0;
    std::fclose(std::exchange(file_, nullptr));
    if (!ok || std::rename(temp_.c_str(), path_.c_str()) != 0) {
      std::remove(temp_.c_str());
      return IoError(fmt::format("{}: cannot write: {}", path_.string(), std::strerror(errno)));
    }
    return Status::Ok();
  }

 private:
  OutputFile() = default;
  std::filesystem::path path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
};

// Orders class indexes by probability (ties: lower index first) far enough
// for the top k (at least 1); returns the best.
int Rank(const float* p, std::size_t top_k, std::vector<std::size_t>& order) {
  std::iota(order.begin(), order.end(), 0);
  const std::size_t ranked = std::max<std::size_t>(top_k, 1);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(ranked), order.end(),
                    [p](std::size_t a, std::size_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  return static_cast<int>(order[0]);
}

// One output row after Rank: prediction[,proba_*][,topK,topK_proba].
void AppendRow(const artifact::ModelSchema& schema, const PredictOptions& options, const float* p,
               const std::vector<std::size_t>& order, std::string& text) {
  text += CsvField(schema.classes[order[0]]);
  if (options.probabilities) {
    for (std::size_t c = 0; c < schema.classes.size(); ++c) fmt::format_to(std::back_inserter(text), ",{:.6g}", p[c]);
  }
  for (std::size_t k = 0; k < options.top_k; ++k) {
    fmt::format_to(std::back_inserter(text), ",{},{:.6g}", CsvField(schema.classes[order[k]]), p[order[k]]);
  }
  text += '\n';
}

std::string Header(const artifact::ModelSchema& schema, const PredictOptions& options) {
  std::string out = "prediction";
  if (options.probabilities) {
    for (const auto& c : schema.classes) {
      out += ',';
      out += CsvField("proba_" + c);
    }
  }
  for (std::size_t k = 1; k <= options.top_k; ++k) out += fmt::format(",top{0},top{0}_proba", k);
  return out + "\n";
}

// Where predictions go: a CSV file (or stdout), or a new database table
// with a `row` column (the input row, from 1) before the CSV's columns.
class PredictionSink {
 public:
  static Result<PredictionSink> Open(const artifact::ModelSchema& schema, const PredictOptions& options) {
    PredictionSink sink(schema, options);
    const std::string output = options.output->string();
    if (!data::IsQueryLocation(output)) {
      WHARF_ASSIGN_OR_RETURN(OutputFile file, OutputFile::Open(*options.output));
      sink.file_.emplace(std::move(file));
      sink.file_->Write(Header(schema, options));
      return sink;
    }
    using Type = data::TableColumn::Type;
    std::vector<data::TableColumn> columns = {{"row", Type::kInteger}, {"prediction", Type::kText}};
    if (options.probabilities) {
      for (const auto& c : schema.classes) columns.push_back({"proba_" + c, Type::kReal});
    }
    for (std::size_t k = 1; k <= options.top_k; ++k) {
      columns.push_back({fmt::format("top{}", k), Type::kText});
      columns.push_back({fmt::format("top{}_proba", k), Type::kReal});
    }
    WHARF_ASSIGN_OR_RETURN(const data::QueryLocation location, data::ParseQueryLocation(output));
    WHARF_ASSIGN_OR_RETURN(sink.table_, data::OpenTableWriter(location, columns, options.secrets));
    sink.cells_.resize(columns.size());
    return sink;
  }

  // One row, after Rank.
  Status Add(const float* p, const std::vector<std::size_t>& order) {
    ++rows_;
    if (file_) {
      AppendRow(schema_, options_, p, order, text_);
      return Status::Ok();
    }
    std::size_t i = 0;
    cells_[i++].number = static_cast<double>(rows_);
    cells_[i++].text = schema_.classes[order[0]];
    if (options_.probabilities) {
      for (std::size_t c = 0; c < schema_.classes.size(); ++c) cells_[i++].number = p[c];
    }
    for (std::size_t k = 0; k < options_.top_k; ++k) {
      cells_[i++].text = schema_.classes[order[k]];
      cells_[i++].number = p[order[k]];
    }
    return table_->Append(cells_);
  }

  // Writes what a batch added.
  void Flush() {
    if (file_) file_->Write(text_);
    text_.clear();
  }

  Status Commit() { return file_ ? file_->Commit() : table_->Commit(); }

 private:
  PredictionSink(const artifact::ModelSchema& schema, const PredictOptions& options)
      : schema_(schema), options_(options) {}

  const artifact::ModelSchema& schema_;
  const PredictOptions& options_;
  std::optional<OutputFile> file_;
  std::string text_;
  std::unique_ptr<data::TableWriter> table_;
  std::vector<data::TableCell> cells_;
  std::size_t rows_ = 0;
};

}  // namespace

Result<PredictResult> PredictCsv(const artifact::Model& model, const PredictOptions& options) {
  const auto& schema = model.schema();
  const std::size_t width = model.output_width();
  if (options.top_k > schema.classes.size()) {
    return InvalidArgument(fmt::format("--top-k {} exceeds the model's {} classes", options.top_k,
                                       schema.classes.size()));
  }
  WHARF_ASSIGN_OR_RETURN(auto reader, data::OpenFeatureSource(options.input.string(),
                                                              {schema.label, false, schema.features, {}},
                                                              options.secrets));
  std::optional<PredictionSink> out;
  if (options.output) {
    WHARF_ASSIGN_OR_RETURN(PredictionSink sink, PredictionSink::Open(schema, options));
    out.emplace(std::move(sink));
  }
  const LabelMap labels(schema.classes);
  std::optional<ConfusionMatrix> confusion;
  if (reader->has_label()) confusion.emplace(schema.classes.size());

  PredictResult result;
  std::vector<float> x, proba;
  std::vector<std::string> truth;
  std::vector<std::size_t> order(width);
  for (;;) {
    x.clear();
    truth.clear();
    WHARF_ASSIGN_OR_RETURN(std::size_t rows, reader->ReadBatch(options.batch_rows, x, &truth));
    if (rows == 0) break;
    proba.resize(rows * width);
    WHARF_RETURN_IF_ERROR(model.Predict(x.data(), rows, proba.data()));
    for (std::size_t r = 0; r < rows; ++r) {
      const float* p = proba.data() + r * width;
      const int best = Rank(p, options.top_k, order);
      if (confusion) {
        auto t = labels.Find(truth[r]);
        if (!t) {
          return InvalidArgument(fmt::format("{}: data row {}: label '{}' is not a class of this model ({})",
                                             reader->source_name(), result.rows + r + 1, truth[r],
                                             fmt::join(schema.classes, ", ")));
        }
        confusion->Add(*t, best);
      }
      if (out) WHARF_RETURN_IF_ERROR(out->Add(p, order));
    }
    if (out) out->Flush();
    result.rows += rows;
  }
  if (out) WHARF_RETURN_IF_ERROR(out->Commit());
  if (confusion) result.metrics = confusion->Compute(schema.classes);
  return result;
}

namespace {

// The images to predict: from an IDX file (pixels in hand) or files to decode.
struct ImageInputs {
  std::vector<std::string> names;
  std::vector<int> truth;                 // class index per image, or empty when unlabelled
  std::optional<data::ImageSet> idx;      // IDX pixels, or
  std::vector<std::filesystem::path> files;
};

Result<ImageInputs> ListImageInputs(const artifact::ModelSchema& schema, const std::filesystem::path& input) {
  namespace fs = std::filesystem;
  ImageInputs in;
  std::error_code ec;
  if (fs::is_regular_file(input, ec)) {
    WHARF_ASSIGN_OR_RETURN(data::ImageSet set, data::ReadIdxImages(input, data::IdxLabelsFor(input)));
    const auto& shape = schema.image_shape;
    if (shape[0] != 1 || static_cast<std::int64_t>(set.height) != shape[1] ||
        static_cast<std::int64_t>(set.width) != shape[2]) {
      return InvalidArgument(fmt::format("{}: images of 1x{}x{}, but the model takes {}x{}x{}", input.string(),
                                         set.height, set.width, shape[0], shape[1], shape[2]));
    }
    for (const int label : set.labels) {
      if (label < 0 || static_cast<std::size_t>(label) >= schema.classes.size()) {
        return InvalidArgument(fmt::format("{}: label {} is not a class index of this model (0..{})",
                                           data::IdxLabelsFor(input).string(), label, schema.classes.size() - 1));
      }
    }
    in.names = set.names;
    in.truth = set.labels;
    in.idx = std::move(set);
    return in;
  }
  if (!fs::is_directory(input, ec)) return NotFound(fmt::format("{}: no such file or directory", input.string()));
  if (auto folder = data::ListImageFolder(input); folder.ok()) {
    // One subfolder per class: the folder names are the truth.
    const LabelMap labels(schema.classes);
    for (std::size_t i = 0; i < folder->files.size(); ++i) {
      const std::string& name = folder->classes[static_cast<std::size_t>(folder->labels[i])];
      auto t = labels.Find(name);
      if (!t) {
        return InvalidArgument(fmt::format("{}: folder '{}' is not a class of this model ({})", input.string(), name,
                                           fmt::join(schema.classes, ", ")));
      }
      in.truth.push_back(*t);
      in.names.push_back(folder->files[i].string());
      in.files.push_back(folder->files[i]);
    }
    return in;
  }
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    if (entry.is_regular_file()) in.files.push_back(entry.path());
  }
  std::sort(in.files.begin(), in.files.end());
  for (const auto& f : in.files) in.names.push_back(f.string());
  if (in.files.empty()) return InvalidArgument(fmt::format("{}: no images in it", input.string()));
  return in;
}

}  // namespace

Result<PredictResult> PredictImages(const artifact::Model& model, const PredictOptions& options) {
  const auto& schema = model.schema();
  if (!schema.is_image()) return InvalidArgument("this model takes feature rows: predict a CSV");
  if (options.top_k > schema.classes.size()) {
    return InvalidArgument(fmt::format("--top-k {} exceeds the model's {} classes", options.top_k, schema.classes.size()));
  }
  WHARF_ASSIGN_OR_RETURN(ImageInputs in, ListImageInputs(schema, options.input));
  std::optional<OutputFile> out;
  if (options.output) {
    WHARF_ASSIGN_OR_RETURN(OutputFile file, OutputFile::Open(*options.output));
    out.emplace(std::move(file));
    out->Write("image," + std::string(in.truth.empty() ? "" : "label,") + Header(schema, options));
  }
  std::optional<ConfusionMatrix> confusion;
  if (!in.truth.empty()) confusion.emplace(schema.classes.size());
  const std::size_t width = schema.input_width(), classes = model.output_width();
  const std::size_t total = in.names.size();
  std::vector<float> x, proba;
  std::vector<std::size_t> order(classes);
  std::string text;
  for (std::size_t from = 0; from < total; from += options.batch_rows) {
    const std::size_t rows = std::min(options.batch_rows, total - from);
    x.resize(rows * width);
    for (std::size_t r = 0; r < rows; ++r) {
      float* row = x.data() + r * width;
      if (in.idx) {
        const std::uint8_t* pixels = in.idx->pixels.data() + (from + r) * width;
        for (std::size_t k = 0; k < width; ++k) row[k] = pixels[k] / 255.0f;
        continue;
      }
      WHARF_ASSIGN_OR_RETURN(std::string bytes, ReadFile(in.files[from + r]));
      const Status decoded = model.DecodeImage(bytes, row);
      if (!decoded.ok()) return InvalidArgument(fmt::format("{}: {}", in.names[from + r], decoded.message()));
    }
    proba.resize(rows * classes);
    WHARF_RETURN_IF_ERROR(model.Predict(x.data(), rows, proba.data()));
    text.clear();
    for (std::size_t r = 0; r < rows; ++r) {
      const float* p = proba.data() + r * classes;
      const int best = Rank(p, options.top_k, order);
      if (confusion) confusion->Add(in.truth[from + r], best);
      if (!out) continue;
      text += CsvField(in.names[from + r]) + ",";
      if (confusion) text += CsvField(schema.classes[static_cast<std::size_t>(in.truth[from + r])]) + ",";
      AppendRow(schema, options, p, order, text);
    }
    if (out) out->Write(text);
  }
  if (out) WHARF_RETURN_IF_ERROR(out->Commit());
  PredictResult result;
  result.rows = total;
  if (confusion) result.metrics = confusion->Compute(schema.classes);
  return result;
}

}  // namespace wharf::ml
