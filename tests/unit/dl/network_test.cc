#include "dl/network.h"

#include <gtest/gtest.h>

#include <sstream>

#include "dl/architecture.h"
#include "dl/torch_model.h"
#ifdef WHARF_HAVE_ONNX
#include "dl/onnx_export.h"
#endif
#ifdef WHARF_HAVE_OPENCV
#include "dl/onnx_model.h"
#endif

namespace wharf::dl {
namespace {

Network Make(const std::string& name, std::int64_t channels = 1, std::int64_t size = 28, std::int64_t classes = 10) {
  auto architecture = MakeArchitecture(name, channels, size, size, classes);
  EXPECT_TRUE(architecture.ok()) << architecture.status().message();
  torch::manual_seed(7);
  Network network(*architecture);
  // Batch norm's running statistics away from their defaults, as after training.
  network->train();
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) network->forward(torch::randn({16, channels, size, size}) * 2 + 0.5);
  }
  network->eval();
  return network;
}

artifact::LoadOptions OneThread() {
  artifact::LoadOptions options;
  options.threads = 1;
  return options;
}

ImageModelSpec Spec(std::int64_t channels, std::int64_t size, std::int64_t classes) {
  ImageModelSpec spec;
  for (std::int64_t c = 0; c < classes; ++c) spec.schema.classes.push_back("c" + std::to_string(c));
  spec.schema.image_shape = {channels, size, size};
  spec.mean.assign(static_cast<std::size_t>(channels), 0.25f);
  spec.std.assign(static_cast<std::size_t>(channels), 0.5f);
  return spec;
}

// What the trained network itself says for pixels `x`, normalized as the spec says.
torch::Tensor Expected(Network& network, const torch::Tensor& x, const ImageModelSpec& spec) {
  torch::NoGradGuard no_grad;
  return torch::softmax(network->forward((x - spec.mean[0]) / spec.std[0]), 1);
}

std::string Save(torch::jit::Module module) {
  std::ostringstream out;
  module.save(out);
  return out.str();
}

TEST(ArchitectureTest, UnknownNamesAndTinyImagesAreRefused) {
  auto unknown = MakeArchitecture("vgg", 1, 28, 28, 10);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("lenet, resnet-small"), std::string::npos) << unknown.status().message();
  EXPECT_FALSE(MakeArchitecture("lenet", 1, 4, 4, 10).ok());
  EXPECT_FALSE(MakeArchitecture("lenet", 1, 28, 28, 1).ok());
}

class NetworkTest : public ::testing::TestWithParam<const char*> {};

TEST_P(NetworkTest, TheTorchScriptFormAnswersWhatTheTrainedNetworkDoes) {
  Network network = Make(GetParam());
  const ImageModelSpec spec = Spec(1, 28, 10);
  auto model = TorchScriptModel::FromBytes(Save(ToTorchScript(network)), spec, OneThread());
  ASSERT_TRUE(model.ok()) << model.status().message();

  torch::manual_seed(11);
  const torch::Tensor x = torch::rand({8, 1, 28, 28});
  std::vector<float> out(8 * 10);
  ASSERT_TRUE((*model)->Predict(x.data_ptr<float>(), 8, out.data()).ok());
  const torch::Tensor expected = Expected(network, x, spec);
  const torch::Tensor got = torch::from_blob(out.data(), {8, 10});
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-6)) << (got - expected).abs().max().item<float>();
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1)));
}

TEST_P(NetworkTest, TheTorchScriptFormLoadsInAFreshModule) {
  Network network = Make(GetParam());
  std::istringstream in(Save(ToTorchScript(network)));
  torch::jit::Module loaded = torch::jit::load(in);
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  torch::NoGradGuard no_grad;
  const torch::Tensor got = loaded.forward({x}).toTensor();
  EXPECT_TRUE(torch::allclose(got, network->forward(x), 1e-5, 1e-5));
}

#if defined(WHARF_HAVE_ONNX) && defined(WHARF_HAVE_OPENCV)
TEST_P(NetworkTest, TheOnnxFormPredictsTheSameClassesAsTheTorchScriptForm) {
  Network network = Make(GetParam());
  const ImageModelSpec spec = Spec(1, 28, 10);
  auto onnx = ToOnnx(network);
  ASSERT_TRUE(onnx.ok()) << onnx.status().message();
  auto model = OnnxModel::FromBytes(*onnx, spec);
  ASSERT_TRUE(model.ok()) << model.status().message();

  torch::manual_seed(5);
  const torch::Tensor x = torch::rand({32, 1, 28, 28});
  std::vector<float> out(32 * 10);
  ASSERT_TRUE((*model)->Predict(x.data_ptr<float>(), 32, out.data()).ok());
  const torch::Tensor expected = Expected(network, x, spec);
  const torch::Tensor got = torch::from_blob(out.data(), {32, 10});
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1)));
  EXPECT_TRUE(torch::allclose(got, expected, 1e-3, 1e-4)) << (got - expected).abs().max().item<float>();
}
#endif

INSTANTIATE_TEST_SUITE_P(Architectures, NetworkTest, ::testing::Values("lenet", "resnet-small"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param) == "lenet" ? "lenet" : "resnet_small";
                         });

TEST(ColourNetworkTest, ThreeChannelImagesWork) {
  Network network = Make("resnet-small", 3, 32, 4);
  const ImageModelSpec spec = Spec(3, 32, 4);
  auto model = TorchScriptModel::FromBytes(Save(ToTorchScript(network)), spec, OneThread());
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->schema().input_width(), 3u * 32 * 32);
}

TEST(TorchScriptModelTest, AModelThatDoesNotFitItsDeclaredClassesIsRefusedAtLoad) {
  Network network = Make("lenet");
  auto model = TorchScriptModel::FromBytes(Save(ToTorchScript(network)), Spec(1, 28, 3), OneThread());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("one score per class"), std::string::npos) << model.status().message();
}

TEST(TorchScriptModelTest, BytesThatAreNotTorchScriptAreAClearError) {
  auto model = TorchScriptModel::FromBytes("not a zip archive", Spec(1, 28, 10), {});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("TorchScript"), std::string::npos);
}

TEST(TorchScriptModelTest, CudaWithoutCudaIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this LibTorch has CUDA and a GPU";
  auto device = ParseDevice("cuda");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(device.status().message().find("CUDA"), std::string::npos);
  EXPECT_FALSE(ParseDevice("tpu").ok());
}

}  // namespace
}  // namespace wharf::dl
