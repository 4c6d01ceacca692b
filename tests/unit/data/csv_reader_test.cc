#include "data/csv_reader.h"

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace wharf::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;

Result<std::unique_ptr<CsvReader>> FromText(std::string text, CsvOptions options = {}) {
  return CsvReader::FromStream(std::make_unique<std::istringstream>(std::move(text)), "t.csv", options);
}

// Reads every record, failing the test on an error.
Rows ReadAll(CsvReader& reader) {
  Rows rows;
  CsvRecord record;
  for (;;) {
    auto more = reader.Next(record);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) return rows;
    rows.push_back(record.fields);
  }
}

// The Status of the first failing Next(), or OK.
Status FirstError(CsvReader& reader) {
  CsvRecord record;
  for (;;) {
    auto more = reader.Next(record);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
  }
}

TEST(CsvReaderTest, SniffsTheDelimiterFromTheHeader) {
  const struct {
    std::string text;
    char delimiter;
  } cases[] = {
      {"a;b;c\n1;2;3\n", ';'},
      {"a,b,c\n1,2,3\n", ','},
      {"a\tb\tc\n1\t2\t3\n", '\t'},
      {"a,b;c;d\n1,2;3;4\n", ';'},          // the most frequent candidate wins
      {"\"x;y\",b,c\n\"1;2\",2,3\n", ','},  // delimiters inside quotes do not count
  };
  for (const auto& c : cases) {
    auto reader = FromText(c.text);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->delimiter(), c.delimiter) << c.text;
    EXPECT_EQ((*reader)->header().size(), 3u) << c.text;
    const Rows rows = ReadAll(**reader);
    ASSERT_EQ(rows.size(), 1u) << c.text;
    EXPECT_EQ(rows[0].size(), 3u) << c.text;
  }
}

TEST(CsvReaderTest, HeaderWithoutDelimiterIsOneColumn) {
  auto reader = FromText("value\n1\n2\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("value"));
  EXPECT_EQ(ReadAll(**reader), (Rows{{"1"}, {"2"}}));
}

TEST(CsvReaderTest, ForcedDelimiterOverridesSniffing) {
  auto reader = FromText("a;b,c\n1;2,3\n", {.delimiter = ','});
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("a;b", "c"));
}

TEST(CsvReaderTest, StripsOneLayerOfHeaderQuotes) {
  auto reader = FromText("\"fixed acidity\";\"pH\"\n1;2\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("fixed acidity", "pH"));
}

TEST(CsvReaderTest, StripsFourLayersOfHeaderQuotes) {
  auto reader = FromText("\"\"\"\"fixed acidity\"\"\"\";\"\"\"\"pH\"\"\"\"\n7.4;3.51\n");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->delimiter(), ';');
  EXPECT_THAT((*reader)->header(), ElementsAre("fixed acidity", "pH"));
  EXPECT_EQ(ReadAll(**reader), (Rows{{"7.4", "3.51"}}));
}

