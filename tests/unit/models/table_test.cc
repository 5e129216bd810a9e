#include "resonance/models/table.h"

#include <gtest/gtest.h>

namespace resonance::models {
namespace {

ReadOptions text_options(std::vector<std::string> names) {
  ReadOptions o;
  o.format = TextFormat::kWhitespace;
  o.header = false;
  o.names = std::move(names);
  return o;
}

TEST(Table, CsvWithByteOrderMarkAndCrlf) {
  const auto t = parse_table("\xEF\xBB\xBFUDI,Type,Torque [Nm]\r\n1,L,42.8\r\n2,M,46.3\r\n", "a.csv", {});
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_EQ(t->rows, 2u);
  ASSERT_EQ(t->columns.size(), 3u);
  EXPECT_EQ(t->columns[0].name, "UDI");  // the BOM is not part of the first name
  EXPECT_EQ(t->columns[1].type, ColumnType::kText);
  EXPECT_EQ(t->columns[1].texts[1], "M");
  EXPECT_EQ(t->columns[2].type, ColumnType::kNumber);
  EXPECT_DOUBLE_EQ(t->columns[2].numbers[1], 46.3);
}

TEST(Table, CrOnlyLfAndTrailingSpacesAgree) {
  const auto lf = parse_table("1 2 3  \n4 5 6  \n", "lf", text_options({"a", "b", "c"}));
  const auto cr = parse_table("1 2 3  \r4 5 6  \r", "cr", text_options({"a", "b", "c"}));
  const auto crlf = parse_table("1 2 3  \r\n4 5 6  \r\n\r\n", "crlf", text_options({"a", "b", "c"}));
  for (const auto* t : {&lf, &cr, &crlf}) {
    ASSERT_TRUE(*t) << (*t).error().message();
    ASSERT_EQ((*t)->rows, 2u);
    EXPECT_DOUBLE_EQ((*t)->columns[2].numbers[1], 6.0);
  }
}

TEST(Table, CsvQuotingAndBlankFields) {
  const auto t = parse_table("name,note\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n", "q.csv", {});
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->columns[0].texts[0], "a, b");
  EXPECT_EQ(t->columns[1].texts[0], "say \"hi\"");
}

TEST(Table, MissingColumnNamesLineAndColumn) {
  const auto t = parse_table("a,b,c\n1,2,3\n4,5\n", "m.csv", {});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message(), "m.csv:3: 2 fields, expected 3 (missing column 3 'c')");
}

TEST(Table, WrongTypeNamesLineFieldAndColumn) {
  ReadOptions o;
  o.types["b"] = ColumnType::kNumber;
  const auto t = parse_table("a,b\r\n1,2\r\n3,x7\r\n", "w.csv", o);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message(), "w.csv:3: field 2 (column 'b'): expected a number, got 'x7'");
}

TEST(Table, EmptyCellAndEmptyFileAreErrors) {
  const auto cell = parse_table("a,b\n1,\n", "e.csv", {});
  ASSERT_FALSE(cell);
  EXPECT_EQ(cell.error().message(), "e.csv:2: field 2 (column 'b') is empty");
  const auto empty = parse_table("", "z.csv", {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "z.csv: empty file, no header line");
  const auto header_only = parse_table("\xEF\xBB\xBF" "a,b\r\n", "h.csv", {});
  ASSERT_FALSE(header_only);
  EXPECT_EQ(header_only.error().message(), "h.csv: no data rows");
}

TEST(Table, ExtraFieldAndUnclosedQuote) {
  const auto extra = parse_table("1 2 3\n", "x.txt", text_options({"a", "b"}));
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().message(), "x.txt:1: 3 fields, expected 2 (field 3 has no column)");
  const auto quote = parse_table("a\n\"open\n", "u.csv", {});
  ASSERT_FALSE(quote);
  EXPECT_EQ(quote.error().message(), "u.csv:2: field 1: quoted field is never closed");
}

TEST(Table, UnknownColumnListsTheColumns) {
  const auto t = parse_table("a,b\n1,2\n", "c.csv", {});
  ASSERT_TRUE(t);
  const auto c = t->column("Torque");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "c.csv: no column 'Torque' (columns: 'a', 'b')");
}

}  // namespace
}  // namespace resonance::models
