// Fold rules: which consecutive lines of a view the viewer shows as one foldable entry
// (doc/api.md "Folds"). A multi-line record — a Python traceback from "Traceback (most recent
// call last):" to its exception line (chained ones included), a warnings.warn line with its
// indented source line, a logging record whose message continues on indented lines or on
// unprefixed lines written at the same instant — is one entry; a run of identical lines (visible
// text, escape sequences ignored) collapses into one entry with a count.
//
// The rules look at one line at a time with a little state (FoldBuilder), so a server can fold a
// 10M-line view in one streaming pass without holding its text. Lines of one record come from
// the same writer and stream; other writers' lines may come between them (see FoldBuilder).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace wanllmdb {

enum class FoldKind : uint8_t { kTraceback, kRecord, kRepeat };

// 't', 'r' or 'x': the letter of a kind in the API's answer.
char FoldKindLetter(FoldKind k);

// A fold: its lines from position `start` through `start + length - 1` (length >= 2), except
// its `holes`: positions inside that span holding other writers' lines (handed on with it, see
// FoldBuilder). A fold without holes is `length` consecutive positions.
struct Fold {
  int64_t start = 0;
  int64_t length = 0;
  FoldKind kind = FoldKind::kRecord;
  uint32_t holes = 0;  // how many
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

// Streams the lines of a view in view order and emits the folds, in order of their starts, to
// `emit` with their holes (ascending).
//
// One writer's record stays open while other writers' lines come between its lines (ranks of a
// distributed job print their tracebacks at the same moment), at most kMaxGap of them between one
// of its own lines and the next; those lines are the fold's holes. So a record is decided by
// its writer's next line or by the gap, and is handed on once no record that is still open starts
// before it (folds come out sorted).
// Thread-safety: none (one builder per pass).
class FoldBuilder {
 public:
  using Emit = std::function<void(const Fold&, std::span<const int64_t> holes)>;
  // Other writers' lines between one line of a record and the next, at most.
  static constexpr int64_t kMaxGap = 128;
  // Records open at once, at most (one per writer and stream that printed lately); the one whose
  // writer was silent longest is closed to make room.
  static constexpr size_t kMaxOpen = 32;

  explicit FoldBuilder(Emit emit) : emit_(std::move(emit)) {}
  void Add(const FoldLine& line);
  // Emits what is still open. Call once, after the last Add.
  void Finish();

 private:
  enum class State { kRecord, kTraceback, kTracebackEnd };
  // A record of one writer and stream that its next line may still continue.
  struct Open {
    uint64_t key = 0;  // writer, source
    State state = State::kRecord;
    bool traceback = false;
    FoldLine first;
    int64_t last_ts = 0;
    int64_t last_pos = 0;  // its writer's last line: a member or a held blank line
    // Its lines: positions start .. end - 1 except the holes (ascending). Most records have no
    // holes, so the vector stays unallocated.
    int64_t start = 0, end = 0;
    std::vector<int64_t> holes;
    // Blank lines after an exception line, until we know whether a chained traceback follows:
    // position and text hash.
    std::vector<std::pair<int64_t, uint64_t>> pending;
    void Take(int64_t p);
  };
  // A closed record (or a line of its own) waiting for the open records that start before it.
  struct Closed {
    int64_t start = 0, length = 1;
    FoldKind kind = FoldKind::kRecord;
    uint64_t hash = 0;  // of the first line (one-line records join identical-line runs)
    std::vector<int64_t> holes;
  };
  struct LaterStart {
    bool operator()(const Closed& a, const Closed& b) const { return a.start > b.start; }
  };

  bool Continues(Open& r, const FoldLine& l, int64_t p);
  // Hands a record on to closed_ (through Push); its slot is left empty for reuse.
  void Decide(Open& r);
  // Drops slot i (the vector's order does not matter: the last one takes its place).
  void Remove(size_t i);
  // Decide + Remove.
  void Close(size_t i);
  void Push(Closed&& c);
  // A line that is an entry of its own (a one-line record).
  void PushSingle(int64_t at, uint64_t hash);
  // Hands on, in order, the closed records that no open record starts before.
  void Release();
  // A record in start order: a one-line record may join the identical-line run.
  void Record(Closed&& c);
  void FlushRepeat();

  Emit emit_;
  int64_t pos_ = 0;  // position of the next line
  std::vector<Open> open_;
  std::vector<Closed> closed_;  // a min-heap by start (std::push_heap with LaterStart)
  // The current run of identical one-line records.
  int64_t rep_start_ = 0, rep_len_ = 0;
  uint64_t rep_hash_ = 0;
};

}  // namespace wanllmdb