TEST(CsvReaderTest, StripsWhitespaceAroundHeaderNames) {
  auto reader = FromText(" a , \"b\" \n1,2\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("a", "b"));
}

TEST(CsvReaderTest, HeaderQuotesAreLenient) {
  const struct {
    std::string text;
    std::vector<std::string> header;
  } cases[] = {
      {"\"a;b\";c\n1;2\n", {"a;b", "c"}},                  // delimiter inside a quoted name
      {"\"say \"\"hi\"\"\",b\n1,2\n", {"say \"hi", "b"}},  // "" escape; trailing quotes all stripped
      {"pipe 5\" wide,b\n1,2\n", {"pipe 5\" wide", "b"}},  // a quote inside a name is literal
      {"\"two\nlines\",b\n1,2\n", {"two\nlines", "b"}},    // a quoted name may span lines
  };
  for (const auto& c : cases) {
    auto reader = FromText(c.text);
    ASSERT_TRUE(reader.ok()) << c.text << ": " << reader.status().ToString();
    EXPECT_EQ((*reader)->header(), c.header) << c.text;
    EXPECT_EQ(ReadAll(**reader), (Rows{{"1", "2"}})) << c.text;
  }
}

TEST(CsvReaderTest, UnterminatedHeaderQuoteIsAnError) {
  auto reader = FromText("a,\"b\n1,2\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_THAT(reader.status().message(), HasSubstr("t.csv:1: unterminated quote in the header"));
}

TEST(CsvReaderTest, ReadsCrlfLineEnds) {
  auto reader = FromText("a,b\r\n1,2\r\n3,4\r\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("a", "b"));
  EXPECT_EQ(ReadAll(**reader), (Rows{{"1", "2"}, {"3", "4"}}));
}

TEST(CsvReaderTest, SkipsUtf8ByteOrderMark) {
  auto reader = FromText(
      "\xEF\xBB\xBF"
      "a;b\n1;2\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->header(), ElementsAre("a", "b"));
}

TEST(CsvReaderTest, SkipsBlankLinesAnywhere) {
  auto reader = FromText("\n\na,b\n1,2\n\n  \n3,4\r\n\r\n\n\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(**reader), (Rows{{"1", "2"}, {"3", "4"}}));
}

TEST(CsvReaderTest, ReadsFinalLineWithoutNewline) {
  auto reader = FromText("a,b\n1,2\n3,4");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(**reader), (Rows{{"1", "2"}, {"3", "4"}}));
}

TEST(CsvReaderTest, KeepsEmptyFields) {
  auto reader = FromText("a;b;c\n;;\n1;;3\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(**reader), (Rows{{"", "", ""}, {"1", "", "3"}}));
}

TEST(CsvReaderTest, QuotedFieldKeepsEmbeddedDelimiterAndEscapedQuotes) {
  auto reader = FromText("name,x\n\"Smith, J.\",1\n\"say \"\"hi\"\"\",2\n \"7.4\" ,3\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(**reader), (Rows{{"Smith, J.", "1"}, {"say \"hi\"", "2"}, {"7.4", "3"}}));
}

TEST(CsvReaderTest, QuotedFieldKeepsEmbeddedNewlineAndLinesKeepCounting) {
  auto reader = FromText("note,x\n\"two\r\nlines\",1\n\"\",2\n");
  ASSERT_TRUE(reader.ok());
  CsvRecord record;
  ASSERT_TRUE(*(*reader)->Next(record));
  EXPECT_THAT(record.fields, ElementsAre("two\nlines", "1"));
  EXPECT_EQ(record.line, 2u);
  EXPECT_EQ((*reader)->Where(record, 1), "t.csv:3:8");  // the field after the newline
  ASSERT_TRUE(*(*reader)->Next(record));
  EXPECT_THAT(record.fields, ElementsAre("", "2"));
  EXPECT_EQ(record.line, 4u);
  EXPECT_FALSE(*(*reader)->Next(record));
}

TEST(CsvReaderTest, RecordsLineAndCharacterColumnOfEachField) {
  auto reader = FromText("a;b;c\n\n1.5;\xC3\xA9t\xC3\xA9;x\n");  // "été" is 3 characters, 5 bytes
  ASSERT_TRUE(reader.ok());
  CsvRecord record;
  ASSERT_TRUE(*(*reader)->Next(record));
  EXPECT_EQ(record.line, 3u);
  EXPECT_THAT(record.columns, ElementsAre(1u, 5u, 9u));
  EXPECT_EQ((*reader)->Where(record, 2), "t.csv:3:9");
}

TEST(CsvReaderTest, ReusesRecordAcrossRowsOfDifferentContent) {
  auto reader = FromText("a,b\nlong text here,1\nx,\n");
  ASSERT_TRUE(reader.ok());
  CsvRecord record;
  ASSERT_TRUE(*(*reader)->Next(record));
  ASSERT_TRUE(*(*reader)->Next(record));
  EXPECT_THAT(record.fields, ElementsAre("x", ""));
}

TEST(CsvReaderTest, RaggedRowWithTooFewFieldsNamesLineAndExpectedCount) {
  auto reader = FromText("a;b;c\n1;2;3\n\n4;5\n");
  ASSERT_TRUE(reader.ok());
  const Status status = FirstError(**reader);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("t.csv:4:1: expected 3 fields (as in the header), got 2"));
}

TEST(CsvReaderTest, RaggedRowWithTooManyFieldsPointsAtTheFirstExtraField) {
  auto reader = FromText("a,b\n1,2,3\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT(FirstError(**reader).message(), HasSubstr("t.csv:2:5: expected 2 fields (as in the header), got 3"));
}

TEST(CsvReaderTest, UnterminatedQuoteNamesWhereItOpened) {
  auto reader = FromText("a,b\n1,2\n3,\"never closed\n4,5\n");
  ASSERT_TRUE(reader.ok());
  const Status status = FirstError(**reader);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("t.csv:3:3: quoted field is never closed"));
}

// A stray quote would otherwise make the rest of a large file one field in memory.
TEST(CsvReaderTest, AQuotedFieldPastTheLimitIsAStrayQuoteNamedWhereItOpened) {
  std::string text = "a,b\n1,\"stray\n";
  for (int i = 0; i < 100; ++i) text += "2,3\n";
  auto reader = FromText(text, {.max_quoted_field_bytes = 64});
  ASSERT_TRUE(reader.ok());
  const Status status = FirstError(**reader);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("t.csv:2:3: quoted field runs past 64 bytes"));
  EXPECT_THAT(status.message(), HasSubstr("a stray quote?"));
  // Under the limit, a quoted field may span lines.
  auto fine = FromText("a,b\n1,\"two\nlines\"\n", {.max_quoted_field_bytes = 64});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(ReadAll(**fine), (Rows{{"1", "two\nlines"}}));
}

