#include "core/fold_rules.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <limits>

namespace wanllmdb {
namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool Digit(char c) {
  return c >= '0' && c <= '9';
}

// torchrun's --tee/--log-line-prefix puts "[rank3]: " (or "[default0]:") before every line of a
// rank; the record's shape is in what follows.
std::string_view WithoutRankPrefix(std::string_view s) {
  if (s.empty() || s[0] != '[') return s;
  size_t close = s.find("]:");
  if (close == std::string_view::npos || close > 24) return s;
  std::string_view tag = s.substr(1, close - 1);
  if (!StartsWith(tag, "rank") && !StartsWith(tag, "default")) return s;
  s.remove_prefix(close + 2);
  if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  return s;
}

bool LevelWordAt(std::string_view s) {
  static constexpr std::string_view kWords[] = {"INFO",  "WARNING",  "WARN",  "ERROR",
                                                "DEBUG", "CRITICAL", "FATAL", "TRACE"};
  for (std::string_view w : kWords) {
    if (!StartsWith(s, w)) continue;
    if (s.size() == w.size()) return true;
    char c = s[w.size()];
    if (c == ':' || c == ' ' || c == ']' || c == '|' || c == '\t') return true;
  }
  return false;
}

// A logging record's first line: "2024-05-01 12:00:00,123 INFO ...", "12:00:00 ...",
// "[2024-05-01 ...]", "INFO:root:...", "[INFO] ...", glog's "I0501 12:00:00.123 ...".
bool RecordPrefix(std::string_view s) {
  if (!s.empty() && s[0] == '[') s.remove_prefix(1);
  if (s.size() >= 10 && Digit(s[0]) && Digit(s[1]) && Digit(s[2]) && Digit(s[3]) && s[4] == '-' &&
      Digit(s[5]) && Digit(s[6]) && s[7] == '-' && Digit(s[8]) && Digit(s[9]))
    return true;
  if (s.size() >= 8 && Digit(s[0]) && Digit(s[1]) && s[2] == ':' && Digit(s[3]) && Digit(s[4]) &&
      s[5] == ':')
    return true;
  if (s.size() >= 6 && std::string_view("IWEF").find(s[0]) != std::string_view::npos &&
      Digit(s[1]) && Digit(s[2]) && Digit(s[3]) && Digit(s[4]) && s[5] == ' ')
    return true;
  return LevelWordAt(s);
}

}  // namespace

char FoldKindLetter(FoldKind k) {
  switch (k) {
    case FoldKind::kTraceback:
      return 't';
    case FoldKind::kRecord:
      return 'r';
    case FoldKind::kRepeat:
      return 'x';
  }
  return 'r';
}

uint8_t ClassifyFoldLine(std::string_view visible) {
  std::string_view s = WithoutRankPrefix(visible);
  size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return kFoldBlank;
  uint8_t cls = 0;
  if (first > 0 && (s[0] == ' ' || s[0] == '\t')) cls |= kFoldIndented;
  if (StartsWith(s, "Traceback (most recent call last):")) cls |= kFoldTracebackStart;
  if (StartsWith(s, "During handling of the above exception") ||
      StartsWith(s, "The above exception was the direct cause"))
    cls |= kFoldChain;
  if (first == 0 && RecordPrefix(s)) cls |= kFoldRecordPrefix;
  return cls;
}

FoldLine MakeFoldLine(std::string_view visible, uint32_t writer, uint8_t source,
                      int64_t timestamp_us) {
  FoldLine l;
  l.text_hash = std::hash<std::string_view>{}(visible);
  l.writer = writer;
  l.source = source;
  l.cls = ClassifyFoldLine(visible);
  l.timestamp_us = timestamp_us;
  return l;
}

// Lines of one logging call are written together: an unprefixed line continues a prefixed record
// only when it was stamped within this of the record's last line.
constexpr int64_t kSameWriteUs = 1000;

void FoldBuilder::Open::Take(int64_t p) {
  for (int64_t h = end; h < p; ++h) holes.push_back(h);
  end = p + 1;
  last_pos = p;
}

bool FoldBuilder::Continues(Open& r, const FoldLine& l, int64_t p) {
  switch (r.state) {
    case State::kTraceback:
      // Frames and source lines are indented; a chain phrase or a nested "Traceback" goes on;
      // the first other line is the exception line, which ends the traceback proper.
      if (!(l.cls & (kFoldIndented | kFoldBlank | kFoldChain | kFoldTracebackStart)))
        r.state = State::kTracebackEnd;
      r.Take(p);
      return true;
    case State::kTracebackEnd:
      if (l.cls & kFoldBlank) {
        // Chained tracebacks have one blank line around the chain phrase; more ends it.
        if (r.pending.size() >= 2) return false;
        r.pending.emplace_back(p, l.text_hash);
        r.last_pos = p;
        return true;
      }
      if (l.cls & (kFoldChain | kFoldTracebackStart)) {
        for (const auto& [at, hash] : r.pending) r.Take(at);
        r.pending.clear();
        r.Take(p);
        r.state = State::kTraceback;
        return true;
      }
      // An exception message that goes on over indented lines.
      if ((l.cls & kFoldIndented) && r.pending.empty()) {
        r.Take(p);
        return true;
      }
      return false;
    case State::kRecord: {
      const bool same_write = std::llabs(l.timestamp_us - r.last_ts) <= kSameWriteUs;
      if (l.cls & kFoldIndented) {
        r.Take(p);
        return true;
      }
      if ((l.cls & kFoldTracebackStart) && same_write) {  // logging.exception()
        r.Take(p);
        r.state = State::kTraceback;
        r.traceback = true;
        return true;
      }
      if ((r.first.cls & kFoldRecordPrefix) && !(l.cls & (kFoldRecordPrefix | kFoldBlank)) &&
          same_write) {
        r.Take(p);
        return true;
      }
      return false;
    }
  }
  return false;
}

