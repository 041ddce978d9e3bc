#include "core/level_detector.h"

#include <cstring>

namespace wanllmdb {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || IsUpper(c);
}
char ToUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

// Skips blanks and ANSI CSI sequences (colourised loggers put them before the level).
std::string_view SkipDecorations(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
    } else if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      if (i < s.size()) ++i;
    } else {
      break;
    }
  }
  return s.substr(i);
}

// The level word the last LevelWordAt match found, so Detect can tell the program's own name
// (SUCCESS, TRACE) without an out-parameter through every layout rule below. Set and read on
// one thread within one Detect call.
thread_local std::string t_matched_word;

// A level word at the start of `s`, in any case; its length in *len.
std::optional<Level> LevelWordAt(std::string_view s, size_t* len) {
  static constexpr struct {
    std::string_view word;
    Level level;
  } kWords[] = {
      {"CRITICAL", Level::kCritical}, {"WARNING", Level::kWarning}, {"ERROR", Level::kError},
      {"FATAL", Level::kCritical},    {"DEBUG", Level::kDebug},     {"TRACE", Level::kDebug},
      {"WARN", Level::kWarning},      {"INFO", Level::kInfo},       {"CRIT", Level::kCritical},
      {"ERR", Level::kError},         {"DBG", Level::kDebug},       {"EMERG", Level::kCritical},
      {"ALERT", Level::kCritical},    {"NOTICE", Level::kInfo},     {"SUCCESS", Level::kInfo},
  };
  if (s.empty()) return std::nullopt;
  // Most calls look at a character no level word starts with (a digit, a lower-case word):
  // compare first letters before the words (this ran on every line several times).
  const char first = ToUpper(s[0]);
  for (const auto& w : kWords) {
    if (w.word[0] != first || s.size() < w.word.size()) continue;
    bool match = true;
    for (size_t i = 1; i < w.word.size(); ++i) {
      if (ToUpper(s[i]) != w.word[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      t_matched_word.assign(w.word);
      *len = w.word.size();
      return w.level;
    }
  }
  return std::nullopt;
}

// Same, but the word must be upper case and end at a non-letter (a whole token).
std::optional<Level> UpperLevelTokenAt(std::string_view s, size_t* len) {
  size_t n = 0;
  auto level = LevelWordAt(s, &n);
  if (!level) return std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    if (!IsUpper(s[i])) return std::nullopt;
  }
  if (n < s.size() && IsAlpha(s[n])) return std::nullopt;
  *len = n;
  return level;
}

std::optional<Level> Glog(std::string_view s) {
  // "E0102 15:04:05" — letter, MMDD, space, HH:MM:SS
  if (s.size() < 14) return std::nullopt;
  Level level;
  switch (s[0]) {
    case 'I':
      level = Level::kInfo;
      break;
    case 'W':
      level = Level::kWarning;
      break;
    case 'E':
      level = Level::kError;
      break;
    case 'F':
      level = Level::kCritical;
      break;
    default:
      return std::nullopt;
  }
  for (int i = 1; i <= 4; ++i)
    if (!IsDigit(s[i])) return std::nullopt;
  if (s[5] != ' ') return std::nullopt;
  if (!IsDigit(s[6]) || !IsDigit(s[7]) || s[8] != ':' || !IsDigit(s[9]) || !IsDigit(s[10]) ||
      s[11] != ':' || !IsDigit(s[12]) || !IsDigit(s[13]))
    return std::nullopt;
  return level;
}

std::optional<Level> LoggingPrefix(std::string_view s) {
  // "WARNING:root:msg", "ERROR: msg"
  size_t n = 0;
  auto level = UpperLevelTokenAt(s, &n);
  if (level && n < s.size() && s[n] == ':') return level;
  return std::nullopt;
}

std::optional<Level> Bracketed(std::string_view s) {
  // "[ERROR]", "[ warn ]", "[2024-11-16 10:00:00][WARNING]", "[12:00:01 ERROR]"
  size_t limit = std::min<size_t>(s.size(), 96);
  for (size_t i = 0; i < limit; ++i) {
    // memchr: most lines have no '[' in their first 96 bytes, and this rule runs on every
    // line that the rules before it did not match (a byte loop here was 7% of ingest CPU).
    const void* open = std::memchr(s.data() + i, '[', limit - i);
    if (!open) break;
    i = static_cast<const char*>(open) - s.data();
    size_t j = i + 1;
    // allow "[<timestamp> LEVEL]" and "[ LEVEL ]"
    while (j < limit && s[j] != ']' && !IsAlpha(s[j])) ++j;
    size_t n = 0;
    auto level = LevelWordAt(s.substr(j), &n);
    if (!level) continue;
    size_t k = j + n;
    while (k < s.size() && s[k] == ' ') ++k;
    if (k < s.size() && s[k] == ']') {
      // The word must fill the bracket (no letters after it) — "[error handling]" is not a level.
      return level;
    }
  }
  return std::nullopt;
}

bool IsNameChar(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '_' || c == '.' || c == '-' || c == '[' || c == ']' ||
         c == ':' || c == '<' || c == '>' || c == '/';
}

std::optional<Level> AfterTimestamp(std::string_view s) {
  // A timestamp-like prefix (digits, - : . , T Z / + and blanks, "|", brackets) followed by an
  // upper-case level token: "2024-11-16 10:00:00,123 WARNING msg", "10:00:01 | ERROR | msg",
  // RichHandler's "[11/16/24 10:00:00] WARNING  msg" — or by one or two logger names first
  // ("%(asctime)s %(name)s %(levelname)s %(message)s").
  size_t i = 0;
  size_t digits = 0;
  while (i < s.size() && i < 48) {
    char c = s[i];
    if (IsDigit(c)) {
      ++digits;
    } else if (!(c == '-' || c == ':' || c == '.' || c == ',' || c == ' ' || c == 'T' || c == 'Z' ||
                 c == '/' || c == '|' || c == '+' || c == '[' || c == ']')) {
      break;
    }
    ++i;
  }
  if (digits < 4 || i == 0) return std::nullopt;
  // back up over a 'T'/'Z' that starts the level word itself (e.g. "TRACE"), and over a '['
  // that opens a name ("[rank2]")
  while (i > 0 && (s[i - 1] == 'T' || s[i - 1] == 'Z' || s[i - 1] == '[')) --i;
  if (i == 0 || (s[i - 1] != ' ' && s[i - 1] != '|')) return std::nullopt;
  auto level_at = [&](size_t at) -> std::optional<Level> {
    size_t n = 0;
    auto level = UpperLevelTokenAt(s.substr(at), &n);
    if (!level) return std::nullopt;
    size_t k = at + n;
    if (k == s.size() || s[k] == ' ' || s[k] == ':' || s[k] == '|' || s[k] == ']') return level;
    return std::nullopt;
  };
  if (auto l = level_at(i)) return l;
  for (int names = 0; names < 2; ++names) {
    size_t j = i;
    while (j < s.size() && IsNameChar(s[j])) ++j;
    if (j == i || j - i > 64 || j >= s.size() || s[j] != ' ') return std::nullopt;
    i = j;
    while (i < s.size() && s[i] == ' ') ++i;
    if (auto l = level_at(i)) return l;
  }
  return std::nullopt;
}

std::optional<Level> PaddedLevelAtStart(std::string_view s, bool coloured) {
  // "%(levelname)-8s %(message)s" (colorlog, RichHandler once its time column is blank):
  // "WARNING  msg", "CRITICAL msg" — the level padded to a column; or a level word that has a
  // colour of its own ("\x1b[33mWARNING\x1b[0m msg").
  size_t n = 0;
  auto level = UpperLevelTokenAt(s, &n);
  if (!level) return std::nullopt;
  size_t k = n;
  while (k < s.size() && s[k] == ' ') ++k;
  if (k == n || k == s.size()) return std::nullopt;
  if (k >= 9 || coloured) return level;
  return std::nullopt;
}

std::optional<Level> AsctimeDashes(std::string_view s) {
  // "... - name - ERROR - msg"
  size_t pos = 0;
  while ((pos = s.find(" - ", pos)) != std::string_view::npos) {
    pos += 3;
    size_t n = 0;
    auto level = UpperLevelTokenAt(s.substr(pos), &n);
    if (level && s.substr(pos + n, 3) == " - ") return level;
  }
  return std::nullopt;
}

std::optional<Level> KeyValue(std::string_view s) {
  // level=error, lvl=warn, severity=ERROR, "level":"error", "levelname": "ERROR"
  static constexpr std::string_view kKeys[] = {"level", "lvl", "severity", "levelname"};
  for (std::string_view key : kKeys) {
    size_t pos = 0;
    while ((pos = s.find(key, pos)) != std::string_view::npos) {
      size_t start = pos;
      pos += key.size();
      if (start > 0) {
        char b = s[start - 1];
        if (!(b == ' ' || b == '"' || b == '{' || b == ',' || b == '\t')) continue;
      }
      size_t k = pos;
      bool quoted_key = start > 0 && s[start - 1] == '"';
      if (quoted_key) {
        if (k >= s.size() || s[k] != '"') continue;
        ++k;
        while (k < s.size() && s[k] == ' ') ++k;
        if (k >= s.size() || s[k] != ':') continue;
        ++k;
        while (k < s.size() && s[k] == ' ') ++k;
      } else {
        if (k >= s.size() || s[k] != '=') continue;
        ++k;
      }
      if (k < s.size() && s[k] == '"') ++k;
      size_t n = 0;
      auto level = LevelWordAt(s.substr(k), &n);
      if (!level) continue;
      size_t e = k + n;
      if (e == s.size() || !IsAlpha(s[e])) return level;
    }
  }
  return std::nullopt;
}

std::optional<Level> PythonWarning(std::string_view s) {
  // "/path/file.py:12: UserWarning: msg"
  size_t pos = s.find("Warning: ");
  if (pos == std::string_view::npos || pos == 0) return std::nullopt;
  size_t b = pos;
  while (b > 0 && IsAlpha(s[b - 1])) --b;
  if (b >= 2 && s[b - 1] == ' ' && s[b - 2] == ':') return Level::kWarning;
  if (b == 0 && pos > 0) return Level::kWarning;  // "DeprecationWarning: msg"
  return std::nullopt;
}

constexpr std::string_view kTracebackStart = "Traceback (most recent call last):";

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The visible text: SGR and other CSI sequences removed (colorlog and loguru colour words
// inside the line). `*coloured_start`: the first visible word was preceded by a colour code.
std::string_view Visible(std::string_view line, std::string* buf, bool* coloured_start) {
  *coloured_start = false;
  if (line.find('\x1b') == std::string_view::npos) return line;
  buf->clear();
  bool seen_text = false;
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '\x1b' && i + 1 < line.size() && line[i + 1] == '[') {
      size_t j = i + 2;
      while (j < line.size() && !(line[j] >= '@' && line[j] <= '~')) ++j;
      if (!seen_text) *coloured_start = true;
      i = j < line.size() ? j + 1 : j;
      continue;
    }
    if (line[i] != ' ' && line[i] != '\t') seen_text = true;
    buf->push_back(line[i++]);
  }
  return *buf;
}

