#include "data/image_set.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "testing/temp_dir.h"

namespace wharf::data {
namespace {

using testing::TempDir;

// An IDX file of unsigned bytes with the given dimensions and data.
std::string Idx(const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string out = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (const auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
  }
  return out + data;
}

std::string Gzip(const std::string& bytes) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, bytes.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(IdxTest, ReadsImagesAndTheirLabelsGzippedOrNot) {
  TempDir dir;
  const std::string pixels = "\x01\x02\x03\x04\x05\x06\x07\x08";  // two 2x2 images
  const auto images = dir.Write("train-images-idx3-ubyte.gz", Gzip(Idx({2, 2, 2}, pixels)));
  dir.Write("train-labels-idx1-ubyte.gz", Gzip(Idx({2}, std::string("\x07\x03", 2))));
  const auto labels = IdxLabelsFor(images);
  ASSERT_EQ(labels.filename(), "train-labels-idx1-ubyte.gz");

  auto set = ReadIdxImages(images, labels);
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->count, 2u);
  EXPECT_EQ(set->height, 2u);
  EXPECT_EQ(set->width, 2u);
  EXPECT_EQ(std::string(set->pixels.begin(), set->pixels.end()), pixels);
  EXPECT_EQ(set->labels, (std::vector<int>{7, 3}));
  EXPECT_EQ(set->names[1], "train-images-idx3-ubyte.gz#1");
  EXPECT_EQ(FindIdxImages(dir.path(), "train"), images);
  EXPECT_TRUE(FindIdxImages(dir.path(), "t10k").empty());
}

TEST(IdxTest, AWrongMagicIsNamed) {
  TempDir dir;
  const auto path = dir.Write("images", "PK\x03\x04 not an idx file");
  auto read = ReadIdx(path);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("bad magic"), std::string::npos) << read.status().message();
  EXPECT_NE(read.status().message().find(path.string()), std::string::npos);
}

TEST(IdxTest, AnotherElementTypeIsRefused) {
  TempDir dir;
  std::string floats = Idx({1}, "abcd");
  floats[2] = 0x0D;
  auto read = ReadIdx(dir.Write("floats", floats));
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("0x0d"), std::string::npos) << read.status().message();
}

TEST(IdxTest, ATruncatedFileSaysSo) {
  TempDir dir;
  std::string idx = Idx({3, 2, 2}, std::string(12, 'x'));
  idx.resize(idx.size() - 5);
  auto read = ReadIdx(dir.Write("short", idx));
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("truncated"), std::string::npos) << read.status().message();
  EXPECT_NE(read.status().message().find("12 bytes"), std::string::npos) << read.status().message();
}

TEST(IdxTest, ATruncatedGzipStreamSaysSo) {
  TempDir dir;
  std::string gz = Gzip(Idx({64, 8, 8}, std::string(64 * 64, 'x')));
  gz.resize(gz.size() / 2);
  auto read = ReadIdx(dir.Write("short.gz", gz));
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("gzip"), std::string::npos) << read.status().message();
}

TEST(IdxTest, LabelsMustMatchTheImages) {
  TempDir dir;
  const auto images = dir.Write("a-images-idx3-ubyte", Idx({2, 1, 1}, "ab"));
  const auto labels = dir.Write("a-labels-idx1-ubyte", Idx({3}, "abc"));
  auto set = ReadIdxImages(images, labels);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("3 labels"), std::string::npos) << set.status().message();
  // Images must have rank 3.
  EXPECT_FALSE(ReadIdxImages(labels, {}).ok());
}

TEST(ImageFolderTest, ListsClassSubfoldersInOrder) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "shirt");
  std::filesystem::create_directories(dir.path() / "bag");
  dir.Write("shirt/b.png", "x");
  dir.Write("shirt/a.PNG", "x");
  dir.Write("bag/z.jpg", "x");
  dir.Write("bag/notes.txt", "not an image");
  auto folder = ListImageFolder(dir.path());
  ASSERT_TRUE(folder.ok()) << folder.status().message();
  EXPECT_EQ(folder->classes, (std::vector<std::string>{"bag", "shirt"}));
  ASSERT_EQ(folder->files.size(), 3u);
  EXPECT_EQ(folder->files[0].filename(), "z.jpg");
  EXPECT_EQ(folder->files[1].filename(), "a.PNG");
  EXPECT_EQ(folder->labels, (std::vector<int>{0, 1, 1}));
}

TEST(ImageFolderTest, AFolderWithoutClassesIsAnError) {
  TempDir dir;
  dir.Write("a.png", "x");
  auto folder = ListImageFolder(dir.path());
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find("class subfolders"), std::string::npos);
}

}  // namespace
}  // namespace wharf::data
