#include "capture/launcher_rank.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace wanllmdb {
namespace {

std::optional<LauncherRank> Detect(const std::map<std::string, std::string>& vars) {
  return DetectLauncherRank([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(LauncherRankTest, NoLauncherNoRank) {
  EXPECT_FALSE(Detect({}).has_value());
}

TEST(LauncherRankTest, EachLauncher) {
  struct Case {
    std::map<std::string, std::string> vars;
    int64_t rank, size;
    std::string from;
  } cases[] = {
      {{{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}}, 3, 8, "RANK"},
      {{{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "6"}}, 5, 6, "SLURM_PROCID"},
      {{{"SLURM_PROCID", "1"}, {"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_NTASKS", "64"}},
       1,
       2,
       "SLURM_PROCID"},
      {{{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "4"}},
       0,
       4,
       "OMPI_COMM_WORLD_RANK"},
      {{{"PMI_RANK", "2"}, {"PMI_SIZE", "3"}}, 2, 3, "PMI_RANK"},
      {{{"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"}}, 1, 2, "LOCAL_RANK"},
      {{{"PMI_RANK", "7"}}, 7, 0, "PMI_RANK"},  // size unknown
  };
  for (const auto& c : cases) {
    auto r = Detect(c.vars);
    ASSERT_TRUE(r.has_value()) << c.from;
    EXPECT_EQ(r->rank, c.rank) << c.from;
    EXPECT_EQ(r->world_size, c.size) << c.from;
    EXPECT_EQ(r->variable, c.from);
  }
}

TEST(LauncherRankTest, GarbageIsSkippedNotTrusted) {
  EXPECT_FALSE(Detect({{"RANK", "x"}}).has_value());
  EXPECT_FALSE(Detect({{"RANK", "-1"}}).has_value());
  EXPECT_FALSE(Detect({{"RANK", ""}}).has_value());
  auto r = Detect({{"RANK", "abc"}, {"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "zero"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rank, 4);
  EXPECT_EQ(r->world_size, 0);
}

}  // namespace
}  // namespace wanllmdb
