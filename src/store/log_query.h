// LogFilter: what a list, download, histogram or live stream asks for, validated once, plus the
// compiled matcher that tests decoded lines against it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/chunk_codec.h"
#include "core/field_filter.h"
#include "core/log_line.h"
#include "core/status.h"
#include "store/text_probe.h"

namespace re2 {
class RE2;
}

namespace wanllmdb {

// Everything is optional; an empty filter matches every line.
struct LogFilter {
  uint32_t level_mask = 0;                    // bit per Level; 0 = all
  uint32_t source_mask = 0;                   // bit per Source; 0 = all
  std::vector<std::string> writers;           // empty = all
  std::string search;                         // case-insensitive substring
  std::string regex;                          // RE2
  std::optional<int64_t> since_us, until_us;  // inclusive
  std::vector<FieldPredicate> fields;         // on structured lines' fields; all must hold

  bool matches_everything() const {
    return level_mask == 0 && source_mask == 0 && writers.empty() && search.empty() &&
           regex.empty() && !since_us && !until_us && fields.empty();
  }
  // True when chunk metadata alone (level counts) can count the matches: no text, writer,
  // source, time or field test.
  bool counts_from_levels() const {
    return text_free() && writers.empty() && source_mask == 0 && !since_us && !until_us &&
           fields.empty();
  }
  // True when only per-line metadata (no text) decides a match.
  bool text_free() const { return search.empty() && regex.empty(); }
  // Of a chunk's lines per level, those whose level the filter takes (all of them when it
  // names no level); for a filter that counts_from_levels(), its matches in the chunk.
  int64_t LinesOfLevels(const std::array<int64_t, kLevelCount>& by_level) const {
    int64_t n = 0;
    for (int l = 0; l < kLevelCount; ++l)
      if (level_mask == 0 || (level_mask & (1u << l))) n += by_level[l];
    return n;
  }
  // A string that is equal for two filters exactly when they are: what caches of filtered
  // views and counts key on. Every member, each with its length, so no value can pose as
  // another's end.
  std::string Key() const;
};

// A compiled LogFilter. Thread-safety: immutable after Compile; Match* may run on many threads.
class LineMatcher {
 public:
  // Fails with kInvalidValue and RE2's message for a bad regex.
  static Result<std::shared_ptr<const LineMatcher>> Compile(const LogFilter& filter);
  ~LineMatcher();

  const LogFilter& filter() const { return filter_; }
  // What chunks must hold for the text filter to match (null: nothing lets a chunk be skipped).
  const TextProbe* probe() const { return probe_.get(); }
  // Per-line metadata test (level, source, writer, time, fields).
  bool MatchMeta(const DecodedChunk& chunk, size_t i) const;
  // Marks in `hits` (size chunk.n) the lines whose text matches; all true when no text filter.
  // Works on the whole text column at once: one caseless SIMD search (core/text.h) or RE2 pass
  // per chunk instead of a call per line. Text means the visible text: escape sequences (SGR
  // colours, ...) are skipped, as the viewer shows them (core/ansi.h).
  void MatchText(const DecodedChunk& chunk, std::vector<uint8_t>* hits) const;
  // Text test for a single message (live tail, small inputs); visible text as above.
  bool MatchMessage(std::string_view message) const;
  bool MatchLine(const LogLine& line) const;
  // Whether a line's fields (a JSON object or empty) pass every field predicate.
  bool MatchFields(std::string_view fields) const;

 private:
  LineMatcher() = default;
  bool WriterAllowed(std::string_view writer) const;
  // A text column: messages each followed by '\n', offsets[i] where message i starts (n + 1).
  struct TextColumn {
    std::string_view text;
    const std::vector<uint32_t>& offsets;
    size_t n;
    std::string_view message(size_t i) const {
      return text.substr(offsets[i], offsets[i + 1] - offsets[i] - 1);
    }
  };
  void MatchColumn(const TextColumn& c, std::vector<uint8_t>* hits) const;

  LogFilter filter_;
  std::string needle_lower_;
  std::unique_ptr<re2::RE2> re_;        // the user's pattern, for confirming one line
  std::unique_ptr<re2::RE2> re_multi_;  // the same in multi-line mode, for scanning a chunk
  std::unique_ptr<const TextProbe> probe_;
};

}  // namespace wanllmdb
