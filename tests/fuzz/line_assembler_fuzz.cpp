// The line assembler (src/capture/line_assembler.*), through its public interface only: how the
// bytes of a stream are cut into read() chunks must not change the lines, and every line (and
// the live state of a progress bar) is valid UTF-8 without '\n'.
//
// Input: one byte that seeds the chunk sizes, one byte repeat count (so lines can pass the
// 64 KiB cut with small inputs), then the stream's bytes.
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
  const size_t repeat = 1 + data[1] % 64;
  std::string stream;
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  for (size_t i = 0; i < repeat; ++i) stream.append(body);

  std::vector<std::string> whole;
  {
    LineAssembler a;
    a.Feed(stream, &whole);
    a.Flush(&whole);
  }

  std::vector<std::string> pieces;
  LineAssembler a;
  size_t pos = 0;
  while (pos < stream.size()) {
    seed = seed * 1103515245u + 12345u;
    // Mostly tiny chunks (1-8 bytes, splitting "\r\n", escapes and UTF-8), sometimes empty or
    // large ones.
    size_t len = (seed >> 16) % 16 == 0 ? (seed >> 8) % 70000 : (seed >> 16) % 9;
    len = std::min(len, stream.size() - pos);
    a.Feed(std::string_view(stream).substr(pos, len), &pieces);
    pos += len;
    if (a.InRewrite()) CheckLine(FinishLine(a.Partial()));
    FUZZ_CHECK(a.HasPartial() == !a.Partial().empty());
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