void FoldBuilder::Add(const FoldLine& line) {
  const int64_t p = pos_++;
  const uint64_t key = (static_cast<uint64_t>(line.writer) << 8) | line.source;
  const auto too_far = [p](const Open& r) { return p - r.last_pos - 1 > kMaxGap; };
  // Records whose writer has been silent too long are decided, so that what waits behind them
  // is handed on; now and then is enough, as a too-far record is never continued (below).
  if (p % 64 == 0) {
    for (size_t i = 0; i < open_.size();) {
      if (too_far(open_[i])) {
        Close(i);
      } else {
        ++i;
      }
    }
  }
  size_t mine = open_.size();
  for (size_t i = 0; i < open_.size(); ++i) {
    if (open_[i].key == key) mine = i;
  }
  if (mine < open_.size()) {
    if (!too_far(open_[mine]) && Continues(open_[mine], line, p)) {
      open_[mine].last_ts = line.timestamp_us;
      Release();
      return;
    }
    Decide(open_[mine]);  // its slot is this line's if the line opens a record
  }
  // An indented or blank line continues nothing of its own: a line of its own, at once.
  if (!(line.cls & kFoldTracebackStart) && (line.cls & (kFoldIndented | kFoldBlank))) {
    if (mine < open_.size()) Remove(mine);
    PushSingle(p, line.text_hash);
    Release();
    return;
  }
  if (mine == open_.size()) {
    if (open_.size() >= kMaxOpen) {
      size_t quiet = 0;
      for (size_t i = 1; i < open_.size(); ++i) {
        if (open_[i].last_pos < open_[quiet].last_pos) quiet = i;
      }
      Close(quiet);
    }
    open_.emplace_back();
    mine = open_.size() - 1;
  }
  Open& r = open_[mine];  // decided or new: its holes and pending lines are empty
  r.key = key;
  r.first = line;
  r.last_ts = line.timestamp_us;
  r.traceback = (line.cls & kFoldTracebackStart) != 0;
  r.state = r.traceback ? State::kTraceback : State::kRecord;
  r.start = r.end = p;
  r.Take(p);
  Release();
}

void FoldBuilder::Decide(Open& r) {
  Closed c;
  c.start = r.start;
  c.length = r.end - r.start;
  c.kind = r.traceback ? FoldKind::kTraceback : FoldKind::kRecord;
  c.hash = r.first.text_hash;
  c.holes = std::move(r.holes);
  r.holes.clear();
  // The slot holds nothing now: Push and Release look past it.
  r.start = r.end = std::numeric_limits<int64_t>::max();
  Push(std::move(c));
  // Blank lines held after an exception line were not part of it: each is a line of its own.
  for (const auto& [at, hash] : r.pending) PushSingle(at, hash);
  r.pending.clear();
}

void FoldBuilder::Remove(size_t i) {
  if (i + 1 != open_.size()) open_[i] = std::move(open_.back());
  open_.pop_back();
}

void FoldBuilder::Close(size_t i) {
  Decide(open_[i]);
  Remove(i);
}

void FoldBuilder::PushSingle(int64_t at, uint64_t hash) {
  Closed c;
  c.start = at;
  c.hash = hash;
  Push(std::move(c));
}

void FoldBuilder::Push(Closed&& c) {
  // In order already (no record open before it, nothing waiting): straight on, no heap.
  if (closed_.empty()) {
    bool first = true;
    for (const Open& r : open_) first = first && c.start < r.start;
    if (first) {
      Record(std::move(c));
      return;
    }
  }
  closed_.push_back(std::move(c));
  std::push_heap(closed_.begin(), closed_.end(), LaterStart{});
}

void FoldBuilder::Release() {
  if (closed_.empty()) return;
  int64_t first_open = pos_;
  for (const Open& r : open_) first_open = std::min(first_open, r.start);
  while (!closed_.empty() && closed_.front().start < first_open) {
    std::pop_heap(closed_.begin(), closed_.end(), LaterStart{});
    Closed c = std::move(closed_.back());
    closed_.pop_back();
    Record(std::move(c));
  }
}

void FoldBuilder::Record(Closed&& c) {
  if (c.length >= 2) {
    FlushRepeat();
    emit_(Fold{c.start, c.length, c.kind, static_cast<uint32_t>(c.holes.size())}, c.holes);
    return;
  }
  if (rep_len_ > 0 && c.hash == rep_hash_ && rep_start_ + rep_len_ == c.start) {
    ++rep_len_;
    return;
  }
  FlushRepeat();
  rep_start_ = c.start;
  rep_len_ = 1;
  rep_hash_ = c.hash;
}

void FoldBuilder::FlushRepeat() {
  if (rep_len_ >= 2) emit_(Fold{rep_start_, rep_len_, FoldKind::kRepeat, 0}, {});
  rep_len_ = 0;
}

void FoldBuilder::Finish() {
  while (!open_.empty()) Close(open_.size() - 1);
  Release();
  FlushRepeat();
}

}  // namespace wanllmdb
