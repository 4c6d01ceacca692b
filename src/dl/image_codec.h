#pragma once
// Encoded images (PNG, JPEG, and for folders whatever OpenCV reads) into a
// model's input rows: pixel intensities in [0, 1], CHW, converted to the
// model's channels (grayscale, or RGB from OpenCV's BGR). Built with OpenCV
// when it is found; without it every call is Unimplemented, so the rest of
// the deep learning module still builds against LibTorch alone.
// Free functions; thread-safe.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/status.h"
#include "data/image_set.h"

namespace wharf::dl {

// The largest image accepted, in pixels (width * height); checked from the
// header before decoding, so a small file claiming a huge image is refused
// without allocating it.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{4096} * 4096;

// An input image's layout.
struct ImageShape {
  std::int64_t channels = 1, height = 0, width = 0;
};

// Width and height from a PNG or JPEG header; InvalidArgument if the bytes
// are neither.
Result<std::pair<std::int64_t, std::int64_t>> SniffPngOrJpegSize(std::string_view encoded);

// Decodes a PNG or JPEG (only those) into `row` (shape's size in floats).
// InvalidArgument, fit for a client, for anything else, a corrupt image, one
// over kMaxImagePixels, or one whose size is not `shape`'s.
Status DecodeImageRow(std::string_view encoded, const ImageShape& shape, float* row);

// Decodes every file of an image folder into one ImageSet of `shape`;
// images of another size are resized when `resize`, else an error naming the
// file. Channels are converted to shape.channels. Runs on `threads` cores.
Result<data::ImageSet> ReadImageFolder(const data::ImageFolder& folder, const ImageShape& shape, bool resize,
                                       int threads);

// How an image whose channels differ from the network's gets its channels:
// never silently, so a colour network does not see gray images as colour
// without being told (`wharf featurize --color`).
enum class ColorConversion {
  kNone,       // the image must have the network's channels
  kGray,       // colour images become gray (for 1-channel networks)
  kReplicate,  // gray images' one channel is copied to R, G and B (for 3-channel networks)
};

// Decodes an image file's bytes (any format OpenCV reads; 16-bit and alpha
// reduced to 8-bit colour) into `row`: `shape`'s channels by `color`,
// resized to its size (area averaging when shrinking, bilinear when
// enlarging). InvalidArgument, naming what is wrong, for bytes that are no
// image, an image over kMaxImagePixels, or channels `color` does not convert.
Status DecodeImageFileTo(std::string_view bytes, const ImageShape& shape, ColorConversion color, float* row);

// The same for `height` x `width` gray pixels (an IDX image).
Status ConvertGrayPixelsTo(const std::uint8_t* pixels, std::int64_t height, std::int64_t width, const ImageShape& shape,
                           ColorConversion color, float* row);

// The shape of the first image of a folder, at `channels` (0: as stored, 1 or 3).
Result<ImageShape> FirstImageShape(const data::ImageFolder& folder, std::int64_t channels);

}  // namespace wharf::dl
