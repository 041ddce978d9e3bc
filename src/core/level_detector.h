// Level detection from a line's own layout (DESIGN §6). Runs once, in the server, for lines that
// arrive without an explicit level.
//
// Detection works on the visible text: colour codes anywhere in the line (colorlog, loguru) are
// removed first. Recognised layouts, tried in this order with leading blanks skipped:
//   Python traceback     "Traceback (most recent call last):" and every indented or blank line
//                        after it (loguru's "> File" frames too), and then the exception line if
//                        it looks like one ("pkg.ErrorName: message"): ERROR. Any other
//                        unindented line ends the block and is detected on its own.
//   faulthandler         "Fatal Python error: …" and its thread dump: CRITICAL
//   glog                 "E0102 15:04:05.123456 …" (I, W, E, F = CRITICAL)
//   logging default      "WARNING:root:…", also "ERROR: …" (pip, many CLIs)
//   padded level         "WARNING  msg" (%(levelname)-8s, colorlog, RichHandler), or a level
//                        word with a colour code of its own at the start
//   bracketed            "[ERROR] …", "[2024-11-16 10:00:00][WARNING] …" within the first 96 bytes
//   timestamp then level "2024-11-16 10:00:00,123 WARNING …", "… | ERROR    | …" (loguru),
//                        "[11/16/24 10:00:00] WARNING …" (RichHandler), and with one or two
//                        logger names between ("2024-… trainer WARNING …")
//   logging asctime      "… - name - ERROR - …"
//   key/value            "level=error", "lvl=warn", JSON "\"level\": \"error\""
//   warnings module      "file.py:12: UserWarning: …": WARNING
// Level words must stand as whole tokens in those positions: "error" inside a URL or a sentence
// is not a level. Anything else is INFO. Indented lines right after a line whose layout named a
// level (the source line under a UserWarning, a record's indented continuation) carry its level.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/log_line.h"

namespace wanllmdb {

// Carries the cross-line state (inside a traceback, a fatal error's dump, a leveled record) for
// one stream of one writer. Thread-safety: not thread-safe; one per stream.
class LevelDetector {
 public:
  // `in_traceback`: the state the stream's previous line left (kept by the store per writer).
  // Only an open traceback crosses batches so far; a fatal dump's or a record's continuation
  // starts a new batch undetected.
  explicit LevelDetector(bool in_traceback = false)
      : block_(in_traceback ? Block::kTraceback : Block::kNone) {}
  // `name`, when given, receives the program's own level name when the layout named a custom
  // one (loguru's SUCCESS, TRACE, FATAL); empty otherwise.
  Level Detect(std::string_view line, std::string* name = nullptr);
  bool in_traceback() const { return block_ == Block::kTraceback; }

 private:
  enum class Block : uint8_t { kNone, kTraceback, kFatal, kRecord };
  Block block_;
  Level record_level_ = Level::kInfo;
};

// The stateless part: a level if the line's layout names one.
std::optional<Level> DetectLevelFromLayout(std::string_view line);

}  // namespace wanllmdb