// "ValueError: x", "torch.cuda.OutOfMemoryError: CUDA out of memory", "KeyboardInterrupt".
bool LooksLikeExceptionLine(std::string_view s) {
  size_t i = 0;
  while (true) {
    if (i >= s.size() || !(IsAlpha(s[i]) || s[i] == '_')) return false;
    while (i < s.size() && (IsAlpha(s[i]) || IsDigit(s[i]) || s[i] == '_')) ++i;
    if (i < s.size() && s[i] == '.') {
      ++i;
      continue;
    }
    break;
  }
  return i == s.size() || (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' '));
}

bool IsIndented(std::string_view s) {
  return !s.empty() && (s[0] == ' ' || s[0] == '\t');
}

}  // namespace

std::optional<Level> DetectLevelFromLayout(std::string_view line) {
  std::string buf;
  bool coloured = false;
  std::string_view visible = Visible(line, &buf, &coloured);
  std::string_view s = SkipDecorations(visible);
  if (s.empty()) return std::nullopt;
  if (auto l = Glog(s)) return l;
  if (auto l = LoggingPrefix(s)) return l;
  if (auto l = PaddedLevelAtStart(s, coloured)) return l;
  if (auto l = Bracketed(s)) return l;
  if (auto l = AfterTimestamp(s)) return l;
  if (auto l = AsctimeDashes(s)) return l;
  if (auto l = KeyValue(s)) return l;
  if (auto l = PythonWarning(s)) return l;
  return std::nullopt;
}

