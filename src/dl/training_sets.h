#pragma once
// Finds and reads the images `wharf dl-train` trains and tests on: an IDX
// directory (train-* and t10k-* files, as in Debian's dataset-fashion-mnist),
// IDX files, or image folders (one subfolder per class; a folder with train/
// and test/ subfolders; or one folder split by a seeded draw).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/image_set.h"

namespace wharf::dl {

// Where the images come from, as flags name them.
struct DataSource {
  std::filesystem::path data;           // a directory holding both sets, or
  std::filesystem::path train, test;    // each set's IDX images file or image folder
  std::string classes;                  // a file of class names (one per line) or "a,b,c"; empty: from folders or "0".."K-1"
  double test_fraction = 0.2;           // a single image folder: this share of each class is held out
  std::size_t limit = 0, test_limit = 0;  // use a seeded sample of this many images (0: all)
  std::int64_t channels = 0;            // image folders: 1 (grayscale) or 3 (RGB); 0: as the first image is
  bool resize = false;                  // image folders: resize images of another size to the first one's
  std::uint64_t seed = 42;
  int threads = 0;
};

// The training and (optional) test sets with their class names.
struct TrainingSets {
  data::ImageSet train;
  std::optional<data::ImageSet> test;
  std::vector<std::string> classes;
  std::string train_source, test_source;  // what was read, for reports
};

Result<TrainingSets> ReadTrainingSets(const DataSource& source);

// Class names from `spec`: a file (one per line) or "a,b,c". InvalidArgument
// for fewer than two names.
Result<std::vector<std::string>> ClassNames(const std::string& spec);

// Keeps a seeded sample of `n` images (all when n is 0 or not less than count).
void Sample(data::ImageSet& set, std::size_t n, std::uint64_t seed);

}  // namespace wharf::dl
