#include <atomic>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/file.h"
#include "core/mutex.h"
#include "core/parallel.h"
#include "dl/image_codec.h"

namespace wharf::dl {

namespace {

std::uint32_t Be16(std::string_view b, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(b[at])} << 8) | static_cast<unsigned char>(b[at + 1]);
}
std::uint32_t Be32(std::string_view b, std::size_t at) { return (Be16(b, at) << 16) | Be16(b, at + 2); }

Result<std::pair<std::int64_t, std::int64_t>> JpegSize(std::string_view b) {
  std::size_t at = 2;
  while (at + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[at]) != 0xFF) return InvalidArgument("corrupt JPEG: bad marker");
    const unsigned marker = static_cast<unsigned char>(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      at += 2;
      continue;
    }
    const std::size_t length = Be16(b, at + 2);
    const bool start_of_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (start_of_frame) {
      if (at + 9 > b.size()) break;
      return std::pair<std::int64_t, std::int64_t>{Be16(b, at + 7), Be16(b, at + 5)};
    }
    at += 2 + length;
  }
  return InvalidArgument("corrupt JPEG: no frame header");
}

// OpenCV's pixels (8-bit, 1 or 3 channels, BGR) -> [0, 1] CHW floats.
void ToRow(const cv::Mat& image, std::int64_t channels, float* row) {
  const auto plane = static_cast<std::size_t>(image.rows) * static_cast<std::size_t>(image.cols);
  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* p = image.ptr<std::uint8_t>(y);
    for (int x = 0; x < image.cols; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * static_cast<std::size_t>(image.cols) + static_cast<std::size_t>(x);
      if (channels == 1) {
        row[at] = p[x] / 255.0f;
      } else {  // BGR -> RGB planes
        for (std::int64_t c = 0; c < 3; ++c) row[static_cast<std::size_t>(c) * plane + at] = p[3 * x + (2 - c)] / 255.0f;
      }
    }
  }
}

Result<cv::Mat> Decode(std::string_view encoded, std::int64_t channels) {
  if (channels != 1 && channels != 3) return InvalidArgument(fmt::format("models of {} channels take no images", channels));
  const cv::Mat buffer(1, static_cast<int>(encoded.size()), CV_8U, const_cast<char*>(encoded.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(std::string("not a readable image: ") + e.what());
  }
  if (image.empty()) return InvalidArgument("not a readable image (corrupt, or a format OpenCV does not read)");
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U);
  return image;
}

}  // namespace

Result<std::pair<std::int64_t, std::int64_t>> SniffPngOrJpegSize(std::string_view b) {
  static constexpr std::string_view kPng("\x89PNG\r\n\x1a\n", 8);
  if (b.size() >= 24 && b.substr(0, 8) == kPng && b.substr(12, 4) == "IHDR") {
    return std::pair<std::int64_t, std::int64_t>{Be32(b, 16), Be32(b, 20)};
  }
  if (b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0xFF && static_cast<unsigned char>(b[1]) == 0xD8) {
    return JpegSize(b);
  }
  return InvalidArgument("not a PNG or JPEG image");
}

Status DecodeImageRow(std::string_view encoded, const ImageShape& shape, float* row) {
  WHARF_ASSIGN_OR_RETURN(auto size, SniffPngOrJpegSize(encoded));
  const auto [width, height] = size;
  if (width <= 0 || height <= 0 || width > kMaxImagePixels / std::max<std::int64_t>(height, 1)) {
    return InvalidArgument(fmt::format("image of {}x{} pixels refused (at most {} pixels)", width, height, kMaxImagePixels));
  }
  if (width != shape.width || height != shape.height) {
    return InvalidArgument(fmt::format("image is {}x{} but the model takes {}x{}", width, height, shape.width, shape.height));
  }
  WHARF_ASSIGN_OR_RETURN(cv::Mat image, Decode(encoded, shape.channels));
  if (image.cols != shape.width || image.rows != shape.height) {
    return InvalidArgument(fmt::format("image decodes to {}x{} but the model takes {}x{}", image.cols, image.rows,
                                       shape.width, shape.height));
  }
  ToRow(image, shape.channels, row);
  return Status::Ok();
}

