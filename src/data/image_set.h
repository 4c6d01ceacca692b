#pragma once
// Labelled images in memory, and the two ways to find them on disk: IDX
// files (the MNIST format, optionally gzipped, as Debian's
// dataset-fashion-mnist ships them) and image folders (one subfolder per
// class). Reading IDX needs only zlib; decoding image files is the deep
// learning module's (OpenCV), so folders are only listed here.
// Free functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace wharf::data {

// Images of one size with optional labels: what a CNN trains on.
struct ImageSet {
  std::size_t count = 0, channels = 1, height = 0, width = 0;
  std::vector<std::uint8_t> pixels;  // count * channels * height * width, each image CHW
  std::vector<int> labels;           // one class index per image, or empty when unlabelled
  std::vector<std::string> names;    // per image: where it came from (a file, or FILE#index)

  std::size_t image_bytes() const { return channels * height * width; }
};

// One IDX file: unsigned bytes (type 0x08) of any rank.
struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> bytes;
};

// Reads an IDX file, gunzipping it when it starts with gzip's magic. Errors
// name the file and what is wrong (magic, element type, rank, a size that
// does not match the bytes present), so a truncated download says so.
Result<IdxArray> ReadIdx(const std::filesystem::path& path);

// Images from an IDX file of rank 3 (count, height, width) and, when
// `labels` is not empty, their labels from an IDX file of rank 1 with the
// same count.
Result<ImageSet> ReadIdxImages(const std::filesystem::path& images, const std::filesystem::path& labels);

// The IDX labels file beside an images file: "train-images-idx3-ubyte.gz"
// -> "train-labels-idx1-ubyte.gz"; empty when the name does not follow it
// or no such file exists.
std::filesystem::path IdxLabelsFor(const std::filesystem::path& images);

// An IDX images file of `split` ("train" or "t10k") in `dir`, gzipped or
// not; empty if there is none.
std::filesystem::path FindIdxImages(const std::filesystem::path& dir, const std::string& split);

// The image files of a folder with one subfolder per class.
struct ImageFolder {
  std::vector<std::string> classes;          // subfolder names, sorted: class i is classes[i]
  std::vector<std::filesystem::path> files;  // sorted by class, then by name
  std::vector<int> labels;                   // files[i]'s class index
};

// Whether `path` names an image file by its extension (.png .jpg .jpeg
// .bmp .pgm .ppm .tif .tiff .webp, any case): what OpenCV decodes.
bool HasImageExtension(const std::filesystem::path& path);

// Lists `root`: every regular file with an image extension one level down. InvalidArgument if
// `root` has no class subfolder or no image.
Result<ImageFolder> ListImageFolder(const std::filesystem::path& root);

}  // namespace wharf::data
