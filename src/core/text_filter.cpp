#include "core/text_filter.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "core/ansi.h"

namespace wanllmdb {
namespace {

std::atomic<bool> filters_enabled{true};

constexpr int kMinLog2Bits = 6;      // 8 bytes: a tiny ingest chunk
constexpr int kMaxLog2Bits = 20;     // 128 KiB: never more, whatever the chunk
constexpr size_t kBitsPerLine = 12;  // a 1,000-line chunk: 8 Kib, 1 KiB (SQLite fits 3 a page)

// Calls fn(hash) for every trigram of `s` folded as the index folds it: ASCII lower-case,
// U+212A → 'k', U+017F → 's', and no trigram that holds any other non-ASCII byte. One pass,
// no folded copy: the last three folded bytes roll in `t`, `ascii` counts how many of them are
// ASCII (a non-ASCII byte breaks the next two trigrams too). This is most of what ingest pays
// for filters, so it is worth the loop.
template <class Fn>
void ForEachTrigram(std::string_view s, Fn&& fn) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  uint32_t t = 0;
  int ascii = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t b = p[i];
    if (b >= 0x80) {
      if (b == 0xE2 && i + 2 < n && p[i + 1] == 0x84 && p[i + 2] == 0xAA) {
        b = 'k';
        i += 2;
      } else if (b == 0xC5 && i + 1 < n && p[i + 1] == 0xBF) {
        b = 's';
        i += 1;
      } else {
        ascii = 0;
        continue;
      }
    } else if (b - 'A' < 26) {
      b += 32;
    }
    t = ((t << 8) | b) & 0xFFFFFF;
    if (++ascii >= 3) fn((t + 0x2545F491u) * 0x9E3779B1u);  // TrigramHash of the three
  }
}

// Calls fn(hash) for every indexed trigram of lines[0, n) (see the header).
template <class Fn>
void ForEachLineTrigram(const LogLine* lines, size_t n, Fn&& fn) {
  std::string visible;
  for (size_t i = 0; i < n; ++i) {
    std::string_view text = lines[i].message;
    if (HasEscapes(text)) {
      visible.clear();
      AppendVisibleText(text, &visible);
      text = visible;
    }
    ForEachTrigram(text, fn);
  }
}

constexpr size_t kBlockBitsPerLine = 8;

int Log2BitsFor(size_t n_lines) {
  size_t want = std::max<size_t>(1, n_lines) * kBitsPerLine;
  int k = kMinLog2Bits;
  while (k < kMaxLog2Bits && (size_t{1} << (k + 1)) <= want) ++k;
  return k;
}

}  // namespace

void SetTextFiltersEnabled(bool on) {
  filters_enabled.store(on);
}

std::string BuildTextFilter(const LogLine* lines, size_t n) {
  if (n == 0 || !filters_enabled.load(std::memory_order_relaxed)) return "";
  const int k = Log2BitsFor(n);
  std::string out(2 + (size_t{1} << k) / 8, '\0');
  out[0] = static_cast<char>(kTextFilterVersion);
  out[1] = static_cast<char>(k);
  auto* bits = reinterpret_cast<uint8_t*>(out.data() + 2);
  const int shift = 32 - k;
  ForEachLineTrigram(lines, n, [&](uint32_t h) {
    uint32_t bit = h >> shift;
    bits[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
  });
  return out;
}

bool TextFiltersEnabled() {
  return filters_enabled.load(std::memory_order_relaxed);
}

std::string BuildBlockFilter(const LogLine* lines, size_t n) {
  std::vector<std::string> blocks;
  BuildTextFilters(lines, n, {n}, nullptr, &blocks);
  return std::move(blocks[0]);
}

void BuildTextFilters(const LogLine* lines, size_t n, const std::vector<size_t>& block_ends,
                      std::string* chunk_filter, std::vector<std::string>* block_filters) {
  uint8_t* chunk_bits = nullptr;
  int shift = 0;
  if (chunk_filter) {
    chunk_filter->clear();  // "" when switched off or n == 0
    if (n > 0 && TextFiltersEnabled()) {
      const int k = Log2BitsFor(n);
      chunk_filter->assign(2 + (size_t{1} << k) / 8, '\0');
      (*chunk_filter)[0] = static_cast<char>(kTextFilterVersion);
      (*chunk_filter)[1] = static_cast<char>(k);
      chunk_bits = reinterpret_cast<uint8_t*>(chunk_filter->data() + 2);
      shift = 32 - k;
    }
  }
  block_filters->clear();
  size_t begin = 0;
  for (size_t end : block_ends) {
    // Not a power of two: a multiply-shift maps a hash onto any size, so a block filter costs
    // what its lines need (a byte a line) rather than up to twice that.
    const size_t words = std::max<size_t>(1, ((end - begin) * kBlockBitsPerLine + 63) / 64);
    std::string& out = block_filters->emplace_back(words * 8, '\0');
    auto* bits = reinterpret_cast<uint8_t*>(out.data());
    const uint64_t n_bits = words * 64;
    // One pass over the text sets the chunk's bits and the block's.
    ForEachLineTrigram(lines + begin, end - begin, [&](uint32_t h) {
      auto bit = static_cast<uint32_t>((static_cast<uint64_t>(h) * n_bits) >> 32);
      bits[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
      if (chunk_bits) {
        uint32_t c = h >> shift;
        chunk_bits[c >> 3] |= static_cast<uint8_t>(1u << (c & 7));
      }
    });
    begin = end;
  }
}

bool BlockFilterMayHoldAll(std::string_view filter, const uint32_t* hashes, size_t n) {
  if (filter.empty()) return true;
  const auto* bits = reinterpret_cast<const uint8_t*>(filter.data());
  const uint64_t n_bits = static_cast<uint64_t>(filter.size()) * 8;
  for (size_t i = 0; i < n; ++i) {
    auto bit = static_cast<uint32_t>((static_cast<uint64_t>(hashes[i]) * n_bits) >> 32);
    if (!(bits[bit >> 3] & (1u << (bit & 7)))) return false;
  }
  return true;
}

bool TextFilterMayHoldAll(std::string_view filter, const uint32_t* hashes, size_t n) {
  if (filter.size() < 2 || static_cast<uint8_t>(filter[0]) != kTextFilterVersion) return true;
  const int k = static_cast<uint8_t>(filter[1]);
  if (k < kMinLog2Bits || k > kMaxLog2Bits || filter.size() != 2 + (size_t{1} << k) / 8)
    return true;
  const auto* bits = reinterpret_cast<const uint8_t*>(filter.data() + 2);
  const int shift = 32 - k;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bit = hashes[i] >> shift;
    if (!(bits[bit >> 3] & (1u << (bit & 7)))) return false;
  }
  return true;
}

void AppendQueryTrigrams(std::string_view text, std::vector<uint32_t>* out) {
  ForEachTrigram(text, [&](uint32_t h) { out->push_back(h); });
}

}  // namespace wanllmdb
