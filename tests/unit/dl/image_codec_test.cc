#include "dl/image_codec.h"

#include <gtest/gtest.h>

#ifdef WHARF_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>

#include "testing/temp_dir.h"

namespace wharf::dl {
namespace {

// A gray gradient (pixel = 3x + y) of width x height.
cv::Mat Gradient(int width, int height, int type = CV_8UC1) {
  cv::Mat image(height, width, type);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const auto v = static_cast<std::uint8_t>(3 * x + y);
      if (type == CV_8UC1) {
        image.at<std::uint8_t>(y, x) = v;
      } else {
        image.at<cv::Vec3b>(y, x) = cv::Vec3b(v, static_cast<std::uint8_t>(255 - v), 7);  // B, G, R
      }
    }
  }
  return image;
}

std::string Encode(const cv::Mat& image, const std::string& ext) {
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes));
  return std::string(bytes.begin(), bytes.end());
}

TEST(ImageCodecTest, APngDecodesToItsPixelsOverMax) {
  const std::string png = Encode(Gradient(28, 28), ".png");
  std::vector<float> row(28 * 28);
  ASSERT_TRUE(DecodeImageRow(png, {1, 28, 28}, row.data()).ok());
  EXPECT_FLOAT_EQ(row[0], 0.0f);
  EXPECT_FLOAT_EQ(row[1], 3 / 255.0f);         // x = 1
  EXPECT_FLOAT_EQ(row[28 + 2], 7 / 255.0f);    // y = 1, x = 2
}

TEST(ImageCodecTest, ColourBecomesRgbPlanes) {
  const std::string png = Encode(Gradient(8, 8, CV_8UC3), ".png");
  std::vector<float> row(3 * 8 * 8);
  ASSERT_TRUE(DecodeImageRow(png, {3, 8, 8}, row.data()).ok());
  EXPECT_FLOAT_EQ(row[1], 7 / 255.0f);                // R plane
  EXPECT_FLOAT_EQ(row[64 + 1], (255 - 3) / 255.0f);   // G plane
  EXPECT_FLOAT_EQ(row[128 + 1], 3 / 255.0f);          // B plane
}

TEST(ImageCodecTest, AJpegDecodesCloseToItsPixels) {
  const std::string jpeg = Encode(Gradient(28, 28), ".jpg");
  auto size = SniffPngOrJpegSize(jpeg);
  ASSERT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(*size, (std::pair<std::int64_t, std::int64_t>{28, 28}));
  std::vector<float> row(28 * 28);
  ASSERT_TRUE(DecodeImageRow(jpeg, {1, 28, 28}, row.data()).ok());
  EXPECT_NEAR(row[28 * 10 + 10], 40 / 255.0f, 0.05f);
}

TEST(ImageCodecTest, AnotherSizeIsRefusedWithBothSizes) {
  const std::string png = Encode(Gradient(32, 30), ".png");
  std::vector<float> row(28 * 28);
  const Status status = DecodeImageRow(png, {1, 28, 28}, row.data());
  ASSERT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("32x30"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("28x28"), std::string::npos) << status.message();
}

TEST(ImageCodecTest, BytesThatAreNoImageAreRefused) {
  std::vector<float> row(28 * 28);
  const Status status = DecodeImageRow("GIF89a not what we take", {1, 28, 28}, row.data());
  ASSERT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not a PNG or JPEG"), std::string::npos);
  // A PNG header followed by garbage.
  std::string broken = Encode(Gradient(28, 28), ".png");
  broken.resize(40);
  EXPECT_EQ(DecodeImageRow(broken, {1, 28, 28}, row.data()).code(), StatusCode::kInvalidArgument);
}

TEST(ImageCodecTest, AHugeImageIsRefusedFromItsHeaderAlone) {
  std::string png = Encode(Gradient(28, 28), ".png");
  // Claim 100000 x 100000 pixels in IHDR (bytes 16..23, big-endian).
  for (int i : {16, 20}) {
    png[i] = 0;
    png[i + 1] = 0x01;
    png[i + 2] = static_cast<char>(0x86);
    png[i + 3] = static_cast<char>(0xA0);
  }
  std::vector<float> row(28 * 28);
  const Status status = DecodeImageRow(png, {1, 28, 28}, row.data());
  ASSERT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("100000x100000"), std::string::npos) << status.message();
}

TEST(ImageCodecTest, AFolderIsReadAndResizedOnRequest) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "a");
  std::filesystem::create_directories(dir.path() / "b");
  cv::imwrite((dir.path() / "a/1.png").string(), Gradient(16, 16));
  cv::imwrite((dir.path() / "b/2.png").string(), Gradient(20, 20));
  auto folder = data::ListImageFolder(dir.path());
  ASSERT_TRUE(folder.ok());
  auto shape = FirstImageShape(*folder, 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->height, 16);
  auto strict = ReadImageFolder(*folder, *shape, false, 1);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("2.png"), std::string::npos) << strict.status().message();
  auto resized = ReadImageFolder(*folder, *shape, true, 2);
  ASSERT_TRUE(resized.ok()) << resized.status().message();
  EXPECT_EQ(resized->count, 2u);
  EXPECT_EQ(resized->labels, (std::vector<int>{0, 1}));
  EXPECT_EQ(resized->pixels[1], 3);
}

}  // namespace
}  // namespace wharf::dl
#endif
