#include "core/fold_rules.h"

#include <cctype>
#include <cstdlib>
#include <functional>

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

bool FoldBuilder::Continues(const FoldLine& l) {
  if (l.writer != rec_first_.writer || l.source != rec_first_.source) return false;
  switch (state_) {
    case State::kNone:
      return false;
    case State::kTraceback:
      // Frames and source lines are indented; a chain phrase or a nested "Traceback" goes on;
      // the first other line is the exception line, which ends the traceback proper.
      if (!(l.cls & (kFoldIndented | kFoldBlank | kFoldChain | kFoldTracebackStart)))
        state_ = State::kTracebackEnd;
      ++rec_len_;
      return true;
    case State::kTracebackEnd:
      if (l.cls & kFoldBlank) {
        // Chained tracebacks have one blank line around the chain phrase; more ends it.
        if (pending_.size() >= 2) return false;
        pending_.push_back(l);
        return true;
      }
      if (l.cls & (kFoldChain | kFoldTracebackStart)) {
        rec_len_ += static_cast<int64_t>(pending_.size()) + 1;
        pending_.clear();
        state_ = State::kTraceback;
        return true;
      }
      // An exception message that goes on over indented lines.
      if ((l.cls & kFoldIndented) && pending_.empty()) {
        ++rec_len_;
        return true;
      }
      return false;
    case State::kRecord: {
      if (rec_first_.cls & (kFoldIndented | kFoldBlank)) return false;
      const bool same_write = std::llabs(l.timestamp_us - rec_last_ts_) <= kSameWriteUs;
      if (l.cls & kFoldIndented) {
        ++rec_len_;
        return true;
      }
      if ((l.cls & kFoldTracebackStart) && same_write) {  // logging.exception()
        ++rec_len_;
        state_ = State::kTraceback;
        rec_traceback_ = true;
        return true;
      }
      if ((rec_first_.cls & kFoldRecordPrefix) && !(l.cls & (kFoldRecordPrefix | kFoldBlank)) &&
          same_write) {
        ++rec_len_;
        return true;
      }
      return false;
    }
  }
  return false;
}

void FoldBuilder::Add(const FoldLine& line) {
  const int64_t p = pos_++;
  if (state_ != State::kNone && Continues(line)) {
    rec_last_ts_ = line.timestamp_us;
    return;
  }
  CloseRecord();
  rec_start_ = p;
  rec_len_ = 1;
  rec_first_ = line;
  rec_last_ts_ = line.timestamp_us;
  rec_traceback_ = (line.cls & kFoldTracebackStart) != 0;
  state_ = rec_traceback_ ? State::kTraceback : State::kRecord;
}

void FoldBuilder::CloseRecord() {
  if (state_ == State::kNone) return;
  state_ = State::kNone;
  Record(rec_start_, rec_len_, rec_traceback_ ? FoldKind::kTraceback : FoldKind::kRecord,
         rec_first_);
  // Blank lines held after an exception line were not part of it: each is a line of its own.
  int64_t at = rec_start_ + rec_len_;
  for (const FoldLine& b : pending_) Record(at++, 1, FoldKind::kRecord, b);
  pending_.clear();
}

void FoldBuilder::Record(int64_t start, int64_t length, FoldKind kind, const FoldLine& first) {
  if (length >= 2) {
    FlushRepeat();
    emit_(Fold{start, length, kind});
    return;
  }
  if (rep_len_ > 0 && first.text_hash == rep_hash_ && rep_start_ + rep_len_ == start) {
    ++rep_len_;
    return;
  }
  FlushRepeat();
  rep_start_ = start;
  rep_len_ = 1;
  rep_hash_ = first.text_hash;
}

void FoldBuilder::FlushRepeat() {
  if (rep_len_ >= 2) emit_(Fold{rep_start_, rep_len_, FoldKind::kRepeat});
  rep_len_ = 0;
}

void FoldBuilder::Finish() {
  CloseRecord();
  FlushRepeat();
}

}  // namespace wanllmdb
