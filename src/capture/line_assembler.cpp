#include "capture/line_assembler.h"

#include <algorithm>
#include <cstring>

#include "core/log_line.h"
#include "core/text.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxCsiBytes = 256;  // longer CSI sequences are dropped (SGR included)
constexpr size_t kMaxParam = 9999;

// Bytes the terminal model must see; everything else is text (tabs and other C0 controls are
// kept as characters, as before).
bool IsSpecial(unsigned char c) {
  return c == '\n' || c == '\r' || c == '\b' || c == 0x1b;
}

// Length of a complete SGR sequence (ESC '[' [0-9;:]* 'm') at s[i], or 0.
size_t SgrLength(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j >= s.size() || s[j] != '[') return 0;
  // No longer than the terminal model keeps (kMaxCsiBytes, with ESC [): a longer one goes to
  // the model, which drops it, as it would if a read had ended inside it.
  const size_t end = std::min(s.size(), i + kMaxCsiBytes + 1);
  for (++j; j < end; ++j) {
    char c = s[j];
    if (c == 'm') return j + 1 - i;
    if (!((c >= '0' && c <= '9') || c == ';' || c == ':')) return 0;
  }
  return 0;
}

// How many trailing bytes of `s` are the start of a UTF-8 sequence that continues in the next
// chunk (0-3).
size_t IncompleteTail(std::string_view s) {
  for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
    auto b = static_cast<unsigned char>(s[s.size() - k]);
    if ((b & 0xC0) == 0x80) continue;
    size_t need = (b >= 0xC2 && b <= 0xDF)   ? 2
                  : (b >= 0xE0 && b <= 0xEF) ? 3
                  : (b >= 0xF0 && b <= 0xF4) ? 4
                                             : 1;
    return need > k ? k : 0;
  }
  return 0;
}

