#include "artifact/modelfile.h"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::artifact {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// An independent bitwise CRC-32 (the zlib polynomial), so tests can craft
// files with a valid checksum and cross-check the implementation's zlib call.
std::uint32_t TestCrc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string Le(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

// Replaces the trailing checksum with a correct one for the bytes before it.
std::string Reseal(std::string bytes) {
  bytes.resize(bytes.size() - 4);
  return bytes + Le(TestCrc32(bytes), 4);
}

// Builds a file by hand: magic, version, count, header, sections, valid CRC.
std::string Craft(std::uint32_t version, std::uint32_t count, std::string_view header, std::string_view rest) {
  std::string out(kModelfileMagic, sizeof(kModelfileMagic));
  out += Le(version, 4) + Le(count, 4) + Le(header.size(), 8);
  out += header;
  out += rest;
  return out + Le(TestCrc32(out), 4);
}

Modelfile SampleModelfile() {
  Modelfile file;
  file.header = {{"estimator", {{"kind", "xgboost"}, {"params", {{"max_depth", 6}}}}},
                 {"schema", {{"features", {"a", "b", "c"}}, {"label", "y"}}},
                 {"wharf_version", "0.1.0"}};
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  binary += std::string("\0\0\0mid\0", 7);
  file.sections = {{"booster", binary}, {"empty", ""}, {"pca", "projection matrix"}};
  return file;
}

// Large enough that tenths of it land inside the header, inside each section
// and near the checksum.
Modelfile LargeModelfile() {
  Modelfile file = SampleModelfile();
  std::mt19937 rng(7);
  std::string big(100'000, '\0');
  for (auto& c : big) c = static_cast<char>(rng());
  file.sections.push_back({"weights", big});
  file.header["notes"] = std::string(5'000, 'n');
  return file;
}

void ExpectSameModelfile(const Modelfile& a, const Modelfile& b) {
  EXPECT_EQ(a.header, b.header);
  ASSERT_EQ(a.sections.size(), b.sections.size());
  for (std::size_t i = 0; i < a.sections.size(); ++i) {
    EXPECT_EQ(a.sections[i].name, b.sections[i].name);
    EXPECT_EQ(a.sections[i].bytes, b.sections[i].bytes);
  }
}

// What every rejection of damaged bytes must be: an error of the two kinds
// the contract names, with a message naming the source.
void ExpectRejected(const Result<Modelfile>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_TRUE(r.status().code() == StatusCode::kDataLoss || r.status().code() == StatusCode::kInvalidArgument)
      << what << ": " << r.status().ToString();
  EXPECT_THAT(r.status().message(), StartsWith("m.wharf: ")) << what;
}

TEST(ModelfileTest, RoundTripsHeaderAndSections) {
  const Modelfile file = SampleModelfile();
  const auto parsed = ParseModelfile(SerializeModelfile(file), "m.wharf");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectSameModelfile(file, *parsed);
  ASSERT_NE(parsed->Find("empty"), nullptr);
  EXPECT_EQ(parsed->Find("empty")->bytes, "");
  EXPECT_EQ(parsed->Find("booster")->bytes.size(), 263u);
}

TEST(ModelfileTest, RoundTripsEmptyModelfile) {
  const auto parsed = ParseModelfile(SerializeModelfile(Modelfile{}), "m.wharf");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->header, nlohmann::json::object());
  EXPECT_TRUE(parsed->sections.empty());
}

TEST(ModelfileTest, SerializesDocumentedLittleEndianLayout) {
  Modelfile file;
  file.sections = {{"ab", std::string("\x01\x00\x02", 3)}};
  std::string expected(kModelfileMagic, 8);
  expected += std::string("\x01\x00\x00\x00", 4);                  // version
  expected += std::string("\x01\x00\x00\x00", 4);                  // one section
  expected += std::string("\x02\x00\x00\x00\x00\x00\x00\x00", 8);  // header length
  expected += "{}";
  expected += std::string("\x02\x00\x00\x00", 4) + "ab";
  expected += std::string("\x03\x00\x00\x00\x00\x00\x00\x00", 8) + std::string("\x01\x00\x02", 3);
  expected += Le(TestCrc32(expected), 4);
  EXPECT_EQ(SerializeModelfile(file), expected);
}

TEST(ModelfileTest, FindReturnsNamedSectionOrNull) {
  const Modelfile file = SampleModelfile();
  ASSERT_NE(file.Find("pca"), nullptr);
  EXPECT_EQ(file.Find("pca")->bytes, "projection matrix");
  EXPECT_EQ(file.Find("missing"), nullptr);
  EXPECT_EQ(file.Find(""), nullptr);
}

TEST(ModelfileTest, EmptyInputIsBadMagic) {
  const auto r = ParseModelfile("", "m.wharf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "m.wharf: not a wharf Modelfile (bad magic)");
}

TEST(ModelfileTest, BadMagicIsInvalidArgument) {
  std::string bytes = SerializeModelfile(SampleModelfile());
  bytes[0] = 'X';
  const auto r = ParseModelfile(bytes, "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("bad magic"));
  EXPECT_EQ(ParseModelfile("PK\x03\x04 a zip file", "m.wharf").status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelfileTest, NewerVersionWithValidChecksumIsInvalidArgument) {
  std::string bytes = SerializeModelfile(SampleModelfile());
  bytes[8] = 2;
  const auto r = ParseModelfile(Reseal(bytes), "m.wharf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "m.wharf: Modelfile format version 2 is not supported by this wharf (reads version 1)");
}

TEST(ModelfileTest, UnknownVersionWithBadChecksumIsDataLoss) {
  std::string bytes = SerializeModelfile(SampleModelfile());
  bytes[8] = 2;
  const auto r = ParseModelfile(bytes, "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("corrupted"));
}

TEST(ModelfileTest, ChecksumMismatchNamesBothValues) {
  std::string bytes = SerializeModelfile(SampleModelfile());
  bytes[bytes.size() - 10] ^= 0x01;  // inside the last payload
  const auto r = ParseModelfile(bytes, "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), StartsWith("m.wharf: Modelfile checksum mismatch (stored 0x"));
  EXPECT_THAT(r.status().message(), HasSubstr("the file is corrupted"));
}

TEST(ModelfileTest, TrailingBytesAreDataLoss) {
  const auto r = ParseModelfile(SerializeModelfile(SampleModelfile()) + "junk", "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("4 unexpected bytes after its checksum"));
}

TEST(ModelfileTest, TruncationMessageNamesWhatAndWhere) {
  const std::string bytes = SerializeModelfile(SampleModelfile());
  const auto r = ParseModelfile(bytes.substr(0, bytes.size() - 2), "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "m.wharf: truncated Modelfile: checksum needs 4 bytes at offset " +
                                      std::to_string(bytes.size() - 4) + ", file has " +
                                      std::to_string(bytes.size() - 2) + " bytes");
}

TEST(ModelfileTest, TruncationAtEveryByteOfSmallFileIsRejected) {
  const std::string bytes = SerializeModelfile(SampleModelfile());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    ExpectRejected(ParseModelfile(bytes.substr(0, n), "m.wharf"), "truncated to " + std::to_string(n));
  }
}

TEST(ModelfileTest, TruncationAtEveryTenthOfLargeFileIsRejected) {
  const std::string bytes = SerializeModelfile(LargeModelfile());
  for (int tenth = 0; tenth < 10; ++tenth) {
    const std::size_t n = bytes.size() * tenth / 10;
    ExpectRejected(ParseModelfile(bytes.substr(0, n), "m.wharf"), "truncated to " + std::to_string(n));
  }
  ExpectRejected(ParseModelfile(bytes.substr(0, bytes.size() - 1), "m.wharf"), "last byte dropped");
}

TEST(ModelfileTest, FlippingAnyBitOfSmallFileIsRejected) {
  const std::string bytes = SerializeModelfile(SampleModelfile());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      ExpectRejected(ParseModelfile(damaged, "m.wharf"),
                     "byte " + std::to_string(i) + " bit " + std::to_string(bit));
    }
  }
}

TEST(ModelfileTest, OverwritingBytesOfLargeFileIsRejected) {
  const std::string bytes = SerializeModelfile(LargeModelfile());
  std::mt19937 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    // Spread over the whole file, with the structural start weighted in.
    const std::size_t i = trial < 100 ? static_cast<std::size_t>(trial) : rng() % bytes.size();
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 + rng() % 255));
    ExpectRejected(ParseModelfile(damaged, "m.wharf"), "byte " + std::to_string(i));
  }
}

TEST(ModelfileTest, RandomGarbageIsRejected) {
  std::mt19937 rng(3);
  const std::string prefix = std::string(kModelfileMagic, 8) + Le(kModelfileFormatVersion, 4);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string garbage(rng() % 200, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng());
    // Half the inputs get past the magic and version checks into the walk.
    if (trial % 2 == 1) garbage = prefix + garbage;
    ExpectRejected(ParseModelfile(garbage, "m.wharf"), "trial " + std::to_string(trial));
  }
}

// Lengths near 2^32 and 2^64 must be caught by comparing with the bytes left,
// not by offset arithmetic that wraps around, and never allocated.
TEST(ModelfileTest, HugeLengthsAreTruncationNotAllocation) {
  struct Case {
    const char* name;
    std::string bytes;
  };
  const std::string section_a = Le(1, 4) + "a";
  const Case cases[] = {
      {"header length 2^64-1", Craft(1, 0, "", "").replace(16, 8, Le(UINT64_MAX, 8))},
      {"header length wraps offset", Craft(1, 0, "{}", "").replace(16, 8, Le(UINT64_MAX - 20, 8))},
      {"section count 2^32-1", Craft(1, UINT32_MAX, "{}", "")},
      {"name length 2^32-1", Craft(1, 1, "{}", Le(UINT32_MAX, 4) + "a")},
      {"payload length 2^64-1", Craft(1, 1, "{}", section_a + Le(UINT64_MAX, 8) + "xyz")},
      {"payload length wraps offset", Craft(1, 1, "{}", section_a + Le(UINT64_MAX - 30, 8) + "xyz")},
  };
  for (const auto& c : cases) {
    const auto r = ParseModelfile(c.bytes, "m.wharf");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << c.name;
    EXPECT_THAT(r.status().message(), HasSubstr("truncated Modelfile")) << c.name;
  }
}

TEST(ModelfileTest, HeaderThatIsNotJsonIsDataLoss) {
  const auto r = ParseModelfile(Craft(1, 0, "{\"a\": ", ""), "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(r.status().message(), HasSubstr("parse_error"));
}

TEST(ModelfileTest, HeaderWithInvalidUtf8IsDataLoss) {
  const auto r = ParseModelfile(Craft(1, 0, "{\"a\": \"\xff\"}", ""), "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST(ModelfileTest, HeaderThatIsNotAnObjectIsDataLoss) {
  Modelfile file;
  file.header = nlohmann::json::array({1, 2});
  const auto r = ParseModelfile(SerializeModelfile(file), "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("expected an object"));
}

// A header of valid JSON and a valid checksum that nests 300,000 deep
// overflowed the stack of `wharf model inspect --json` and `model register`.
TEST(ModelfileTest, HeaderNestedPastTheLimitIsRefusedNamingTheLimit) {
  const std::string deep = "{\"a\": " + std::string(300000, '[') + std::string(300000, ']') + "}";
  const auto r = ParseModelfile(Craft(1, 0, deep, ""), "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("m.wharf: the Modelfile header nests deeper than 64 levels"));

  const std::string at_limit = "{\"a\": " + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(ParseModelfile(Craft(1, 0, at_limit, ""), "m.wharf").ok());
}

TEST(ModelfileTest, DuplicateSectionNamesAreDataLoss) {
  Modelfile file;
  file.sections = {{"model", "a"}, {"other", "b"}, {"model", "c"}};
  const auto r = ParseModelfile(SerializeModelfile(file), "m.wharf");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("two sections named 'model'"));
}

TEST(ModelfileTest, InvalidUtf8InHeaderIsReplacedWhenSerializing) {
  Modelfile file;
  file.header["column"] = std::string("caf\xe9");  // Latin-1, not UTF-8
  const auto r = ParseModelfile(SerializeModelfile(file), "m.wharf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->header["column"], "caf\xef\xbf\xbd");
}

TEST(ModelfileIoTest, WriteThenReadRoundTrips) {
  testing::TempDir dir;
  const auto path = dir.path() / "model.wharf";
  const Modelfile file = LargeModelfile();
  ASSERT_TRUE(WriteModelfile(file, path).ok());
  const auto read = ReadModelfile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectSameModelfile(file, *read);
  EXPECT_EQ(testing::ReadFile(path), SerializeModelfile(file));
}

TEST(ModelfileIoTest, WriteReplacesExistingFileAndLeavesNoTempFiles) {
  testing::TempDir dir;
  const auto path = dir.path() / "model.wharf";
  dir.Write("model.wharf", "old contents");
  ASSERT_TRUE(WriteModelfile(SampleModelfile(), path).ok());
  ASSERT_TRUE(WriteModelfile(SampleModelfile(), path).ok());
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::ElementsAre("model.wharf"));
  EXPECT_TRUE(ReadModelfile(path).ok());
}

TEST(ModelfileIoTest, WriteIntoMissingDirectoryFailsClearly) {
  testing::TempDir dir;
  const auto path = dir.path() / "no-such-dir" / "model.wharf";
  const Status s = WriteModelfile(SampleModelfile(), path);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.code() == StatusCode::kNotFound || s.code() == StatusCode::kIoError) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(path.string()));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "no-such-dir"));
}

TEST(ModelfileIoTest, FailedRenameRemovesTempFile) {
  testing::TempDir dir;
  const auto path = dir.path() / "model.wharf";
  std::filesystem::create_directory(path);  // rename of a file over a directory fails
  std::filesystem::create_directory(path / "child");
  const Status s = WriteModelfile(SampleModelfile(), path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(path.string()));
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(ModelfileIoTest, ReadMissingFileIsNotFound) {
  testing::TempDir dir;
  const auto path = dir.path() / "absent.wharf";
  const auto r = ReadModelfile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), path.string() + ": no such file");
}

TEST(ModelfileIoTest, ReadDirectoryIsIoError) {
  testing::TempDir dir;
  const auto r = ReadModelfile(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
}

TEST(ModelfileIoTest, ReadDamagedFileNamesThePath) {
  testing::TempDir dir;
  const std::string bytes = SerializeModelfile(SampleModelfile());
  const auto path = dir.Write("cut.wharf", bytes.substr(0, bytes.size() / 2));
  const auto r = ReadModelfile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), StartsWith(path.string() + ": truncated Modelfile"));
}

}  // namespace
}  // namespace wharf::artifact