// A file without line ends (or not a CSV) would otherwise be one line in memory.
TEST(CsvReaderTest, ALinePastTheLimitIsRefusedNamingIt) {
  const std::string long_line(100000, '7');  // longer than one read chunk
  auto reader = FromText("a,b\n1,2\n" + long_line + ",3\n", {.max_line_bytes = 50000});
  ASSERT_TRUE(reader.ok());
  const Status status = FirstError(**reader);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("t.csv:3: line longer than 50000 bytes"));
  // The header is a line too.
  auto header = FromText(long_line + "\n1\n", {.max_line_bytes = 50000});
  ASSERT_FALSE(header.ok());
  EXPECT_THAT(header.status().message(), HasSubstr("t.csv:1: line longer than 50000 bytes"));
  // Up to the limit, long lines (several chunks, the last without a line end) read whole.
  auto fine = FromText("a,b\n" + long_line + "," + long_line + "\n1," + long_line, {.max_line_bytes = 250000});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(ReadAll(**fine), (Rows{{long_line, long_line}, {"1", long_line}}));
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnError) {
  auto reader = FromText("a,b\n\"x\"y,2\n");
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT(FirstError(**reader).message(),
              HasSubstr("t.csv:2:4: expected ',' or end of line after the closing quote"));
}

TEST(CsvReaderTest, EmptyInputIsInvalidArgument) {
  for (const char* text : {"", "\n\n", "\r\n  \r\n"}) {
    auto reader = FromText(text);
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(reader.status().message(), "t.csv: empty file, expected a header line");
  }
}

TEST(CsvReaderTest, EmptyFileNamesItsPath) {
  testing::TempDir dir;
  const auto path = dir.Write("x.csv", "");
  auto reader = CsvReader::Open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader.status().message(), path.string() + ": empty file, expected a header line");
}

TEST(CsvReaderTest, MissingFileIsNotFoundNamingThePath) {
  testing::TempDir dir;
  const auto path = dir.path() / "absent.csv";
  auto reader = CsvReader::Open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(reader.status().message(), HasSubstr(path.string()));
}

TEST(CsvReaderTest, DuplicateHeaderNameIsRejectedByName) {
  auto reader = FromText("a,pH,\"pH\"\n1,2,3\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(reader.status().message(), HasSubstr("t.csv:1:6: duplicate column name 'pH' (also header field 2)"));
}

TEST(CsvReaderTest, EmptyHeaderNameIsRejected) {
  auto reader = FromText("a,,c\n1,2,3\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_THAT(reader.status().message(), HasSubstr("t.csv:1:3: header field 2 has no name"));
}

TEST(CsvReaderTest, HashesEveryByteIncludingLineEnds) {
  const struct {
    std::string text;
    std::string sha256;  // from sha256sum
  } cases[] = {
      {"a,b\n1,2\n", "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470"},
      {"a,b\n1,2", "aeedab1ee7a1043753c9ab768594bc8420d7b85491d0be9421edc3813c237f4c"},
      {"\xEF\xBB\xBF"
       "a;b\r\n1;2\r\n\r\n",
       "e2288cc71aa3b5833378402040b5ec4c6c81f0fd35a1087727cdf1a0be56df7e"},
  };
  for (const auto& c : cases) {
    auto reader = FromText(c.text);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->ContentSha256(), "") << "no digest before the input is exhausted";
    ReadAll(**reader);
    EXPECT_EQ((*reader)->ContentSha256(), c.sha256);
  }
}

TEST(CsvReaderTest, NamesDelimitersForMessages) {
  EXPECT_EQ(DelimiterName(';'), "';'");
  EXPECT_EQ(DelimiterName(','), "','");
  EXPECT_EQ(DelimiterName('\t'), "tab");
}

}  // namespace
}  // namespace wharf::data
