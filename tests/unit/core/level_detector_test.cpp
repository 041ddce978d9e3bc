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

TEST(LevelDetector, AsctimeNameLevelnameWithSpaces) {
  EXPECT_EQ(D("2024-11-16 10:00:00,123 trainer WARNING low disk space"), Level::kWarning);
  EXPECT_EQ(D("2024-11-16 10:00:00,123 torch.distributed.run ERROR failed"), Level::kError);
  EXPECT_EQ(D("2024-11-16 10:00:00,123 [rank2] trainer DEBUG x"), Level::kDebug);
  EXPECT_EQ(D("2024-11-16 10:00:00,123 trainer step ERRORS 3"), Level::kInfo);
}

TEST(LevelDetector, ColourCodesInsideTheLine) {
  // colorlog "%(log_color)s%(levelname)s%(reset)s:%(name)s:%(message)s"
  EXPECT_EQ(D("\x1b[33mWARNING\x1b[0m:root:low disk"), Level::kWarning);
  // colorlog "%(log_color)s%(levelname)-8s%(reset)s %(blue)s%(message)s"
  EXPECT_EQ(D("\x1b[31mERROR   \x1b[0m \x1b[34mboom\x1b[0m"), Level::kError);
  EXPECT_EQ(D("\x1b[1;31mCRITICAL\x1b[0m \x1b[34mdown\x1b[0m"), Level::kCritical);
  // loguru's default format, coloured
  EXPECT_EQ(D("\x1b[32m2024-11-16 10:00:00.123\x1b[0m | \x1b[31m\x1b[1mERROR   \x1b[0m | "
              "\x1b[36m__main__\x1b[0m:\x1b[36m<module>\x1b[0m:\x1b[36m3\x1b[0m - "
              "\x1b[31m\x1b[1mboom\x1b[0m"),
            Level::kError);
  EXPECT_EQ(D("\x1b[32mDone training\x1b[0m"), Level::kInfo);
  EXPECT_EQ(D("WARNING is a word"), Level::kInfo);
}

TEST(LevelDetector, RichHandlerLayout) {
  EXPECT_EQ(D("[11/16/24 10:00:00] WARNING  low disk                         x.py:3"),
            Level::kWarning);
  // the time column is left blank when it repeats
  EXPECT_EQ(D("                    ERROR    second                           x.py:4"),
            Level::kError);
  EXPECT_EQ(
      D("\x1b[2;36m[11/16/24 10:00:00]\x1b[0m\x1b[2;36m \x1b[0m\x1b[31mWARNING \x1b[0m low disk"),
      Level::kWarning);
  EXPECT_EQ(
      D("\x1b[2;36m                    \x1b[0m\x1b[2;36m \x1b[0m\x1b[1;31mCRITICAL\x1b[0m down"),
      Level::kCritical);
}

TEST(LevelDetector, LoguruTracebackFrames) {
  LevelDetector d;
  EXPECT_EQ(d.Detect("2024-11-16 10:00:00.123 | ERROR    | __main__:<module>:9 - failed"),
            Level::kError);
  EXPECT_EQ(d.Detect("Traceback (most recent call last):"), Level::kError);
  EXPECT_EQ(d.Detect(""), Level::kError);
  EXPECT_EQ(d.Detect("> File \"/tmp/x.py\", line 8, in <module>"), Level::kError);
  EXPECT_EQ(d.Detect("    f()"), Level::kError);
  EXPECT_EQ(d.Detect("    \xe2\x94\x94 <function f at 0x7f>"), Level::kError);
  EXPECT_EQ(d.Detect(""), Level::kError);
  EXPECT_EQ(d.Detect("  File \"/tmp/x.py\", line 5, in f"), Level::kError);
  EXPECT_EQ(d.Detect("\x1b[31mZeroDivisionError\x1b[0m:\x1b[1m division by zero\x1b[0m"),
            Level::kError);
  EXPECT_EQ(d.Detect("after"), Level::kInfo);
}

TEST(LevelDetector, FatalPythonError) {
  LevelDetector d;
  EXPECT_EQ(d.Detect("Fatal Python error: Segmentation fault"), Level::kCritical);
  EXPECT_EQ(d.Detect(""), Level::kCritical);
  EXPECT_EQ(d.Detect("Current thread 0x00007f3c (most recent call first):"), Level::kCritical);
  EXPECT_EQ(d.Detect("  File \"x.py\", line 3 in <module>"), Level::kCritical);
  EXPECT_EQ(d.Detect("Extension modules: numpy.core (total: 1)"), Level::kCritical);
  EXPECT_EQ(d.Detect("next run"), Level::kInfo);
}

TEST(LevelDetector, ExceptionLineMustLookLikeOne) {
  LevelDetector d;
  EXPECT_EQ(d.Detect("Traceback (most recent call last):"), Level::kError);
  EXPECT_EQ(d.Detect("  File \"train.py\", line 3, in <module>"), Level::kError);
  // another rank's output, interleaved: not the exception, and it ends the block
  EXPECT_EQ(d.Detect("[rank1] step 5 loss 0.3"), Level::kInfo);
  EXPECT_EQ(d.Detect("  indented print"), Level::kInfo);
  LevelDetector e;
  e.Detect("Traceback (most recent call last):");
  e.Detect("  File \"x.py\", line 1, in <module>");
  EXPECT_EQ(e.Detect("torch.cuda.OutOfMemoryError: CUDA out of memory."), Level::kError);
  LevelDetector f;
  f.Detect("Traceback (most recent call last):");
  f.Detect("  File \"x.py\", line 1, in <module>");
  EXPECT_EQ(f.Detect("KeyboardInterrupt"), Level::kError);
  EXPECT_EQ(f.Detect("done"), Level::kInfo);
}

TEST(LevelDetector, ContinuationLinesCarryTheRecordsLevel) {
  LevelDetector d;
  EXPECT_EQ(d.Detect("/tmp/x.py:3: UserWarning: careful"), Level::kWarning);
  EXPECT_EQ(d.Detect("  warnings.warn(\"careful\")"), Level::kWarning);
  EXPECT_EQ(d.Detect("next"), Level::kInfo);
  EXPECT_EQ(d.Detect("  indented print"), Level::kInfo);
  EXPECT_EQ(d.Detect("ERROR:root:multi-line record"), Level::kError);
  EXPECT_EQ(d.Detect("    detail one"), Level::kError);
  EXPECT_EQ(d.Detect("    WARNING:x:own layout"), Level::kWarning);
  EXPECT_EQ(d.Detect("plain"), Level::kInfo);
}

}  // namespace
}  // namespace wanllmdb
