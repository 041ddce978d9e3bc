// The level detector (src/core/level_detector.*): any sequence of lines gets a valid level for
// each, in a stream and alone, and the stateless layout test never fails.
//
// Input: lines separated by '\n', fed in order to one detector (a stream).
#include <cstdint>
#include <string_view>

#include "core/level_detector.h"
#include "fuzz_check.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  LevelDetector stream;
  while (true) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    Level l = stream.Detect(line);
    FUZZ_CHECK(static_cast<int>(l) < kLevelCount);
    auto layout = DetectLevelFromLayout(line);
    if (layout) FUZZ_CHECK(static_cast<int>(*layout) < kLevelCount);
    LevelDetector fresh;
    Level alone = fresh.Detect(line);
    FUZZ_CHECK(static_cast<int>(alone) < kLevelCount);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return 0;
}