namespace {

// `image` (8-bit, 1 or 3 channels, BGR) at `shape`'s channels and size, into `row`.
Status ConvertTo(cv::Mat image, const ImageShape& shape, ColorConversion color, float* row) {
  const std::int64_t stored = image.channels();
  if (stored != shape.channels) {
    if (stored == 3 && shape.channels == 1 && color == ColorConversion::kGray) {
      cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
    } else if (stored == 1 && shape.channels == 3 && color == ColorConversion::kReplicate) {
      cv::cvtColor(image, image, cv::COLOR_GRAY2BGR);
    } else if (stored == 3 && shape.channels == 1) {
      return InvalidArgument("a colour image, and the network takes 1 channel: declare the conversion with --color gray");
    } else if (stored == 1 && shape.channels == 3) {
      return InvalidArgument(
          "a grayscale image, and the network takes 3 channels: declare the conversion with --color replicate");
    } else {
      return InvalidArgument(fmt::format("an image of {} channels, and the network takes {}", stored, shape.channels));
    }
  }
  if (image.cols != shape.width || image.rows != shape.height) {
    const bool shrinking = image.cols * image.rows > shape.width * shape.height;
    cv::resize(image, image, cv::Size(static_cast<int>(shape.width), static_cast<int>(shape.height)), 0, 0,
               shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  ToRow(image, shape.channels, row);
  return Status::Ok();
}

}  // namespace

Status DecodeImageFileTo(std::string_view bytes, const ImageShape& shape, ColorConversion color, float* row) {
  if (shape.channels != 1 && shape.channels != 3) {
    return InvalidArgument(fmt::format("networks of {} channels take no images", shape.channels));
  }
  // PNG and JPEG say their size before any pixel is decoded: refuse a bomb early.
  if (auto size = SniffPngOrJpegSize(bytes); size.ok()) {
    const auto [width, height] = *size;
    if (width <= 0 || height <= 0 || width > kMaxImagePixels / std::max<std::int64_t>(height, 1)) {
      return InvalidArgument(fmt::format("image of {}x{} pixels refused (at most {} pixels)", width, height, kMaxImagePixels));
    }
  }
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(std::string("not a readable image: ") + e.what());
  }
  if (image.empty()) return InvalidArgument("not a readable image (corrupt, or a format OpenCV does not read)");
  if (static_cast<std::int64_t>(image.cols) * image.rows > kMaxImagePixels) {
    return InvalidArgument(fmt::format("image of {}x{} pixels refused (at most {} pixels)", image.cols, image.rows,
                                       kMaxImagePixels));
  }
  if (image.depth() == CV_16U) {
    image.convertTo(image, CV_8U, 1.0 / 257);
  } else if (image.depth() != CV_8U) {
    image.convertTo(image, CV_8U);
  }
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  if (image.channels() == 2) return InvalidArgument("an image of 2 channels (gray and alpha?) is not supported");
  return ConvertTo(std::move(image), shape, color, row);
}

Status ConvertGrayPixelsTo(const std::uint8_t* pixels, std::int64_t height, std::int64_t width, const ImageShape& shape,
                           ColorConversion color, float* row) {
  const cv::Mat image(static_cast<int>(height), static_cast<int>(width), CV_8UC1, const_cast<std::uint8_t*>(pixels));
  return ConvertTo(image.clone(), shape, color, row);
}

Result<ImageShape> FirstImageShape(const data::ImageFolder& folder, std::int64_t channels) {
  const std::string path = folder.files.front().string();
  cv::Mat image = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (image.empty()) return InvalidArgument(fmt::format("{}: not a readable image", path));
  const std::int64_t stored = image.channels() >= 3 ? 3 : 1;
  return ImageShape{channels == 0 ? stored : channels, image.rows, image.cols};
}

Result<data::ImageSet> ReadImageFolder(const data::ImageFolder& folder, const ImageShape& shape, bool resize,
                                       int threads) {
  data::ImageSet set;
  set.count = folder.files.size();
  set.channels = static_cast<std::size_t>(shape.channels);
  set.height = static_cast<std::size_t>(shape.height);
  set.width = static_cast<std::size_t>(shape.width);
  set.pixels.resize(set.count * set.image_bytes());
  set.labels = folder.labels;
  set.names.reserve(set.count);
  for (const auto& f : folder.files) set.names.push_back(f.string());

  Mutex error_mutex;
  Status first_error = Status::Ok();
  std::atomic<bool> failed{false};
  ParallelFor(set.count, threads, [&](std::size_t i) {
    if (failed.load(std::memory_order_relaxed)) return;
    auto fail = [&](std::string message) {
      MutexLock lock(error_mutex);
      if (!failed.exchange(true)) first_error = InvalidArgument(fmt::format("{}: {}", set.names[i], message));
    };
    auto bytes = ReadFile(folder.files[i]);
    if (!bytes.ok()) return fail(bytes.status().message());
    auto decoded = Decode(*bytes, shape.channels);
    if (!decoded.ok()) return fail(decoded.status().message());
    cv::Mat image = std::move(*decoded);
    if (image.cols != shape.width || image.rows != shape.height) {
      if (!resize) {
        return fail(fmt::format("image is {}x{}, not {}x{} like the rest (pass --resize to resize)", image.cols,
                                image.rows, shape.width, shape.height));
      }
      cv::resize(image, image, cv::Size(static_cast<int>(shape.width), static_cast<int>(shape.height)), 0, 0,
                 cv::INTER_AREA);
    }
    std::vector<float> row(set.image_bytes());
    ToRow(image, shape.channels, row.data());
    std::uint8_t* out = set.pixels.data() + i * set.image_bytes();
    for (std::size_t k = 0; k < row.size(); ++k) out[k] = static_cast<std::uint8_t>(row[k] * 255.0f + 0.5f);
  });
  if (failed) return first_error;
  return set;
}

}  // namespace wharf::dl
