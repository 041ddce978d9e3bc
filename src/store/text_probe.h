// TextProbe: what a LineMatcher's text filter needs a chunk to hold, tested against the chunk's
// stored text filter (core/text_filter.h) before its payload is read. Built once per query.
//
// A substring search needs every ASCII trigram of its needle. A regex needs what RE2's
// FilteredRE2 extracts from it: an AND/OR tree of literal "atoms" (lower-cased), of which an atom
// counts as present when all its ASCII trigrams are; a regex without usable atoms ("\d+", ".")
// never skips. Both at once (search and regex) must both pass.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class FilteredRE2;
}

namespace wanllmdb {

// Thread-safety: immutable after Make; MayMatch may run on many threads at once.
class TextProbe {
 public:
  // Null when neither `search` nor `regex` can skip anything (both empty, or no trigrams).
  // `regex` must already be known valid (LineMatcher compiled it).
  static std::unique_ptr<const TextProbe> Make(std::string_view search, const std::string& regex);
  ~TextProbe();

  // False only when a chunk with this text filter cannot hold a match; true for an empty or
  // unreadable filter (old chunks without one are scanned).
  bool MayMatch(std::string_view filter) const;
  // The same for the filter of one layout-3 block (core/text_filter.h BuildBlockFilter).
  bool MayMatchBlock(std::string_view block_filter) const;

 private:
  TextProbe() = default;
  // The test of both filter kinds; holds_all(hashes, n) asks one filter.
  template <class HoldsAll>
  bool Test(HoldsAll&& holds_all) const;

  std::vector<uint32_t> search_;  // trigram hashes the needle needs (sorted, unique)
  std::unique_ptr<re2::FilteredRE2> regex_;
  std::vector<std::vector<uint32_t>> atoms_;  // per FilteredRE2 atom, its trigram hashes
};

}  // namespace wanllmdb
