#include "ml/predict.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "data/dataset.h"
#include "ml/label_map.h"

namespace wharf::ml {

namespace {

// A CSV field: quoted when it holds a delimiter, quote or line break.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

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

}  // namespace

Result<PredictResult> PredictCsv(const artifact::Model& model, const PredictOptions& options) {
  const auto& schema = model.schema();
  const std::size_t width = model.output_width();
  if (options.top_k > schema.classes.size()) {
    return InvalidArgument(fmt::format("--top-k {} exceeds the model's {} classes", options.top_k,
                                       schema.classes.size()));
  }
  WHARF_ASSIGN_OR_RETURN(auto reader,
                         data::CsvFeatureReader::Open(options.input, {schema.label, false, schema.features}));
  std::optional<OutputFile> out;
  if (options.output) {
    WHARF_ASSIGN_OR_RETURN(OutputFile file, OutputFile::Open(*options.output));
    out.emplace(std::move(file));
    out->Write(Header(schema, options));
  }
  const LabelMap labels(schema.classes);
  std::optional<ConfusionMatrix> confusion;
  if (reader->has_label()) confusion.emplace(schema.classes.size());

  PredictResult result;
  std::vector<float> x, proba;
  std::vector<std::string> truth;
  std::vector<std::size_t> order(width);
  std::string text;
  for (;;) {
    x.clear();
    truth.clear();
    WHARF_ASSIGN_OR_RETURN(std::size_t rows, reader->ReadBatch(options.batch_rows, x, &truth));
    if (rows == 0) break;
    proba.resize(rows * width);
    WHARF_RETURN_IF_ERROR(model.Predict(x.data(), rows, proba.data()));
    text.clear();
    for (std::size_t r = 0; r < rows; ++r) {
      const float* p = proba.data() + r * width;
      std::iota(order.begin(), order.end(), 0);
      const std::size_t ranked = std::max<std::size_t>(options.top_k, 1);
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(ranked), order.end(),
                        [p](std::size_t a, std::size_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
      const auto best = static_cast<int>(order[0]);
      if (confusion) {
        auto t = labels.Find(truth[r]);
        if (!t) {
          return InvalidArgument(fmt::format("{}: data row {}: label '{}' is not a class of this model ({})",
                                             options.input.string(), result.rows + r + 1, truth[r],
                                             fmt::join(schema.classes, ", ")));
        }
        confusion->Add(*t, best);
      }
      if (!out) continue;
      text += CsvField(schema.classes[order[0]]);
      if (options.probabilities) {
        for (std::size_t c = 0; c < width; ++c) fmt::format_to(std::back_inserter(text), ",{:.6g}", p[c]);
      }
      for (std::size_t k = 0; k < options.top_k; ++k) {
        fmt::format_to(std::back_inserter(text), ",{},{:.6g}", CsvField(schema.classes[order[k]]), p[order[k]]);
      }
      text += '\n';
    }
    if (out) out->Write(text);
    result.rows += rows;
  }
  if (out) WHARF_RETURN_IF_ERROR(out->Commit());
  if (confusion) result.metrics = confusion->Compute(schema.classes);
  return result;
}

}  // namespace wharf::ml
