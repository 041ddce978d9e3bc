// Text filters: which trigrams of its visible text a chunk holds, as a small Bloom filter, so a
// search can skip a chunk that cannot match without reading or decompressing its payload
// (issue 14; the format is in doc/chunk_format.md, "Text filter").
//
// What is indexed: every three consecutive bytes inside one line's visible text (escape
// sequences removed, core/ansi.h), ASCII letters lower-cased, and only trigrams of ASCII bytes.
// The Kelvin sign U+212A and the long s U+017F are indexed as 'k' and 's', because a
// case-insensitive RE2 regex matches them for those letters. A query asks only for ASCII
// trigrams, so it is never told "absent" for text it would match: a filter can only say "maybe"
// wrongly (a false positive costs a scan), never "no" wrongly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_line.h"

namespace wanllmdb {

inline constexpr uint8_t kTextFilterVersion = 1;

// The filter of `n` lines' messages: version byte, log2 of its size in bits, then the bits.
// About 1 byte per line for a full chunk; "" when n == 0 or filters are switched off.
// Thread-safety: may run on many threads at once.
std::string BuildTextFilter(const LogLine* lines, size_t n);

// Process-wide switch (`server --no-text-filters`, for comparisons): off, new chunks get no
// filter and are always scanned. Set before serving; on by default.
void SetTextFiltersEnabled(bool on);
bool TextFiltersEnabled();

// The filter of one layout-3 block (core/chunk_codec.h): the same trigrams in a Bloom filter of
// 8 bits a line (rounded up to whole 64-bit words, at least one), without a header: the block
// table gives its length. Trigram hash h sets bit (h × n_bits) >> 32. Thread-safety: as above.
std::string BuildBlockFilter(const LogLine* lines, size_t n);
// Both at once, in one pass over the text (what ingest and merges pay): the chunk filter of
// lines[0, n) into *chunk_filter (when given; "" when filters are off) and one block filter per
// block (`block_ends` as core/chunk_codec.h ChunkBlockEnds gives them) into *block_filters.
void BuildTextFilters(const LogLine* lines, size_t n, const std::vector<size_t>& block_ends,
                      std::string* chunk_filter, std::vector<std::string>* block_filters);
// Whether a block filter may hold every trigram in `hashes`; true for an empty one.
bool BlockFilterMayHoldAll(std::string_view filter, const uint32_t* hashes, size_t n);

// The hash of one trigram (bytes already folded as above); a filter of 2^k bits tests bit
// hash >> (32 - k).
inline uint32_t TrigramHash(uint8_t a, uint8_t b, uint8_t c) {
  uint32_t t = (static_cast<uint32_t>(a) << 16) | (static_cast<uint32_t>(b) << 8) | c;
  return (t + 0x2545F491u) * 0x9E3779B1u;
}

// Whether `filter` may hold every trigram in `hashes`. True for a filter it cannot read (empty,
// another version, truncated): unknown means scan.
bool TextFilterMayHoldAll(std::string_view filter, const uint32_t* hashes, size_t n);

// Appends the ASCII trigram hashes of `text` folded as the index folds it, skipping trigrams
// with any non-ASCII byte. For query needles; duplicates are not removed.
void AppendQueryTrigrams(std::string_view text, std::vector<uint32_t>* out);

}  // namespace wanllmdb
