#pragma once
// A network cut at one layer, for `wharf featurize`: images in, that layer's
// activations (flattened) out. Transfer learning starts here: a CNN trained
// on one task describes images of another.
//
// Where a Modelfile's network can be cut:
//   - trained by wharf (estimator.architecture set): at any of its layers,
//     named l0, l1, ... (`wharf featurize --list-layers`); the default is the
//     penultimate, the input of the final classifier layer;
//   - an imported TorchScript module: at its `features` method when it has
//     one; an nn.Sequential at any child (default: all but the last);
//   - an ONNX graph (imported, or --engine onnx): at any layer OpenCV's dnn
//     names (default: the input of the last fully connected layer).
// Not thread-safe: one Run at a time.

#include <memory>
#include <string>
#include <vector>

#include "artifact/modelfile.h"
#include "core/status.h"
#include "dl/image_codec.h"

namespace wharf::dl {

class Featurizer {
 public:
  virtual ~Featurizer() = default;
  // The image the network takes, pixels in [0, 1] (its normalization is applied inside).
  virtual ImageShape input() const = 0;
  // Floats per image.
  virtual std::size_t width() const = 0;
  // Where the network was cut, as --layer names it.
  virtual const std::string& layer() const = 0;
  // `x` holds rows images (input()'s CHW floats); `out` gets rows * width().
  virtual Status Run(const float* x, std::size_t rows, float* out) = 0;
};

struct FeaturizerOptions {
  std::string layer;   // empty: the default cut (see above)
  std::string engine;  // empty: the Modelfile's own; or "torchscript" / "onnx"
  std::string device = "cpu";
  int threads = 0;  // LibTorch's threads; 0: all cores
};

// The Modelfile's network cut at options.layer. InvalidArgument naming the
// layers there are for an unknown layer, or when the network cannot be cut.
Result<std::unique_ptr<Featurizer>> LoadFeaturizer(const artifact::Modelfile& file, const FeaturizerOptions& options);

// The layers LoadFeaturizer can cut the Modelfile's network at, one line
// each ("l7  linear 3136 -> 128"), the default marked.
Result<std::vector<std::string>> ListLayers(const artifact::Modelfile& file, const FeaturizerOptions& options);

// No network: the pixels themselves are the features (a baseline).
std::unique_ptr<Featurizer> RawPixels(ImageShape shape);

}  // namespace wharf::dl
