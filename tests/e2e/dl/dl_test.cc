// Deep learning as a user drives it: dl-train on Debian's Fashion-MNIST,
// predict (TorchScript and ONNX), export and import, and serving images
// over KServe v2 with and without dynamic batching.

#include <unistd.h>
#include <zlib.h>

#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "data/image_set.h"
#include "fashion_model.h"
#include "testing/http_client.h"
#include "testing/process.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wharf::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class DlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTestImages)) GTEST_SKIP() << kFashionMnist << " is missing (Debian package dataset-fashion-mnist)";
    EnsureModel();
    ASSERT_TRUE(fs::exists(Model()));
  }
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = text.find('\n', at);
    lines.push_back(text.substr(at, end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return lines;
}

// The prediction column (after image,label) of a predictions CSV.
std::vector<std::string> Predictions(const fs::path& csv) {
  std::vector<std::string> out;
  const auto lines = Lines(ReadFile(csv));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto first = lines[i].find(','), second = lines[i].find(',', first + 1);
    const auto third = lines[i].find(',', second + 1);
    out.push_back(lines[i].substr(second + 1, third - second - 1));
  }
  return out;
}

TEST_F(DlTest, TrainWritesAModelfileWithBothFormsAReportAndCheckpoints) {
  const std::string results = ReadFile(ModelDir() / "results.txt");
  EXPECT_NE(results.find("[Test]"), std::string::npos) << results;
  EXPECT_NE(results.find("Ankle boot"), std::string::npos);
  EXPECT_TRUE(fs::exists(ModelDir() / "checkpoints" / "epoch-2.pt"));
  auto inspect = RunWharf({"model", "inspect", "--json", Model().string()});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const json j = json::parse(inspect.out);
  EXPECT_EQ(j["header"]["estimator"]["kind"], "torchscript");
  EXPECT_EQ(j["header"]["schema"]["image"]["height"], 28);
  EXPECT_GT(j["header"]["metrics"]["validation"]["accuracy"].get<double>(), 0.6);
  std::vector<std::string> sections;
  for (const auto& s : j["sections"]) sections.push_back(s["name"]);
  EXPECT_EQ(sections, (std::vector<std::string>{"model.pt", "model.onnx"}));
}

