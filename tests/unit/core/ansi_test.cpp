#include "core/ansi.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

TEST(Ansi, StripsSgrAndKeepsText) {
  EXPECT_EQ(VisibleText("\x1b[32mLoading\x1b[0m dataset from"), "Loading dataset from");
  EXPECT_EQ(VisibleText("Load\x1b[1;32ming dataset"), "Loading dataset");
  EXPECT_EQ(VisibleText("plain"), "plain");
  EXPECT_EQ(VisibleText(""), "");
}

TEST(Ansi, StripsOtherSequencesLikeTheWebParser) {
  EXPECT_EQ(VisibleText("a\x1b]0;title\x07"
                        "b"),
            "ab");                                                                 // OSC ... BEL
  EXPECT_EQ(VisibleText("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"), "alinkb");  // OSC 8 ... ST
  EXPECT_EQ(VisibleText("a\x1b(Bb\x1b"
                        "7c"),
            "abc");  // designator, ESC 7
  EXPECT_EQ(VisibleText("x\xc2\x9b"
                        "31my"),
            "xy");                                                             // 8-bit CSI
  EXPECT_EQ(VisibleText("caf\xc3\xa9 \xc2\xa0ok"), "caf\xc3\xa9 \xc2\xa0ok");  // other U+00xx stay
  EXPECT_EQ(VisibleText("cut\x1b[3"), "cut");                                  // truncated
  EXPECT_EQ(VisibleText("end\x1b"), "end");
  EXPECT_EQ(VisibleText("\x1b[2K\rprogress"), "\rprogress");
}

TEST(Ansi, HasEscapes) {
  EXPECT_TRUE(HasEscapes("a\x1b[0m"));
  EXPECT_TRUE(
      HasEscapes("a\xc2\x9b"
                 "0m"));
  EXPECT_FALSE(HasEscapes("caf\xc3\xa9 \xc2\xa0"));
  EXPECT_FALSE(HasEscapes(""));
}

}  // namespace
}  // namespace wanllmdb
