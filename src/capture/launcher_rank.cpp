#include "capture/launcher_rank.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace wanllmdb {
namespace {

std::optional<int64_t> WholeNumber(const char* text) {
  if (!text) return std::nullopt;
  std::string_view s(text);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 10000000)
    return std::nullopt;
  return v;
}

struct Launcher {
  const char* rank;
  const char* sizes[2];  // the first one set wins
};

// In order of preference: global ranks before the node-local one.
constexpr Launcher kLaunchers[] = {
    {"RANK", {"WORLD_SIZE", nullptr}},
    {"SLURM_PROCID", {"SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"}},
    {"OMPI_COMM_WORLD_RANK", {"OMPI_COMM_WORLD_SIZE", nullptr}},
    {"PMI_RANK", {"PMI_SIZE", nullptr}},
    {"LOCAL_RANK", {"LOCAL_WORLD_SIZE", nullptr}},
};

}  // namespace

std::optional<LauncherRank> DetectLauncherRank(const EnvLookup& env) {
  auto get = [&](const char* name) -> const char* { return env ? env(name) : std::getenv(name); };
  for (const Launcher& l : kLaunchers) {
    auto rank = WholeNumber(get(l.rank));
    if (!rank) continue;
    LauncherRank out;
    out.rank = *rank;
    out.variable = l.rank;
    for (const char* size_var : l.sizes) {
      if (!size_var) continue;
      if (auto n = WholeNumber(get(size_var)); n && *n > 0) {
        out.world_size = *n;
        break;
      }
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace wanllmdb
