// LineAssembler: the one rule (DESIGN §6) that turns the bytes of one stream into stored lines:
// what a terminal shows, once it has stopped changing.
//
// The same rule is implemented by the Python SDK (sdk/python/wanllmdb/line_assembler.py); both
// pass tests/vectors/line_assembly.json, whose "format" field and doc/capture.md ("Line
// assembly") are the normative description. In short:
//   - The stream drives a small terminal: rows of cells (one code point each, with the SGR
//     colour sequences written before it), a cursor, '\n' (new line, column 0 — as the user's
//     terminal shows it), '\r', '\b', cursor up/down/left/right/column (CSI A B C D E F G H),
//     erase in line/display (CSI K, J), save/restore cursor, the alternate screen (ignored).
//     SGR is kept; every other escape (OSC 8 hyperlinks, titles, modes, DCS…) is removed.
//   - Rows the program may still redraw are held in a window; a row leaves it (is stored) when
//     it can no longer change: a plain line ended at the bottom releases everything above it;
//     while the cursor is hidden (a live display) nothing is plain; a row more than `rows`
//     above the bottom is off screen; Settle() (the owner's idle timer)
//     releases the rows above the cursor of a stream that never moved the cursor up; Flush().
//   - A stored row that was redrawn in place loses its trailing blanks (padding of old frames).
//   - Invalid UTF-8 becomes one U+FFFD per maximal invalid subpart.
//   - A row over kMaxLineBytes bytes (as stored: invalid UTF-8 replaced) is cut into pieces of
//     at most that many, never inside a code point or an escape sequence. Nothing is dropped.
// Lines that never use the terminal model (text, tabs and SGR only) and are short enough never
// to be cut take a fast path: no copy beyond the stored string, no delay.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log_line.h"

namespace wanllmdb {

// Thread-safety: none; the owner (one captured stream) serializes all calls.
class LineAssembler {
 public:
  static constexpr int kDefaultRows = 24;
  // The owner calls Settle() once a stream holding rows (NeedsSettle()) was quiet this long.
  static constexpr int kSettleMs = 150;

  // The screen height: how far up a cursor movement can reach (at least 2).
  void SetRows(int rows) { rows_limit_ = rows < 2 ? 2 : static_cast<size_t>(rows); }
  // The cut (kMaxLineBytes, at least 16): smaller for the fuzz target, so short inputs reach
  // rows that are cut.
  void SetMaxLineBytes(size_t n) { max_line_bytes_ = n < 16 ? 16 : n; }
  // Appends the lines completed by `chunk` to `out`, in order.
  void Feed(std::string_view chunk, std::vector<std::string>* out);
  // The stream was quiet for kSettleMs: if it never moved the cursor up, the rows above the
  // cursor are final (a finished progress bar) and are appended to `out`.
  void Settle(std::vector<std::string>* out);
  bool NeedsSettle() const { return !seen_up_ && !cursor_hidden_ && rows_.size() > 1; }
  // Ends the stream: appends every row still held, and the last line if it is not empty.
  void Flush(std::vector<std::string>* out);
  // True when bytes of an unfinished line (or held rows) are kept.
  bool HasPartial() const { return !plain_.empty() || !rows_.empty(); }
  // True while rows are being redrawn (progress bars, spinners, live displays): LiveText() may
  // be shown live, never stored.
  bool HasLive() const { return rows_.size() > 1 || (rows_.size() == 1 && rows_[0].drawn); }
  // The held rows as the terminal shows them now, joined with '\n' ("" when blank).
  std::string LiveText() const;

 private:
  struct Row {
    std::vector<char32_t> cells;
    std::vector<std::pair<uint32_t, std::string>> pre;  // SGR written before cell i, sorted
    std::string trail;                                  // SGR written after the last cell
    size_t bytes = 0;                                   // rendered size (cells + pre + trail)
    bool drawn = false;                                 // changed in place after being written
  };
  enum class Esc : uint8_t { kGround, kEsc, kEscInter, kCsi, kString, kStringEsc };

  size_t FeedTerminal(std::string_view chunk, size_t pos, std::vector<std::string>* out);
  void EnterTerminal(std::vector<std::string>* out);
  void AppendPlain(std::string_view data, std::vector<std::string>* out);
  void Text(std::string_view run, std::vector<std::string>* out);
  void FlushUtf8Hold(std::vector<std::string>* out);
  void PutChar(char32_t cp, size_t len, std::vector<std::string>* out);
  void NewLine(std::vector<std::string>* out);
  void ExecuteCsi(char final, std::vector<std::string>* out);
  void EscFinal(char c, std::vector<std::string>* out);
  void BeforeControl();
  void FlushPendingSgr();
  void EraseInLine(Row* row, int mode);
  void Release(size_t n, std::vector<std::string>* out);  // stores the top n rows
  void Cut(std::vector<std::string>* out);
  static std::string Render(const Row& row, bool trim);
  static Row ErasedRow();
  static void RecountBytes(Row* row);
  bool Clean() const;

  // Plain mode holds at most this many raw bytes: they render to at most 3 times as many
  // (each invalid byte becomes a 3-byte U+FFFD), so a plain line is never cut.
  size_t PlainLimit() const { return max_line_bytes_ / 3; }

  size_t rows_limit_ = kDefaultRows;
  size_t max_line_bytes_ = kMaxLineBytes;
  // Plain mode (rows_ empty): the current line's bytes, text and SGR only.
  std::string plain_;
  // Terminal mode: the window of held rows, and the cursor.
  std::deque<Row> rows_;
  size_t cy_ = 0, cx_ = 0;
  size_t saved_dist_ = 0, saved_cx_ = 0;  // DECSC: rows above the bottom, column
  std::string pending_sgr_;               // SGR not yet attached to a cell
  std::string utf8_hold_;                 // an incomplete UTF-8 sequence at a chunk's end
  std::string csi_;                       // the CSI being parsed, from ESC
  bool csi_overflow_ = false;
  Esc esc_ = Esc::kGround;
  bool cr_pending_ = false;     // '\r' seen: the next thing other than '\n' redraws the row
  bool seen_up_ = false;        // the stream moved the cursor up at least once
  bool alt_screen_ = false;     // output to the alternate screen is not part of the log
  bool cursor_hidden_ = false;  // DECTCEM off: a live display is being drawn
};

}  // namespace wanllmdb