size_t Utf8Len(char32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

// Decodes one code point of valid UTF-8 at s[i]; its length in *len.
char32_t DecodeValid(std::string_view s, size_t i, size_t* len) {
  auto b = static_cast<unsigned char>(s[i]);
  auto c = [&](size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  if (b < 0x80) {
    *len = 1;
    return b;
  }
  if (b < 0xE0) {
    *len = 2;
    return (static_cast<char32_t>(b & 0x1F) << 6) | c(1);
  }
  if (b < 0xF0) {
    *len = 3;
    return (static_cast<char32_t>(b & 0x0F) << 12) | (c(1) << 6) | c(2);
  }
  *len = 4;
  return (static_cast<char32_t>(b & 0x07) << 18) | (c(1) << 12) | (c(2) << 6) | c(3);
}

std::string FinishPlain(std::string_view raw) {
  return IsValidUtf8(raw) ? std::string(raw) : SanitizeUtf8(raw);
}

// Parameter k of a CSI ("ESC [ p0 ; p1 ... final"), 0 when absent.
size_t Param(std::string_view csi, int k) {
  size_t i = 2;
  for (int idx = 0; i <= csi.size(); ++idx) {
    size_t end = csi.find(';', i);
    if (end == std::string_view::npos) end = csi.size();
    if (idx == k) {
      size_t v = 0;
      for (size_t j = i; j < end; ++j) {
        if (csi[j] < '0' || csi[j] > '9') break;
        v = std::min(kMaxParam, v * 10 + static_cast<size_t>(csi[j] - '0'));
      }
      return v;
    }
    i = end + 1;
  }
  return 0;
}

}  // namespace

LineAssembler::Row LineAssembler::ErasedRow() {
  Row r;
  r.drawn = true;
  return r;
}

std::string LineAssembler::Render(const Row& row, bool trim) {
  size_t n = row.cells.size();
  if (trim && row.drawn) {
    // A row redrawn in place keeps blanks of older, longer frames: they are not its text.
    size_t last_pre = row.pre.empty() ? 0 : row.pre.back().first + 1;
    while (n > last_pre && row.cells[n - 1] == U' ') --n;
  }
  std::string s;
  s.reserve(row.bytes);
  auto pre = row.pre.begin();
  for (size_t i = 0; i < n; ++i) {
    if (pre != row.pre.end() && pre->first == i) {
      s += pre->second;
      ++pre;
    }
    AppendUtf8(row.cells[i], &s);
  }
  s += row.trail;
  return s;
}

void LineAssembler::RecountBytes(Row* row) {
  size_t b = row->trail.size();
  for (char32_t cp : row->cells) b += Utf8Len(cp);
  for (const auto& p : row->pre) b += p.second.size();
  row->bytes = b;
}

bool LineAssembler::Clean() const {
  return rows_.size() == 1 && rows_[0].cells.empty() && rows_[0].trail.empty() && cx_ == 0 &&
         pending_sgr_.empty() && utf8_hold_.empty() && esc_ == Esc::kGround && !alt_screen_ &&
         !cursor_hidden_ && !cr_pending_;
}

void LineAssembler::Feed(std::string_view chunk, std::vector<std::string>* out) {
  const char* const data = chunk.data();
  const size_t n = chunk.size();
  // memchr per byte value (vectorized) instead of testing every byte; each is searched again
  // only once passed.
  auto find = [&](char c, size_t from) {
    const void* p = from < n ? std::memchr(data + from, c, n - from) : nullptr;
    return p ? static_cast<size_t>(static_cast<const char*>(p) - data) : n;
  };
  size_t next_lf = 0, next_cr = 0, next_bs = 0, next_esc = 0;
  bool first = true;
  size_t pos = 0;
  while (pos < n) {
    if (!rows_.empty()) {
      pos = FeedTerminal(chunk, pos, out);
      continue;
    }
    // Plain mode: the current line has been text and SGR only.
    if (first || next_lf < pos) next_lf = find('\n', pos);
    if (first || next_cr < pos) next_cr = find('\r', pos);
    if (first || next_bs < pos) next_bs = find('\b', pos);
    if (first || next_esc < pos) next_esc = find('\x1b', pos);
    first = false;
    size_t special = std::min(next_cr, next_bs);
    // Complete SGR sequences stay in the plain line.
    while (next_esc < next_lf && next_esc < special) {
      size_t len = SgrLength(chunk.substr(0, next_lf), next_esc);
      if (!len) {
        special = next_esc;
        break;
      }
      next_esc = find('\x1b', next_esc + len);
    }
    if (special < next_lf) {
      AppendPlain(chunk.substr(pos, special - pos), out);
      if (rows_.empty()) EnterTerminal(out);
      pos = special;
      continue;
    }
    if (next_lf == n) {
      AppendPlain(chunk.substr(pos), out);
      break;
    }
    if (plain_.empty() && next_lf - pos <= PlainLimit()) {
      // The common case: a whole line inside the chunk, stored without another copy.
      out->push_back(FinishPlain(chunk.substr(pos, next_lf - pos)));
    } else {
      AppendPlain(chunk.substr(pos, next_lf - pos), out);
      if (!rows_.empty()) {  // too long for plain mode: the terminal takes its '\n' too
        pos = next_lf;
        continue;
      }
      out->push_back(FinishPlain(plain_));
      plain_.clear();
    }
    pos = next_lf + 1;
  }
}

void LineAssembler::AppendPlain(std::string_view data, std::vector<std::string>* out) {
  plain_.append(data);
  // A line that might be cut goes to the terminal model, whose cut counts rendered bytes and
  // never splits an escape: one rule for every line, whatever sizes the reads had.
  if (plain_.size() > PlainLimit()) EnterTerminal(out);
}

void LineAssembler::EnterTerminal(std::vector<std::string>* out) {
  rows_.emplace_back();
  cy_ = cx_ = 0;
  std::string line;
  line.swap(plain_);
  FeedTerminal(line, 0, out);
}

size_t LineAssembler::FeedTerminal(std::string_view chunk, size_t pos,
                                   std::vector<std::string>* out) {
  const size_t n = chunk.size();
  while (pos < n) {
    char c = chunk[pos];
    switch (esc_) {
      case Esc::kGround: {
        if (!IsSpecial(static_cast<unsigned char>(c))) {
          size_t end = pos + 1;
          while (end < n && !IsSpecial(static_cast<unsigned char>(chunk[end]))) ++end;
          Text(chunk.substr(pos, end - pos), out);
          pos = end;
          continue;
        }
        FlushUtf8Hold(out);
        ++pos;
        if (c == '\n') {
          NewLine(out);
          if (Clean()) {  // back to plain mode
            rows_.clear();
            return pos;
          }
        } else if (c == '\r') {
          if (!alt_screen_) {
            FlushPendingSgr();  // a colour reset ending the old frame stays at its end
            cx_ = 0;
            cr_pending_ = true;
          }
        } else if (c == '\b') {
          if (!alt_screen_) {
            BeforeControl();
            if (cx_ > 0) --cx_;
          }
        } else {
          esc_ = Esc::kEsc;
        }
        continue;
      }
      case Esc::kEsc:
        ++pos;
        if (c == '[') {
          esc_ = Esc::kCsi;
          csi_.assign("\x1b[");
          csi_overflow_ = false;
        } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
          esc_ = Esc::kString;  // OSC, DCS, SOS, PM, APC: dropped up to BEL or ST
        } else if (c >= 0x20 && c <= 0x2F) {
          esc_ = Esc::kEscInter;  // charset selection and the like: dropped
        } else if (c == 0x1b) {
          esc_ = Esc::kEsc;
        } else {
          esc_ = Esc::kGround;
          EscFinal(c, out);
        }
        continue;
      case Esc::kEscInter:
        if (c >= 0x20 && c <= 0x2F) {
          ++pos;
        } else {
          esc_ = Esc::kGround;
          if (c >= 0x30 && c <= 0x7E) ++pos;  // the final byte; anything else is reprocessed
        }
        continue;
      case Esc::kCsi:
        if (c >= 0x20 && c <= 0x3F) {
          if (csi_.size() < kMaxCsiBytes) {
            csi_.push_back(c);
          } else {
            csi_overflow_ = true;
          }
          ++pos;
        } else if (c >= 0x40 && c <= 0x7E) {
          ++pos;
          esc_ = Esc::kGround;
          if (!csi_overflow_) {
            csi_.push_back(c);
            ExecuteCsi(c, out);
          }
        } else {
          esc_ = Esc::kGround;  // malformed: dropped, the byte is reprocessed
        }
        continue;
      case Esc::kString:
        ++pos;
        if (c == '\x07') {
          esc_ = Esc::kGround;
        } else if (c == 0x1b) {
          esc_ = Esc::kStringEsc;
        }
        continue;
      case Esc::kStringEsc:
        if (c == '\\') {
          ++pos;
          esc_ = Esc::kGround;
        } else {
          esc_ = Esc::kEsc;  // ESC ends the string and starts a new sequence
        }
        continue;
    }
  }
  return pos;
}

