// Level detection from a line's own layout (DESIGN §6). Runs once, in the server, for lines that
// arrive without an explicit level.
//
// Recognised layouts, tried in this order on the line with leading ANSI codes and blanks skipped:
//   Python traceback     "Traceback (most recent call last):" and every indented line after it,
//                        up to and including the first unindented line (the exception): ERROR
//   glog                 "E0102 15:04:05.123456 …" (I, W, E, F = CRITICAL)
//   logging default      "WARNING:root:…", also "ERROR: …" (pip, many CLIs)
//   bracketed            "[ERROR] …", "[2024-11-16 10:00:00][WARNING] …" within the first 96 bytes
//   timestamp then level "2024-11-16 10:00:00,123 WARNING …", "… | ERROR    | …" (loguru)
//   logging asctime      "… - name - ERROR - …"
//   key/value            "level=error", "lvl=warn", JSON "\"level\": \"error\""
//   warnings module      "file.py:12: UserWarning: …": WARNING
// Level words must stand as whole tokens in those positions: "error" inside a URL or a sentence
// is not a level. Anything else is INFO.
#pragma once

#include <optional>
#include <string_view>

#include "core/log_line.h"

namespace wanllmdb {

// Carries the only cross-line state (inside a traceback) for one stream of one writer.
// Thread-safety: not thread-safe; one per stream.
class LevelDetector {
 public:
  // `in_traceback`: the state the stream's previous line left (kept by the store per writer).
  explicit LevelDetector(bool in_traceback = false) : in_traceback_(in_traceback) {}
  Level Detect(std::string_view line);
  bool in_traceback() const { return in_traceback_; }

 private:
  bool in_traceback_ = false;
};

// The stateless part: a level if the line's layout names one.
std::optional<Level> DetectLevelFromLayout(std::string_view line);

}  // namespace wanllmdb
