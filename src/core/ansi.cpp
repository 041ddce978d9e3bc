#include "core/ansi.h"

#include <cstring>

namespace wanllmdb {

namespace {

constexpr char kEsc = '\x1b';
// U+009B (8-bit CSI) in UTF-8.
constexpr char kC1Lead = '\xc2', kC1Csi = '\x9b';

}  // namespace

bool HasEscapes(std::string_view s) {
  if (s.empty()) return false;
  if (std::memchr(s.data(), kEsc, s.size())) return true;
  const char* p = s.data();
  const char* end = p + s.size();
  while ((p = static_cast<const char*>(std::memchr(p, kC1Lead, end - p))) && p + 1 < end) {
    if (p[1] == kC1Csi) return true;
    ++p;
  }
  return false;
}

void AppendVisibleText(std::string_view s, std::string* out) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Copy the run of plain bytes up to the next ESC or C1 lead byte at once.
    size_t j = i;
    while (j < n && s[j] != kEsc && s[j] != kC1Lead) ++j;
    out->append(s.data() + i, j - i);
    i = j;
    if (i >= n) break;
    bool csi8 = s[i] == kC1Lead;
    if (csi8 && (i + 1 >= n || s[i + 1] != kC1Csi)) {  // some other U+00xx character
      out->push_back(s[i++]);
      continue;
    }
    char next = csi8 ? '[' : (i + 1 < n ? s[i + 1] : '\0');
    if (!csi8 && i + 1 >= n) break;  // lone ESC at the end
    if (next == '[') {
      // CSI: parameters 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E.
      size_t k = i + 2;
      while (k < n && s[k] >= 0x30 && s[k] <= 0x3f) ++k;
      while (k < n && s[k] >= 0x20 && s[k] <= 0x2f) ++k;
      if (k >= n) break;  // truncated: dropped
      i = k + 1;
    } else if (next == ']' || next == 'P' || next == '_' || next == '^' || next == 'X') {
      // OSC / DCS / APC / PM / SOS: up to BEL or ST (ESC \).
      size_t k = i + 2;
      while (k < n && s[k] != '\a' && !(s[k] == kEsc && k + 1 < n && s[k + 1] == '\\')) ++k;
      i = k >= n ? n : (s[k] == '\a' ? k + 1 : k + 2);
    } else {
      // Two-character escape (ESC 7, ESC M, ESC ( B ...): it and its designator byte.
      i += (next == '(' || next == ')') ? 3 : 2;
    }
  }
}

std::string VisibleText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendVisibleText(s, &out);
  return out;
}

}  // namespace wanllmdb
