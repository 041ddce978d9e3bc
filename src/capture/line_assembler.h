// LineAssembler: the one rule (DESIGN §6) that turns the bytes of one stream into stored lines.
//
// The same rule is implemented by the Python SDK (sdk/python/wanllmdb/line_assembler.py); both
// pass tests/vectors/line_assembly.json, whose "format" field is the normative description:
//   - '\n' ends a line (not part of it). Empty lines are lines.
//   - '\r' rewrites the current line: its bytes are discarded as soon as more bytes of the same
//     line arrive (progress bars keep their final state). "\r\n" is a plain line end, also when
//     split across chunks. A line ending in '\r' at Flush() keeps its text.
//   - ANSI SGR (ESC [ ... m, colours) is kept; every other CSI sequence is dropped.
//   - Invalid UTF-8 becomes one U+FFFD per maximal invalid subpart.
//   - A line over kMaxLineBytes input bytes is cut into pieces of at most that many bytes, each
//     cut moved back (at most 3 bytes) to before a UTF-8 lead byte. Nothing is dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wanllmdb {

// Thread-safety: none; the owner (one captured stream) serializes Feed() and Flush().
class LineAssembler {
 public:
  // Appends the lines completed by `chunk` to `out`, in order.
  void Feed(std::string_view chunk, std::vector<std::string>* out);
  // Ends the stream: appends the final line if it has no newline yet (and is not empty).
  void Flush(std::vector<std::string>* out);
  // True when bytes of an unfinished line are held.
  bool HasPartial() const { return !buf_.empty(); }
  // True while the unfinished line is being rewritten with '\r' (a progress bar): its current
  // state, FinishLine(Partial()), may be shown live, never stored.
  bool InRewrite() const { return rewritten_ && !buf_.empty(); }
  std::string_view Partial() const { return buf_; }

 private:
  void Append(std::string_view data, std::vector<std::string>* out);

  std::string buf_;  // bytes of the current, incomplete line (after '\r' handling)
  // A '\r' was seen and nothing but more '\r' since: the next byte decides whether the line is
  // rewritten (other text) or ended ('\n').
  bool cr_pending_ = false;
  bool rewritten_ = false;  // a '\r' was seen in the current line
};

// Decodes one assembled line (invalid UTF-8 → U+FFFD) and drops non-SGR CSI sequences.
std::string FinishLine(std::string_view raw);

}  // namespace wanllmdb
