// The line assembler (src/capture/line_assembler.*), through its public interface only: how the
// bytes of a stream are cut into read() chunks must not change the lines, every line is valid
// UTF-8 without '\n', and so is the live text of rows being redrawn (apart from its row breaks).
//
// Input: one byte that seeds the chunk sizes, one byte giving the cut (below 0x80: 16 to 1,794
// bytes, so short inputs reach rows that are cut; from 0x80 the real kMaxLineBytes), then the
// stream's bytes. The cut is a parameter of the assembler, so small cuts exercise the same code
// as the real one; the 64 KiB lines themselves are the vectors' (tests/vectors/line_assembly.json).
// Inputs are not repeated to reach the real cut: a 130 KiB stream fed through the terminal model
// twice took ~70 ms under the sanitizers, which held the target at ~15 inputs/s.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/line_assembler.h"
#include "core/text.h"
#include "fuzz_check.h"

using namespace wanllmdb;

namespace {

void CheckLine(const std::string& l) {
  FUZZ_CHECK(l.find('\n') == std::string::npos);
  FUZZ_CHECK(IsValidUtf8(l));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t seed = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const size_t cut = data[1] < 0x80 ? 16 + data[1] * 14u : kMaxLineBytes;

  std::vector<std::string> whole;
  {
    LineAssembler a;
    a.SetMaxLineBytes(cut);
    a.Feed(stream, &whole);
    a.Flush(&whole);
  }

  std::vector<std::string> pieces;
  LineAssembler a;
  a.SetMaxLineBytes(cut);
  size_t pos = 0;
  size_t feeds = 0;
  while (pos < stream.size()) {
    seed = seed * 1103515245u + 12345u;
    // Mostly tiny chunks (1-8 bytes, splitting "\r\n", escapes and UTF-8), sometimes empty or
    // large ones.
    size_t len = (seed >> 16) % 16 == 0 ? (seed >> 8) % 70000 : (seed >> 16) % 9;
    len = std::min(len, stream.size() - pos);
    a.Feed(stream.substr(pos, len), &pieces);
    pos += len;
    // LiveText renders every live row: checking it after each of the ~1,000 tiny feeds of a
    // 4 KiB input would make the harness quadratic. Every 64th feed and the last one still see
    // each state the assembler keeps between feeds.
    if (a.HasLive() && (++feeds % 64 == 0 || pos == stream.size()))
      FUZZ_CHECK(IsValidUtf8(a.LiveText()));  // rows joined with '\n'
    if (a.NeedsSettle()) FUZZ_CHECK(a.HasPartial());
  }
  a.Flush(&pieces);
  FUZZ_CHECK(!a.HasPartial());

  FUZZ_CHECK(pieces.size() == whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    CheckLine(whole[i]);
    FUZZ_CHECK(pieces[i] == whole[i]);
  }
  return 0;
}