TEST_F(DlTest, PredictScoresAnIdxFileWithTopK) {
  TempDir dir;
  auto r = RunWharf({"predict", "--model", Model().string(), "--input", kTestImages.string(), "--output",
                     (dir.path() / "p.csv").string(), "--top-k", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Accuracy"), std::string::npos) << r.out;
  const auto lines = Lines(ReadFile(dir.path() / "p.csv"));
  ASSERT_EQ(lines.size(), 10001u);
  EXPECT_EQ(lines[0], "image,label,prediction,top1,top1_proba,top2,top2_proba");
  EXPECT_EQ(lines[1].rfind("t10k-images-idx3-ubyte.gz#0,Ankle boot,", 0), 0u) << lines[1];
}

TEST_F(DlTest, TheOnnxFormExportedAndImportedPredictsLikeTheTorchScriptForm) {
  TempDir dir;
  const auto onnx = dir.path() / "net.onnx";
  auto exported = RunWharf({"model", "export", Model().string(), "--format", "onnx", "--output", onnx.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const json header = json::parse(RunWharf({"model", "inspect", "--json", Model().string()}).out)["header"];
  const auto mean = header["preprocessing"][0]["normalize"]["mean"][0].get<double>();
  const auto std = header["preprocessing"][0]["normalize"]["std"][0].get<double>();
  auto imported = RunWharf({"model", "import", "--onnx", onnx.string(), "--labels",
                            (SourceDir() / "examples/fashion-mnist/classes.txt").string(), "--input-shape", "1,28,28",
                            "--mean", std::to_string(mean), "--std", std::to_string(std), "--out",
                            (dir.path() / "Modelfile").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;

  for (const auto& [name, model, engine] :
       std::vector<std::tuple<std::string, fs::path, std::string>>{{"torchscript", Model(), "torchscript"},
                                                                   {"builtin-onnx", Model(), "onnx"},
                                                                   {"imported", dir.path() / "Modelfile", "onnx"}}) {
    auto r = RunWharf({"predict", "--model", model.string(), "--engine", engine, "--input", kTestImages.string(),
                       "--output", (dir.path() / (name + ".csv")).string()});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  const auto torchscript = Predictions(dir.path() / "torchscript.csv");
  ASSERT_EQ(torchscript.size(), 10000u);
  for (const char* other : {"builtin-onnx", "imported"}) {
    const auto onnx_predictions = Predictions(dir.path() / (std::string(other) + ".csv"));
    ASSERT_EQ(onnx_predictions.size(), torchscript.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < torchscript.size(); ++i) differ += torchscript[i] != onnx_predictions[i];
    // Float sums in another order may flip an exact tie; nothing more.
    EXPECT_LE(differ, 2u) << other;
  }
}

TEST_F(DlTest, BadInputIsAClearErrorWithExitCode2) {
  TempDir dir;
  auto missing = RunWharf({"dl-train", "--data", "/no/such/dir", "--out", dir.path().string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/no/such/dir"), std::string::npos) << missing.err;
  auto arch = RunWharf({"dl-train", "--data", kFashionMnist.string(), "--arch", "vgg", "--limit", "64", "--out",
                        dir.path().string()});
  EXPECT_EQ(arch.exit_code, 2);
  EXPECT_NE(arch.err.find("lenet"), std::string::npos) << arch.err;
  auto cuda = RunWharf({"dl-train", "--data", kFashionMnist.string(), "--device", "cuda", "--out", dir.path().string()});
  if (cuda.exit_code != 0) {
    EXPECT_EQ(cuda.exit_code, 2);
    EXPECT_NE(cuda.err.find("CUDA"), std::string::npos) << cuda.err;
  }
  auto help = RunWharf({"dl-train", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--arch"), std::string::npos);
}

// ---- serving ----

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void Chunk(std::string& png, const std::string& type, const std::string& data) {
  const auto n = static_cast<std::uint32_t>(data.size());
  for (int s = 24; s >= 0; s -= 8) png += static_cast<char>((n >> s) & 0xff);
  const std::string body = type + data;
  png += body;
  const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  for (int s = 24; s >= 0; s -= 8) png += static_cast<char>((crc >> s) & 0xff);
}

// An 8-bit grayscale PNG of width x height holding `pixels` (row-major).
std::string Png(std::uint32_t width, std::uint32_t height, const std::uint8_t* pixels) {
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  for (const auto v : {width, height}) {
    for (int s = 24; s >= 0; s -= 8) ihdr += static_cast<char>((v >> s) & 0xff);
  }
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // depth 8, grayscale, deflate, no filter, no interlace
  Chunk(png, "IHDR", ihdr);
  std::string raw;
  for (std::uint32_t y = 0; y < height; ++y) {
    raw += '\0';  // filter: none
    raw.append(reinterpret_cast<const char*>(pixels + y * width), width);
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string idat(size, '\0');
  compress(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  idat.resize(size);
  Chunk(png, "IDAT", idat);
  Chunk(png, "IEND", "");
  return png;
}

class DlServeTest : public DlTest {
 protected:
  void SetUp() override {
    DlTest::SetUp();
    if (IsSkipped()) return;
    auto set = data::ReadIdxImages(kTestImages, data::IdxLabelsFor(kTestImages));
    ASSERT_TRUE(set.ok()) << set.status().message();
    images_ = std::move(*set);
  }

  std::string Fp32Body(std::size_t first, std::size_t count) const {
    json data = json::array();
    for (std::size_t i = first * 784; i < (first + count) * 784; ++i) data.push_back(images_.pixels[i] / 255.0);
    return json{{"inputs", {{{"name", "image"}, {"datatype", "FP32"}, {"shape", {count, 1, 28, 28}}, {"data", data}}}}}
        .dump();
  }

  std::string BytesBody(const std::vector<std::string>& encoded) const {
    json data = json::array();
    for (const auto& e : encoded) data.push_back(Base64(e));
    return json{{"inputs", {{{"name", "image"}, {"datatype", "BYTES"}, {"shape", {encoded.size()}}, {"data", data}}}}}
        .dump();
  }

  std::string Png(std::size_t i) const { return testing::Png(28, 28, images_.pixels.data() + i * 784); }

  data::ImageSet images_;
};

json Outputs(const HttpResult& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? json::parse(r.body)["outputs"] : json::array();
}

TEST_F(DlServeTest, BatchedServingAnswersWhatUnbatchedServingDoesAndBatches) {
  ServerProcess plain({"serve", "--model", "fm=" + Model().string(), "--port", "0", "--capture", "off"});
  ServerProcess batched({"serve", "--model", "fm=" + Model().string(), "--port", "0", "--capture", "off",
                         "--max-batch-size", "16", "--max-queue-delay-us", "20000"});
  ASSERT_TRUE(plain.started()) << plain.output();
  ASSERT_TRUE(batched.started()) << batched.output();

  constexpr std::size_t kRequests = 24;
  std::vector<std::future<HttpResult>> answers;
  for (std::size_t i = 0; i < kRequests; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      HttpClient client(batched.port());
      return client.Post("/v2/models/fm/infer", Fp32Body(i, 1));
    }));
  }
  HttpClient client(plain.port());
  for (std::size_t i = 0; i < kRequests; ++i) {
    const json got = Outputs(answers[i].get());
    const json want = Outputs(client.Post("/v2/models/fm/infer", Fp32Body(i, 1)));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0]["data"], want[0]["data"]) << "image " << i;  // the label
    for (std::size_t k = 0; k < 10; ++k) {
      EXPECT_NEAR(got[1]["data"][k].get<double>(), want[1]["data"][k].get<double>(), 1e-5) << "image " << i;
    }
  }
  HttpClient metrics_client(batched.port());
  const std::string metrics = metrics_client.Get("/metrics").body;
  const auto count_at = metrics.find("wharf_batch_size_count{");
  ASSERT_NE(count_at, std::string::npos) << metrics;
  const auto batches = std::stoul(metrics.substr(metrics.find("} ", count_at) + 2));
  EXPECT_LT(batches, kRequests) << metrics;  // concurrent requests shared forward passes
}

TEST_F(DlServeTest, PngImagesAsBytesPredictLikeTheirPixels) {
  ServerProcess server({"serve", "--model", "fm=" + Model().string(), "--port", "0", "--capture", "off"});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient client(server.port());
  const json from_png = Outputs(client.Post("/v2/models/fm/infer", BytesBody({Png(0), Png(1), Png(2)})));
  const json from_floats = Outputs(client.Post("/v2/models/fm/infer", Fp32Body(0, 3)));
  ASSERT_EQ(from_png.size(), 2u);
  EXPECT_EQ(from_png[0]["data"], from_floats[0]["data"]);
  EXPECT_EQ(from_png[0]["data"][0], "Ankle boot");
}

TEST_F(DlServeTest, BadImagesAre400AndTheServerCarriesOn) {
  ServerProcess server({"serve", "--model", "fm=" + Model().string(), "--port", "0", "--capture", "off",
                        "--max-batch-size", "8"});
  ASSERT_TRUE(server.started()) << server.output();
  HttpClient client(server.port());
  std::string huge = Png(0);
  for (int at : {16, 20}) huge.replace(static_cast<std::size_t>(at), 4, std::string("\x00\x01\x86\xA0", 4));
  const std::vector<std::uint8_t> small(20 * 20, 128);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not an image", BytesBody({"hello, not an image"})},
      {"wrong size", BytesBody({testing::Png(20, 20, small.data())})},
      {"huge dimensions", BytesBody({huge})},
      {"bad base64", R"({"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["%%%"]}]})"},
      {"wrong tensor shape", R"({"inputs":[{"name":"image","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]})"},
  };
  for (const auto& [what, body] : cases) {
    const HttpResult r = client.Post("/v2/models/fm/infer", body);
    EXPECT_EQ(r.status, 400) << what << ": " << r.body;
    EXPECT_NE(r.body.find("error"), std::string::npos) << what;
  }
  EXPECT_EQ(Outputs(client.Post("/v2/models/fm/infer", BytesBody({Png(0)})))[0]["data"][0], "Ankle boot");
}

}  // namespace
}  // namespace wharf::testing