void LineAssembler::Text(std::string_view run, std::vector<std::string>* out) {
  std::string joined;
  if (!utf8_hold_.empty()) {
    joined = utf8_hold_;
    joined.append(run);
    utf8_hold_.clear();
    run = joined;
  }
  size_t tail = IncompleteTail(run);
  if (tail) {
    utf8_hold_.assign(run.substr(run.size() - tail));
    run = run.substr(0, run.size() - tail);
  }
  std::string sanitized;
  if (!IsValidUtf8(run)) {
    sanitized = SanitizeUtf8(run);
    run = sanitized;
  }
  for (size_t i = 0; i < run.size();) {
    size_t len;
    char32_t cp = DecodeValid(run, i, &len);
    PutChar(cp, len, out);
    i += len;
  }
}

void LineAssembler::FlushUtf8Hold(std::vector<std::string>* out) {
  if (utf8_hold_.empty()) return;
  std::string held;
  held.swap(utf8_hold_);
  std::string s = SanitizeUtf8(held);
  for (size_t i = 0; i < s.size();) {
    size_t len;
    char32_t cp = DecodeValid(s, i, &len);
    PutChar(cp, len, out);
    i += len;
  }
}

void LineAssembler::BeforeControl() {
  if (cr_pending_) {
    rows_[cy_].drawn = true;
    cr_pending_ = false;
  }
}

