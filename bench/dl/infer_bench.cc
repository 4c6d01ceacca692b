// bench/dl: images per second of a Modelfile's image classifier through
// wharf's engines (TorchScript frozen and optimized; ONNX through OpenCV
// dnn), at batch 1 and 64, on an IDX file's images. Prints one JSON object.
//   infer_bench MODELFILE IMAGES.idx3-ubyte.gz THREADS

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "artifact/modelfile.h"
#include "data/image_set.h"
#include "dl/torch_model.h"
#ifdef WHARF_HAVE_OPENCV
#include "dl/onnx_model.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double ImagesPerSecond(const wharf::artifact::Model& model, const std::vector<float>& pixels, std::size_t batch,
                       std::size_t count) {
  const std::size_t width = model.schema().input_width();
  std::vector<float> out(batch * model.output_width());
  for (std::size_t i = 0; i < 20 * batch; i += batch) (void)model.Predict(pixels.data() + i * width, batch, out.data());
  const auto started = Clock::now();
  for (std::size_t i = 0; i + batch <= count; i += batch) {
    if (!model.Predict(pixels.data() + i * width, batch, out.data()).ok()) return 0;
  }
  return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: infer_bench MODELFILE IMAGES THREADS\n");
    return 2;
  }
  auto file = wharf::artifact::ReadModelfile(argv[1]);
  auto set = wharf::data::ReadIdxImages(argv[2], {});
  if (!file.ok() || !set.ok()) {
    std::fprintf(stderr, "%s\n", (file.ok() ? set.status() : file.status()).message().c_str());
    return 1;
  }
  std::vector<float> pixels(set->pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = set->pixels[i] / 255.0f;
  wharf::artifact::LoadOptions options;
  options.threads = std::stoi(argv[3]);
  nlohmann::json result;
  auto torchscript = wharf::dl::TorchScriptModel::Load(*file, options);
  if (!torchscript.ok()) {
    std::fprintf(stderr, "%s\n", torchscript.status().message().c_str());
    return 1;
  }
  for (const std::size_t batch : {1, 64}) {
    result["torchscript"][std::to_string(batch)] = ImagesPerSecond(**torchscript, pixels, batch, batch == 1 ? 2000 : 9984);
  }
#ifdef WHARF_HAVE_OPENCV
  auto onnx = wharf::dl::OnnxModel::Load(*file, options);
  if (onnx.ok()) {
    for (const std::size_t batch : {1, 64}) {
      result["onnx"][std::to_string(batch)] = ImagesPerSecond(**onnx, pixels, batch, batch == 1 ? 2000 : 9984);
    }
  }
#endif
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
