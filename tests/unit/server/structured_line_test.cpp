#include "server/structured_line.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

TEST(StructuredLine, JsonObjectLines) {
  auto s = ParseStructuredLine(
      R"({"time":"2024-11-16T10:00:00.5Z","level":"warning","msg":"disk slow","disk":"sda","pct":97.5,"tags":["a"]})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->fields, R"({"disk":"sda","pct":97.5,"tags":["a"]})");
  ASSERT_TRUE(s->level);
  EXPECT_EQ(s->level->level, Level::kWarning);
  EXPECT_EQ(s->level->name, "");
  EXPECT_EQ(s->timestamp_us.value_or(0), 1731751200500000);
}

TEST(StructuredLine, JsonLevelsOfEveryShape) {
  auto pino = ParseStructuredLine(R"({"level":50,"time":1731751200000,"msg":"boom"})");
  ASSERT_TRUE(pino && pino->level);
  EXPECT_EQ(pino->level->level, Level::kError);
  EXPECT_EQ(pino->timestamp_us.value_or(0), 1731751200000000);  // milliseconds
  auto zap = ParseStructuredLine(R"({"level":"fatal","ts":1731751200.25,"msg":"x"})");
  ASSERT_TRUE(zap && zap->level);
  EXPECT_EQ(zap->level->level, Level::kCritical);
  EXPECT_EQ(zap->level->name, "FATAL");
  EXPECT_EQ(zap->timestamp_us.value_or(0), 1731751200250000);  // seconds
  auto custom = ParseStructuredLine(R"({"severity":"success","step":3})");
  ASSERT_TRUE(custom && custom->level);
  EXPECT_EQ(custom->level->level, Level::kInfo);
  EXPECT_EQ(custom->level->name, "SUCCESS");
  EXPECT_EQ(custom->fields, R"({"step":3})");
  // A level that is not a level name stays a field.
  auto odd = ParseStructuredLine(R"({"level":"very loud!","a":1})");
  ASSERT_TRUE(odd);
  EXPECT_FALSE(odd->level);
  EXPECT_EQ(odd->fields, R"({"level":"very loud!","a":1})");
}

TEST(StructuredLine, PythonDictsAsHuggingFacePrintsThem) {
  auto s = ParseStructuredLine(
      "{'loss': 2.1234, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': 0.01, 'ok': True, "
      "'best': None, 'name': 'it\\'s'}");
  ASSERT_TRUE(s);
  EXPECT_EQ(
      s->fields,
      R"({"loss":2.1234,"grad_norm":1.5,"learning_rate":5e-05,"epoch":0.01,"ok":true,"best":null,"name":"it's"})");
  auto nan = ParseStructuredLine("{'loss': nan, 'x': 1}");
  ASSERT_TRUE(nan);
  EXPECT_EQ(nan->fields, R"({"loss":"nan","x":1})");
  // Nested or other Python values: plain text.
  EXPECT_FALSE(ParseStructuredLine("{'a': [1, 2]}"));
  EXPECT_FALSE(ParseStructuredLine("{'a': 1} trailing"));
}

TEST(StructuredLine, Logfmt) {
  auto s =
      ParseStructuredLine(R"(level=info step=100 loss=1.5 msg="eval done" path=/tmp/x ok=true)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->fields, R"({"step":100,"loss":1.5,"path":"/tmp/x","ok":true})");
  ASSERT_TRUE(s->level);
  EXPECT_EQ(s->level->level, Level::kInfo);
  auto escaped = ParseStructuredLine(R"(a="say \"hi\"" b=)");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->fields, R"({"a":"say \"hi\"","b":""})");
}

TEST(StructuredLine, PlainTextStaysPlain) {
  for (const char* text :
       {"Epoch 1: loss=0.5 acc=0.9", "loss=0.5", "hello world", "{not json}", "{}", "x = 1 y = 2",
        "a=1 b", "=1 b=2", "a=\"open b=2", "{\"a\":1} extra", "[1,2,3]",
        "100%|##########| 10/10 [00:01<00:00, 9.5it/s]", "{\"a\":"}) {
    auto s = ParseStructuredLine(text);
    EXPECT_TRUE(!s || (s->fields.empty() && !s->level)) << text;
  }
}

// Found by tests/fuzz/structured_line_fuzz: a number past a double's range made fields that no
// JSON parser reads.
TEST(StructuredLine, HugeNumbersStayText) {
  auto s = ParseStructuredLine("a=1e888 b=2");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->fields, R"({"a":"1e888","b":2})");
  EXPECT_FALSE(ParseStructuredLine("{'a': 1e999}"));
  auto big = ParseStructuredLine("id=1888888888888888888888 n=123456789012345678");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->fields, R"({"id":"1888888888888888888888","n":123456789012345678})");  // repr() never prints that: plain text
}

TEST(StructuredLine, BoundsKeys) {
  std::string long_key(200, 'k');
  EXPECT_FALSE(ParseStructuredLine("{\"" + long_key + "\":1}"));
  EXPECT_FALSE(ParseStructuredLine(long_key + "=1 b=2"));
}

}  // namespace
}  // namespace wanllmdb