void LineAssembler::PutChar(char32_t cp, size_t len, std::vector<std::string>* out) {
  if (alt_screen_) return;
  Row& r = rows_[cy_];
  if (cr_pending_) {
    r.drawn = true;
    cr_pending_ = false;
  }
  if (cx_ < r.cells.size()) {
    r.drawn = true;
    r.bytes += len;
    r.bytes -= Utf8Len(r.cells[cx_]);
    r.cells[cx_] = cp;
    auto it = std::lower_bound(r.pre.begin(), r.pre.end(), cx_,
                               [](const auto& p, size_t col) { return p.first < col; });
    if (it != r.pre.end() && it->first == cx_) {
      r.bytes -= it->second.size();
      if (pending_sgr_.empty()) {
        r.pre.erase(it);
      } else {
        it->second.swap(pending_sgr_);
        r.bytes += it->second.size();
      }
    } else if (!pending_sgr_.empty()) {
      r.bytes += pending_sgr_.size();
      r.pre.insert(it, {static_cast<uint32_t>(cx_), std::move(pending_sgr_)});
    }
  } else {
    // Appending, after blanks when the cursor was moved past the end. SGR written at the end
    // of the row now comes before its next character.
    std::string before;
    before.swap(r.trail);
    while (r.cells.size() <= cx_) {
      if (r.cells.size() == cx_) {
        r.bytes += pending_sgr_.size();
        before += pending_sgr_;
      }
      if (!before.empty()) {
        r.pre.emplace_back(static_cast<uint32_t>(r.cells.size()), std::move(before));
        before.clear();
      }
      r.cells.push_back(r.cells.size() == cx_ ? cp : U' ');
      r.bytes += r.cells.size() - 1 == cx_ ? len : 1;
    }
  }
  pending_sgr_.clear();
  ++cx_;
  if (r.bytes > max_line_bytes_) Cut(out);
}

void LineAssembler::FlushPendingSgr() {
  if (pending_sgr_.empty()) return;
  Row& r = rows_[cy_];
  if (!alt_screen_) {
    if (cx_ < r.cells.size()) {
      // Before the character under the cursor (a colour reset ahead of an old frame's text).
      auto it = std::lower_bound(r.pre.begin(), r.pre.end(), cx_,
                                 [](const auto& p, size_t col) { return p.first < col; });
      r.bytes += pending_sgr_.size();
      if (it != r.pre.end() && it->first == cx_) {
        if (it->second.size() > kMaxCsiBytes * 4) {  // frames of resets on one cell: bounded
          r.bytes -= it->second.size();
          it->second.clear();
        }
        it->second.insert(0, pending_sgr_);
      } else {
        r.pre.insert(it, {static_cast<uint32_t>(cx_), pending_sgr_});
      }
    } else {
      // At the end: replaces what an earlier frame left there (one reset, not one per frame).
      r.bytes -= r.trail.size();
      r.trail = pending_sgr_;
      r.bytes += r.trail.size();
    }
  }
  pending_sgr_.clear();
}

void LineAssembler::NewLine(std::vector<std::string>* out) {
  if (alt_screen_) return;
  FlushPendingSgr();
  cr_pending_ = false;
  cx_ = 0;
  if (cy_ + 1 < rows_.size()) {
    ++cy_;  // onto a row still on screen (below a live region's top)
    return;
  }
  // A program that hid the cursor is drawing a live display (rich): its first frame is plain
  // text, redrawn later.
  if (!rows_[cy_].drawn && !cursor_hidden_) {
    // A plain line at the bottom: whatever was drawn above it is done.
    Release(rows_.size(), out);
    rows_.emplace_back();
    cy_ = 0;
    return;
  }
  // A redrawn row (progress bar) ended: it stays redrawable. Rows above it are final unless
  // the stream moves the cursor up.
  if (!seen_up_ && !cursor_hidden_) Release(cy_, out);
  rows_.emplace_back();
  cy_ = rows_.size() - 1;
  if (rows_.size() > rows_limit_) Release(rows_.size() - rows_limit_, out);
}

void LineAssembler::Release(size_t n, std::vector<std::string>* out) {
  for (size_t i = 0; i < n && !rows_.empty(); ++i) {
    out->push_back(Render(rows_.front(), true));
    rows_.pop_front();
  }
  cy_ = cy_ >= n ? cy_ - n : 0;
}

