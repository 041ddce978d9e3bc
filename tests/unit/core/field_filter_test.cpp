#include "core/field_filter.h"

#include <gtest/gtest.h>

#include "core/json_text.h"

namespace wanllmdb {
namespace {

bool Match(const std::string& expr, std::string_view fields) {
  auto p = FieldPredicate::Parse(expr);
  EXPECT_TRUE(p.ok()) << expr << ": " << p.status().message();
  return p.ok() && p->Matches(fields);
}

TEST(FieldFilter, ComparesNumbersAsNumbers) {
  const std::string f = R"({"loss":1.75,"rank":3,"lr":1e-4,"name":"run \"a\"","ok":true,"n":null})";
  EXPECT_TRUE(Match("loss>1.5", f));
  EXPECT_FALSE(Match("loss>1.75", f));
  EXPECT_TRUE(Match("loss>=1.75", f));
  EXPECT_TRUE(Match("loss<2", f));
  EXPECT_TRUE(Match("rank=3", f));
  EXPECT_TRUE(Match("rank==3.0", f));
  EXPECT_TRUE(Match("rank!=4", f));
  EXPECT_FALSE(Match("rank!=3", f));
  EXPECT_TRUE(Match("lr<=0.0001", f));
  EXPECT_TRUE(Match("name=run \"a\"", f));
  EXPECT_TRUE(Match("ok=true", f));
  EXPECT_TRUE(Match("n=null", f));
  EXPECT_TRUE(Match("loss", f));
  EXPECT_FALSE(Match("!loss", f));
  EXPECT_TRUE(Match("!missing", f));
  EXPECT_FALSE(Match("missing", f));
  // A comparison needs the field; a numeric string compares as a number.
  EXPECT_FALSE(Match("missing!=1", f));
  EXPECT_TRUE(Match("v>1", R"({"v":"1.5"})"));
  EXPECT_FALSE(Match("name>1", f));
  // No fields at all.
  EXPECT_FALSE(Match("loss>0", ""));
  EXPECT_TRUE(Match("!loss", ""));
}

TEST(FieldFilter, NestedKeysAndEscapedKeys) {
  const std::string f =
      R"({"data":{"gpu":0,"mem":{"used":12.5}},"a\"b":1,"x":[1,{"y":2}],"z":"}"})";
  EXPECT_TRUE(Match("data.gpu=0", f));
  EXPECT_TRUE(Match("data.mem.used>12", f));
  EXPECT_FALSE(Match("data.cpu", f));
  EXPECT_TRUE(Match("a\"b=1", f));
  EXPECT_TRUE(Match("z=}", f));
  EXPECT_FALSE(Match("x.y", f));  // arrays are not walked
}

TEST(FieldFilter, RefusesMalformedExpressions) {
  for (const char* bad : {"", "=3", "loss>", "loss>abc", "!loss=1", "a..b=1", ".a", "a~1"}) {
    auto p = FieldPredicate::Parse(bad);
    if (std::string_view(bad) == "a~1") {
      // '~' is part of a name: an existence test of the field "a~1".
      EXPECT_TRUE(p.ok());
      continue;
    }
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), Code::kInvalidValue) << bad;
    }
  }
  EXPECT_FALSE(FieldPredicate::Parse(std::string(600, 'a')).ok());
}

// Any bytes (a corrupt chunk) are looked up safely: no crash, no read past the end.
TEST(JsonText, FindFieldIsSafeOnGarbage) {
  for (const char* s : {"", "{", "{\"", "{\"a\"", "{\"a\":", "{\"a\":[", "{\"a\":\"\\", "[1]",
                        "{\"a\":1,", "{\"a\" 1}", "{\"a\":{\"b\":1}", "{\"a\":}", "nul"}) {
    EXPECT_FALSE(FindField(s, "zz").has_value()) << s;
  }
  EXPECT_EQ(FindField(R"({ "a" : 1 , "b" : "x" })", "b").value_or(""), "\"x\"");
  EXPECT_EQ(FindField(R"({"a":1,"a":2})", "a").value_or(""), "1");
}

TEST(JsonText, StringsRoundTrip) {
  std::string out;
  AppendJsonString(&out, "a\"b\\c\n\x01 é");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001 é\"");
  EXPECT_EQ(JsonStringValue(out).value_or("?"), "a\"b\\c\n\x01 é");
  EXPECT_EQ(JsonStringValue("\"\\ud83d\\ude00\"").value_or("?"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(JsonStringValue("\"\\ud83d\"").value_or("?"), "\xEF\xBF\xBD");
  EXPECT_FALSE(JsonStringValue("\"\\q\"").has_value());
  EXPECT_FALSE(JsonStringValue("\"\\u12\"").has_value());
  EXPECT_FALSE(JsonStringValue("12").has_value());
}

TEST(JsonText, Numbers) {
  for (const char* ok : {"0", "-0", "1.5", "1e-4", "1E+10", "-12.25e3"})
    EXPECT_TRUE(IsJsonNumber(ok)) << ok;
  for (const char* bad : {"", "-", "01", ".5", "1.", "1e", "nan", "inf", "0x10", "1 ", "+1"})
    EXPECT_FALSE(IsJsonNumber(bad)) << bad;
}

}  // namespace
}  // namespace wanllmdb
