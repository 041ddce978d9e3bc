// Fold rules: which consecutive lines of a view the viewer shows as one foldable entry
// (doc/api.md "Folds"). A multi-line record — a Python traceback from "Traceback (most recent
// call last):" to its exception line (chained ones included), a warnings.warn line with its
// indented source line, a logging record whose message continues on indented lines or on
// unprefixed lines written at the same instant — is one entry; a run of identical lines (visible
// text, escape sequences ignored) collapses into one entry with a count.
//
// The rules look at one line at a time with a little state (FoldBuilder), so a server can fold a
// 10M-line view in one streaming pass without holding its text. Lines of one record must be
// adjacent in the view and come from the same writer and stream; a line of another writer in
// between ends the record.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace wanllmdb {

enum class FoldKind : uint8_t { kTraceback, kRecord, kRepeat };

// 't', 'r' or 'x': the letter of a kind in the API's answer.
char FoldKindLetter(FoldKind k);

// A fold: `length` (>= 2) consecutive positions of the view from `start`.
struct Fold {
  int64_t start = 0;
  int64_t length = 0;
  FoldKind kind = FoldKind::kRecord;
};

// What the rules need of a line: a digest of it, computed once from its visible text.
struct FoldLine {
  uint64_t text_hash = 0;  // of the visible text (identical-line runs)
  uint32_t writer = 0;     // any id that is equal for equal writers
  uint8_t source = 0;
  uint8_t cls = 0;  // FoldClass bits
  int64_t timestamp_us = 0;
};

// Classification bits of a line's visible text.
enum FoldClass : uint8_t {
  kFoldBlank = 1,           // empty or only whitespace
  kFoldIndented = 2,        // starts with a space or tab and has more than whitespace
  kFoldTracebackStart = 4,  // "Traceback (most recent call last):"
  kFoldChain = 8,           // "During handling of the above exception, ..." / "The above ..."
  kFoldRecordPrefix = 16,   // starts like a logging record: a date/time or a level word
};

// The class bits of one line's visible text.
uint8_t ClassifyFoldLine(std::string_view visible);

// The digest of a line (hash, class) from its visible text plus its metadata.
FoldLine MakeFoldLine(std::string_view visible, uint32_t writer, uint8_t source,
                      int64_t timestamp_us);

// Streams the lines of a view in view order and emits the folds, in order, to `emit`.
// Thread-safety: none (one builder per pass).
class FoldBuilder {
 public:
  explicit FoldBuilder(std::function<void(const Fold&)> emit) : emit_(std::move(emit)) {}
  void Add(const FoldLine& line);
  // Emits what is still open. Call once, after the last Add.
  void Finish();

 private:
  enum class State { kNone, kRecord, kTraceback, kTracebackEnd };
  // Closes the open record (at its current length) and hands it on.
  void CloseRecord();
  // A finished record: a one-line record may join the identical-line run.
  void Record(int64_t start, int64_t length, FoldKind kind, const FoldLine& first);
  void FlushRepeat();
  bool Continues(const FoldLine& l);

  std::function<void(const Fold&)> emit_;
  int64_t pos_ = 0;  // position of the next line
  // The open record.
  State state_ = State::kNone;
  int64_t rec_start_ = 0, rec_len_ = 0;
  FoldLine rec_first_;
  bool rec_traceback_ = false;
  int64_t rec_last_ts_ = 0;
  std::vector<FoldLine> pending_;  // blank lines after an exception line, until we know more
  // The current run of identical one-line records.
  int64_t rep_start_ = 0, rep_len_ = 0;
  uint64_t rep_hash_ = 0;
};

}  // namespace wanllmdb
