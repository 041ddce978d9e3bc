#include "core/level_detector.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

Level D(std::string_view line) {
  LevelDetector d;
  return d.Detect(line);
}

TEST(LevelDetector, PythonLoggingDefaultFormat) {
  EXPECT_EQ(D("WARNING:root:disk almost full"), Level::kWarning);
  EXPECT_EQ(D("ERROR:trainer:nan loss"), Level::kError);
  EXPECT_EQ(D("DEBUG:urllib3:Starting new HTTPS connection"), Level::kDebug);
  EXPECT_EQ(D("CRITICAL:root:out of memory"), Level::kCritical);
  EXPECT_EQ(D("ERROR: Could not find a version"), Level::kError);
}

TEST(LevelDetector, AsctimeNameLevel) {
  EXPECT_EQ(D("2024-11-16 10:00:00,123 - trainer - ERROR - loss is nan"), Level::kError);
  EXPECT_EQ(D("2024-11-16 10:00:00,123 - trainer - WARNING - lr too high"), Level::kWarning);
}

TEST(LevelDetector, TimestampThenLevel) {
  EXPECT_EQ(D("2024-11-16 10:00:00,123 WARNING something odd"), Level::kWarning);
  EXPECT_EQ(D("2024-11-16 10:00:00.123 | ERROR    | mod:fn:12 - boom"), Level::kError);
  EXPECT_EQ(D("10:00:01 DEBUG tick"), Level::kDebug);
}

TEST(LevelDetector, Glog) {
  EXPECT_EQ(D("E0102 15:04:05.123456  1234 file.cc:12] failed"), Level::kError);
  EXPECT_EQ(D("W0102 15:04:05.123456  1234 file.cc:12] slow"), Level::kWarning);
  EXPECT_EQ(D("F0102 15:04:05.123456  1234 file.cc:12] check failed"), Level::kCritical);
  EXPECT_EQ(D("I0102 15:04:05.123456  1234 file.cc:12] ok"), Level::kInfo);
  EXPECT_EQ(D("E0102 is not glog"), Level::kInfo);
}

TEST(LevelDetector, Bracketed) {
  EXPECT_EQ(D("[ERROR] cannot open file"), Level::kError);
  EXPECT_EQ(D("[2024-11-16 10:00:00][WARNING] hot"), Level::kWarning);
  EXPECT_EQ(D("[10:00:00 warn] hot"), Level::kWarning);
  EXPECT_EQ(D("[error handling] is a topic"), Level::kInfo);
}

TEST(LevelDetector, KeyValueAndJson) {
  EXPECT_EQ(D("ts=1 level=error msg=\"x\""), Level::kError);
  EXPECT_EQ(D("ts=1 lvl=warn msg=x"), Level::kWarning);
  EXPECT_EQ(D("{\"level\": \"error\", \"msg\": \"x\"}"), Level::kError);
  EXPECT_EQ(D("{\"levelname\":\"DEBUG\",\"msg\":\"x\"}"), Level::kDebug);
  EXPECT_EQ(D("noise_level=errorbar"), Level::kInfo);
}

TEST(LevelDetector, PythonWarnings) {
  EXPECT_EQ(D("/usr/lib/x.py:12: UserWarning: deprecated"), Level::kWarning);
  EXPECT_EQ(D("DeprecationWarning: old api"), Level::kWarning);
}

TEST(LevelDetector, NeverABareSubstring) {
  EXPECT_EQ(D("GET https://example.com/error/page 200"), Level::kInfo);
  EXPECT_EQ(D("epoch 3 step 1200 loss 0.2345 error_rate 0.1"), Level::kInfo);
  EXPECT_EQ(D("no errors found"), Level::kInfo);
  EXPECT_EQ(D("Error rate is low"), Level::kInfo);
  EXPECT_EQ(D(""), Level::kInfo);
}

TEST(LevelDetector, AnsiColouredPrefix) {
  EXPECT_EQ(D("\x1b[31mERROR:root:red\x1b[0m"), Level::kError);
  EXPECT_EQ(D("\x1b[1;33m[WARNING]\x1b[0m careful"), Level::kWarning);
}

TEST(LevelDetector, TracebackBlockIsError) {
  LevelDetector d;
  EXPECT_EQ(d.Detect("before"), Level::kInfo);
  EXPECT_EQ(d.Detect("Traceback (most recent call last):"), Level::kError);
  EXPECT_EQ(d.Detect("  File \"train.py\", line 3, in <module>"), Level::kError);
  EXPECT_EQ(d.Detect("    main()"), Level::kError);
  EXPECT_EQ(d.Detect("ZeroDivisionError: division by zero"), Level::kError);
  EXPECT_EQ(d.Detect("after"), Level::kInfo);
}

}  // namespace
}  // namespace wanllmdb