void LineAssembler::Cut(std::vector<std::string>* out) {
  // Rows above are final before a piece of this one is stored (order), rows below stay.
  Release(cy_, out);
  Row& r = rows_[0];
  size_t k = 0, bytes = 0;
  auto pre = r.pre.begin();
  while (k < r.cells.size()) {
    size_t add = Utf8Len(r.cells[k]);
    if (pre != r.pre.end() && pre->first == k) add += pre->second.size();
    if (bytes + add > max_line_bytes_) break;
    bytes += add;
    if (pre != r.pre.end() && pre->first == k) ++pre;
    ++k;
  }
  if (k == 0) k = 1;  // an SGR over the limit: store it with its character
  Row piece;
  piece.cells.assign(r.cells.begin(), r.cells.begin() + static_cast<std::ptrdiff_t>(k));
  auto split = std::lower_bound(r.pre.begin(), r.pre.end(), k,
                                [](const auto& p, size_t col) { return p.first < col; });
  piece.pre.assign(r.pre.begin(), split);
  out->push_back(Render(piece, false));
  r.cells.erase(r.cells.begin(), r.cells.begin() + static_cast<std::ptrdiff_t>(k));
  r.pre.erase(r.pre.begin(), split);
  for (auto& p : r.pre) p.first -= static_cast<uint32_t>(k);
  RecountBytes(&r);
  cx_ = cx_ > k ? cx_ - k : 0;
}

void LineAssembler::EraseInLine(Row* r, int mode) {
  r->drawn = true;
  if (mode == 2 || (mode == 0 && cx_ == 0)) {
    r->cells.clear();
    r->pre.clear();
    r->trail.clear();
  } else if (mode == 0) {
    if (cx_ < r->cells.size()) {
      r->cells.resize(cx_);
      while (!r->pre.empty() && r->pre.back().first >= cx_) r->pre.pop_back();
      r->trail.clear();
    }
  } else {
    size_t end = std::min(cx_ + 1, r->cells.size());
    for (size_t i = 0; i < end; ++i) r->cells[i] = U' ';
    auto split = std::lower_bound(r->pre.begin(), r->pre.end(), end,
                                  [](const auto& p, size_t col) { return p.first < col; });
    r->pre.erase(r->pre.begin(), split);
  }
  RecountBytes(r);
}

