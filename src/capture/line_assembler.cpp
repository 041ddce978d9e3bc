#include "capture/line_assembler.h"

#include <algorithm>
#include <cstring>

#include "core/log_line.h"
#include "core/text.h"

namespace wanllmdb {
namespace {

// Length of a CSI sequence to drop at text[i] (text[i] == ESC), or 0 to keep the byte.
// CSI = ESC '[' parameter bytes (0x30-0x3F)* intermediate bytes (0x20-0x2F)* final (0x40-0x7E);
// the classes do not overlap, so a greedy scan is the regex's only match. Final 'm' (SGR) stays.
size_t DroppableCsiLength(std::string_view text, size_t i) {
  size_t j = i + 1;
  if (j >= text.size() || text[j] != '[') return 0;
  ++j;
  while (j < text.size() && text[j] >= 0x30 && text[j] <= 0x3F) ++j;
  while (j < text.size() && text[j] >= 0x20 && text[j] <= 0x2F) ++j;
  if (j >= text.size()) return 0;
  char final = text[j];
  if (final < 0x40 || final > 0x7E || final == 'm') return 0;
  return j + 1 - i;
}

}  // namespace

std::string FinishLine(std::string_view raw) {
  std::string text = IsValidUtf8(raw) ? std::string(raw) : SanitizeUtf8(raw);
  if (text.find('\x1b') == std::string::npos) return text;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b') {
      size_t n = DroppableCsiLength(text, i);
      if (n) {
        i += n;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

void LineAssembler::Feed(std::string_view chunk, std::vector<std::string>* out) {
  const char* const data = chunk.data();
  const size_t n = chunk.size();
  // memchr for each of the two bytes (vectorized) instead of testing every byte against both.
  auto find = [&](char c, size_t from) {
    const void* p = from < n ? std::memchr(data + from, c, n - from) : nullptr;
    return p ? static_cast<size_t>(static_cast<const char*>(p) - data) : n;
  };
  size_t next_cr = find('\r', 0);
  size_t next_lf = find('\n', 0);
  size_t pos = 0;
  while (pos < n) {
    if (next_cr < pos) next_cr = find('\r', pos);
    if (next_lf < pos) next_lf = find('\n', pos);
    size_t stop = std::min(next_cr, next_lf);
    if (stop > pos) {
      if (cr_pending_) {
        buf_.clear();
        cr_pending_ = false;
      }
      if (stop < n && data[stop] == '\n' && buf_.empty() && stop - pos <= kMaxLineBytes) {
        // The common case: a whole line inside the chunk, finished without copying it to buf_.
        out->push_back(FinishLine(chunk.substr(pos, stop - pos)));
        pos = stop + 1;
        continue;
      }
      Append(chunk.substr(pos, stop - pos), out);
    }
    if (stop == n) break;
    if (data[stop] == '\n') {
      out->push_back(FinishLine(buf_));
      buf_.clear();
      cr_pending_ = false;
      rewritten_ = false;
    } else {
      cr_pending_ = true;
      rewritten_ = true;
    }
    pos = stop + 1;
  }
}

void LineAssembler::Append(std::string_view data, std::vector<std::string>* out) {
  buf_.append(data);
  size_t start = 0;  // cut pieces off the front without moving the rest each time
  while (buf_.size() - start > kMaxLineBytes) {
    size_t cut = start + kMaxLineBytes;
    // Back off over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
    while (cut > start + kMaxLineBytes - 3 &&
           (static_cast<unsigned char>(buf_[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out->push_back(FinishLine(std::string_view(buf_).substr(start, cut - start)));
    start = cut;
  }
  if (start) buf_.erase(0, start);
}

void LineAssembler::Flush(std::vector<std::string>* out) {
  cr_pending_ = false;
  rewritten_ = false;
  if (buf_.empty()) return;
  out->push_back(FinishLine(buf_));
  buf_.clear();
}

}  // namespace wanllmdb
