#include "dl/training_sets.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "core/file.h"
#include "dl/image_codec.h"

namespace wharf::dl {

namespace fs = std::filesystem;

namespace {

data::ImageSet Subset(const data::ImageSet& set, const std::vector<std::size_t>& rows) {
  data::ImageSet out;
  out.count = rows.size();
  out.channels = set.channels;
  out.height = set.height;
  out.width = set.width;
  out.pixels.resize(rows.size() * set.image_bytes());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(set.pixels.begin() + static_cast<std::ptrdiff_t>(rows[i] * set.image_bytes()), set.image_bytes(),
                out.pixels.begin() + static_cast<std::ptrdiff_t>(i * set.image_bytes()));
    if (!set.labels.empty()) out.labels.push_back(set.labels[rows[i]]);
    out.names.push_back(set.names[rows[i]]);
  }
  return out;
}

Result<data::ImageSet> ReadIdxSet(const fs::path& images) {
  const fs::path labels = data::IdxLabelsFor(images);
  if (labels.empty()) {
    return InvalidArgument(fmt::format("{}: no labels file beside it (expected {})", images.string(),
                                       "the same name with -labels-idx1- for -images-idx3-"));
  }
  return data::ReadIdxImages(images, labels);
}

Result<std::pair<data::ImageSet, std::vector<std::string>>> ReadFolderSet(const fs::path& root, const DataSource& s,
                                                                         const ImageShape* shape) {
  WHARF_ASSIGN_OR_RETURN(data::ImageFolder folder, data::ListImageFolder(root));
  ImageShape use;
  if (shape != nullptr) {
    use = *shape;
  } else {
    WHARF_ASSIGN_OR_RETURN(use, FirstImageShape(folder, s.channels));
  }
  WHARF_ASSIGN_OR_RETURN(data::ImageSet set, ReadImageFolder(folder, use, s.resize, s.threads));
  return std::pair{std::move(set), std::move(folder.classes)};
}

// Holds out `fraction` of each class (seeded) as the test set.
std::pair<data::ImageSet, data::ImageSet> Split(const data::ImageSet& set, double fraction, std::uint64_t seed) {
  std::vector<std::size_t> order(set.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::map<int, std::vector<std::size_t>> by_class;
  for (const auto i : order) by_class[set.labels[i]].push_back(i);
  std::vector<std::size_t> train, test;
  for (auto& [label, rows] : by_class) {
    const auto held = static_cast<std::size_t>(static_cast<double>(rows.size()) * fraction + 0.5);
    test.insert(test.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(held));
    train.insert(train.end(), rows.begin() + static_cast<std::ptrdiff_t>(held), rows.end());
  }
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  return {Subset(set, train), Subset(set, test)};
}

}  // namespace

Result<std::vector<std::string>> ClassNames(const std::string& spec) {
  std::vector<std::string> names;
  std::error_code ec;
  std::string text = spec;
  char separator = ',';
  if (fs::is_regular_file(spec, ec)) {
    WHARF_ASSIGN_OR_RETURN(text, ReadFile(spec));
    separator = '\n';
  }
  std::istringstream in(text);
  for (std::string name; std::getline(in, name, separator);) {
    while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    if (!name.empty()) names.push_back(name);
  }
  if (names.size() < 2) return InvalidArgument(fmt::format("--classes {}: needs two class names or more", spec));
  return names;
}

void Sample(data::ImageSet& set, std::size_t n, std::uint64_t seed) {
  if (n == 0 || n >= set.count) return;
  std::vector<std::size_t> order(set.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  order.resize(n);
  std::sort(order.begin(), order.end());
  set = Subset(set, order);
}

Result<TrainingSets> ReadTrainingSets(const DataSource& s) {
  TrainingSets sets;
  fs::path train = s.train, test = s.test;
  std::error_code ec;
  bool split = false;
  if (!s.data.empty()) {
    if (!train.empty() || !test.empty()) return InvalidArgument("give --data, or --train (and --test), not both");
    if (!fs::is_directory(s.data, ec)) return NotFound(fmt::format("--data {}: no such directory", s.data.string()));
    if (fs::path idx = data::FindIdxImages(s.data, "train"); !idx.empty()) {
      train = idx;
      test = data::FindIdxImages(s.data, "t10k");
    } else if (fs::is_directory(s.data / "train", ec) && fs::is_directory(s.data / "test", ec)) {
      train = s.data / "train";
      test = s.data / "test";
    } else {
      train = s.data;
      split = true;
    }
  }
  if (train.empty()) return InvalidArgument("no training data: give --data DIR or --train PATH");

  std::vector<std::string> folder_classes;
  if (fs::is_directory(train, ec)) {
    WHARF_ASSIGN_OR_RETURN(auto read, ReadFolderSet(train, s, nullptr));
    sets.train = std::move(read.first);
    folder_classes = std::move(read.second);
  } else {
    WHARF_ASSIGN_OR_RETURN(sets.train, ReadIdxSet(train));
  }
  sets.train_source = train.string();
  if (!test.empty()) {
    if (fs::is_directory(test, ec)) {
      const ImageShape shape{static_cast<std::int64_t>(sets.train.channels), static_cast<std::int64_t>(sets.train.height),
                             static_cast<std::int64_t>(sets.train.width)};
      WHARF_ASSIGN_OR_RETURN(auto read, ReadFolderSet(test, s, &shape));
      if (read.second != folder_classes) {
        return InvalidArgument(fmt::format("{} and {} have different class subfolders", train.string(), test.string()));
      }
      sets.test = std::move(read.first);
    } else {
      WHARF_ASSIGN_OR_RETURN(sets.test, ReadIdxSet(test));
      if (sets.test->image_bytes() != sets.train.image_bytes() || sets.test->height != sets.train.height) {
        return InvalidArgument(fmt::format("{}: images of {}x{}, but the training images are {}x{}", test.string(),
                                           sets.test->height, sets.test->width, sets.train.height, sets.train.width));
      }
    }
    sets.test_source = test.string();
  } else if (split) {
    if (!(s.test_fraction > 0 && s.test_fraction < 1)) return InvalidArgument("--test-fraction must be in (0, 1)");
    auto [kept, held] = Split(sets.train, s.test_fraction, s.seed);
    sets.train = std::move(kept);
    sets.test = std::move(held);
    sets.test_source = fmt::format("{:.0f}% of {} (seed {})", s.test_fraction * 100, train.string(), s.seed);
  }

  int max_label = 0;
  for (const int l : sets.train.labels) max_label = std::max(max_label, l);
  if (sets.test) {
    for (const int l : sets.test->labels) max_label = std::max(max_label, l);
  }
  if (!s.classes.empty()) {
    WHARF_ASSIGN_OR_RETURN(sets.classes, ClassNames(s.classes));
    if (static_cast<int>(sets.classes.size()) <= max_label) {
      return InvalidArgument(fmt::format("--classes names {} classes, but the labels go up to {}", sets.classes.size(), max_label));
    }
  } else if (!folder_classes.empty()) {
    sets.classes = folder_classes;
  } else {
    for (int c = 0; c <= std::max(max_label, 1); ++c) sets.classes.push_back(std::to_string(c));
  }
  Sample(sets.train, s.limit, s.seed);
  if (sets.test) Sample(*sets.test, s.test_limit, s.seed + 1);
  return sets;
}

}  // namespace wharf::dl