void LineAssembler::ExecuteCsi(char final, std::vector<std::string>* out) {
  std::string_view csi = csi_;
  char lead = csi.size() > 2 ? csi[2] : final;
  bool is_private = lead == '?' || lead == '>' || lead == '<' || lead == '=';
  bool has_inter = false;
  for (size_t i = 2; i + 1 < csi.size(); ++i) has_inter |= csi[i] >= 0x20 && csi[i] <= 0x2F;
  if (has_inter) return;
  if (is_private) {
    if (lead == '?' && (final == 'h' || final == 'l')) {
      size_t mode = 0;
      for (size_t i = 3; i + 1 < csi.size() && csi[i] >= '0' && csi[i] <= '9'; ++i) {
        mode = std::min(kMaxParam, mode * 10 + static_cast<size_t>(csi[i] - '0'));
      }
      if (mode == 1049 || mode == 1047 || mode == 47) {
        if (final == 'h') FlushPendingSgr();
        alt_screen_ = final == 'h';
      } else if (mode == 25) {
        cursor_hidden_ = final == 'l';
      }
    }
    return;
  }
  if (final == 'm') {
    // Graphic state for the next character (also across cursor movements, as on a terminal).
    // Bounded: a flood of colour codes with no text keeps only the newest.
    if (alt_screen_) return;
    if (pending_sgr_.size() + csi.size() > kMaxCsiBytes * 4) pending_sgr_.clear();
    pending_sgr_ += csi;
    return;
  }
  if (alt_screen_) return;
  BeforeControl();
  size_t p0 = Param(csi, 0);
  size_t n = std::max<size_t>(p0, 1);
  size_t last = rows_.size() - 1;
  switch (final) {
    case 'A':  // cursor up
    case 'F':  // cursor to the start of a line up
      seen_up_ = true;
      cy_ = cy_ > n ? cy_ - n : 0;
      if (final == 'F') cx_ = 0;
      break;
    case 'B':  // cursor down: never below the last row (the screen's bottom)
    case 'E':
      cy_ = std::min(last, cy_ + n);
      if (final == 'E') cx_ = 0;
      break;
    case 'C':
      cx_ = std::min(max_line_bytes_, cx_ + n);
      break;
    case 'D':
      cx_ = cx_ > n ? cx_ - n : 0;
      break;
    case 'G':
    case '`':
      cx_ = std::min(max_line_bytes_, n - 1);
      break;
    case 'H':
    case 'f': {  // absolute position: rows count from the top of the held window
      seen_up_ = true;
      cy_ = std::min(last, n - 1);
      cx_ = std::min(max_line_bytes_, std::max<size_t>(Param(csi, 1), 1) - 1);
      break;
    }
    case 'K':
      EraseInLine(&rows_[cy_], static_cast<int>(std::min<size_t>(p0, 3)));
      break;
    case 'J': {
      if (p0 == 0) {
        EraseInLine(&rows_[cy_], 0);
        for (size_t i = cy_ + 1; i < rows_.size(); ++i) rows_[i] = ErasedRow();
      } else if (p0 == 1) {
        EraseInLine(&rows_[cy_], 1);
        for (size_t i = 0; i < cy_; ++i) rows_[i] = ErasedRow();
      } else {
        for (auto& r : rows_) r = ErasedRow();
      }
      break;
    }
    case 's':
      saved_dist_ = last - cy_;
      saved_cx_ = cx_;
      break;
    case 'u':
      seen_up_ = true;
      cy_ = last > saved_dist_ ? last - saved_dist_ : 0;
      cx_ = saved_cx_;
      break;
    default:
      break;  // everything else (modes, scrolling regions, reports) has no place in a log
  }
}

void LineAssembler::EscFinal(char c, std::vector<std::string>* out) {
  if (alt_screen_) return;
  switch (c) {
    case '7':
      BeforeControl();
      saved_dist_ = rows_.size() - 1 - cy_;
      saved_cx_ = cx_;
      break;
    case '8':
      BeforeControl();
      seen_up_ = true;
      cy_ = rows_.size() - 1 > saved_dist_ ? rows_.size() - 1 - saved_dist_ : 0;
      cx_ = saved_cx_;
      break;
    case 'M':  // reverse index: up one row
      BeforeControl();
      seen_up_ = true;
      if (cy_ > 0) --cy_;
      break;
    case 'E':  // next line
      NewLine(out);
      break;
    default:
      break;  // other two-byte escapes are dropped
  }
}

void LineAssembler::Settle(std::vector<std::string>* out) {
  if (!NeedsSettle()) return;
  Release(cy_, out);
  if (Clean()) rows_.clear();
}

std::string LineAssembler::LiveText() const {
  size_t end = rows_.size();
  while (end > cy_ && Render(rows_[end - 1], true).empty()) --end;
  std::string s;
  for (size_t i = 0; i < end; ++i) {
    if (i) s.push_back('\n');
    s += Render(rows_[i], true);
  }
  return s;
}

void LineAssembler::Flush(std::vector<std::string>* out) {
  if (rows_.empty()) {
    if (!plain_.empty()) out->push_back(FinishPlain(plain_));
    plain_.clear();
  } else {
    esc_ = Esc::kGround;
    FlushUtf8Hold(out);
    FlushPendingSgr();
    // Rows above the cursor are lines; from the cursor down, up to the last that shows
    // something (a spinner that erased itself leaves nothing).
    size_t end = rows_.size();
    while (end > cy_ && Render(rows_[end - 1], true).empty()) --end;
    Release(end, out);
    rows_.clear();
  }
  cy_ = cx_ = 0;
  pending_sgr_.clear();
  utf8_hold_.clear();
  esc_ = Esc::kGround;
  cr_pending_ = false;
  seen_up_ = false;
  alt_screen_ = false;
  cursor_hidden_ = false;
}

}  // namespace wanllmdb