Level LevelDetector::Detect(std::string_view line, std::string* name) {
  if (name) name->clear();
  std::string buf;
  bool coloured = false;
  std::string_view visible = Visible(line, &buf, &coloured);
  if (block_ == Block::kTraceback) {
    // Frames are indented ("  File ...", source, "^^^^", loguru's "> File" and its "│ └"
    // annotations); loguru separates frames with blank lines.
    if (visible.empty() || IsIndented(visible) || StartsWith(visible, "> File "))
      return Level::kError;
    block_ = Block::kNone;
    if (StartsWith(visible, kTracebackStart)) {
      block_ = Block::kTraceback;
      return Level::kError;
    }
    // The exception ends the block. Anything else (another rank's output interleaved) is not
    // part of it.
    if (LooksLikeExceptionLine(visible)) return Level::kError;
  } else if (block_ == Block::kFatal) {
    // faulthandler: "Current thread 0x… (most recent call first):", indented frames, blank
    // lines, "Extension modules: …".
    if (visible.empty() || IsIndented(visible) || StartsWith(visible, "Current thread ") ||
        StartsWith(visible, "Thread 0x") || StartsWith(visible, "Extension modules:") ||
        StartsWith(visible, "Python runtime state:")) {
      return Level::kCritical;
    }
    block_ = Block::kNone;
  } else if (block_ == Block::kRecord) {
    // The indented continuation of a leveled record ("  warnings.warn(...)" after a
    // UserWarning, a multi-line logging message's indented lines).
    if (IsIndented(visible) && !DetectLevelFromLayout(line)) return record_level_;
    block_ = Block::kNone;
  }
  std::string_view s = SkipDecorations(visible);
  if (StartsWith(s, kTracebackStart)) {
    block_ = Block::kTraceback;
    return Level::kError;
  }
  if (StartsWith(s, "Fatal Python error: ")) {
    block_ = Block::kFatal;
    return Level::kCritical;
  }
  if (StartsWith(s, "During handling of the above exception") ||
      StartsWith(s, "The above exception was the direct cause"))
    return Level::kError;
  t_matched_word.clear();
  if (auto l = DetectLevelFromLayout(line)) {
    if (name && !t_matched_word.empty()) {
      if (auto named = ParseAnyLevel(t_matched_word); named && named->level == *l)
        *name = std::move(named->name);
    }
    if (*l != Level::kInfo) {
      block_ = Block::kRecord;
      record_level_ = *l;
    }
    return *l;
  }
  return Level::kInfo;
}

}  // namespace wanllmdb
