#include "core/text.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cstring>

namespace wanllmdb {
namespace {

// Length of the well-formed sequence starting at s[i], or 0 when ill-formed. On 0, *bad is the
// length of the maximal ill-formed subpart to replace with a single U+FFFD.
size_t SequenceLength(const unsigned char* s, size_t n, size_t i, size_t* bad) {
  unsigned char c = s[i];
  *bad = 1;
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= n) {
      *bad = k;
      return 0;
    }
    unsigned char b = s[i + k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      *bad = k;
      return 0;
    }
  }
  return len;
}

}  // namespace

bool IsValidUtf8(std::string_view sv) {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  size_t n = sv.size(), i = 0;
  while (i < n) {
    // Fast path over ASCII, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    size_t bad;
    size_t len = SequenceLength(s, n, i, &bad);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void AppendSanitizedUtf8(std::string_view sv, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  size_t n = sv.size(), i = 0, run_start = 0;
  out->reserve(out->size() + n);
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    size_t bad;
    size_t len = SequenceLength(s, n, i, &bad);
    if (len) {
      i += len;
      continue;
    }
    out->append(sv.data() + run_start, i - run_start);
    out->append("\xEF\xBF\xBD");
    i += bad;
    run_start = i;
  }
  out->append(sv.data() + run_start, n - run_start);
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  AppendSanitizedUtf8(s, &out);
  return out;
}

void SplitIntoLines(std::string_view text, size_t max_bytes, std::vector<std::string_view>* out) {
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    size_t stop = end;
    if (nl != std::string_view::npos && stop > start && text[stop - 1] == '\r') --stop;
    std::string_view line = text.substr(start, stop - start);
    // Long lines: cut before max_bytes at a code point boundary (never inside a sequence).
    while (line.size() > max_bytes) {
      size_t cut = max_bytes;
      while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
      if (cut == 0) cut = max_bytes;
      out->push_back(line.substr(0, cut));
      line.remove_prefix(cut);
    }
    out->push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
    if (start == text.size()) break;  // trailing newline: no extra empty line
  }
}

void AsciiLowerInPlace(char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    char c = data[i];
    data[i] = static_cast<char>(c + ((static_cast<unsigned char>(c - 'A') < 26) << 5));
  }
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  AsciiLowerInPlace(out.data(), out.size());
  return out;
}

size_t FindAsciiCaseless(std::string_view hay, std::string_view nd, size_t from) {
  const size_t m = nd.size();
  if (m == 0) return from <= hay.size() ? from : std::string_view::npos;
  if (hay.size() < m || from > hay.size() - m) return std::string_view::npos;
  const char* h = hay.data();
  const size_t last = hay.size() - m;  // the last position a match may start at
  auto fold = [](char c) {
    return static_cast<char>(c + ((static_cast<unsigned char>(c - 'A') < 26) << 5));
  };
  auto matches_at = [&](size_t i) {
    for (size_t j = 0; j < m; ++j) {
      if (fold(h[i + j]) != nd[j]) return false;
    }
    return true;
  };
  size_t i = from;
#ifdef __SSE2__
  // For a letter, x | 0x20 equals its lower case exactly when x is that letter in either case;
  // any other byte is compared as it is.
  auto is_lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const __m128i first = _mm_set1_epi8(nd[0]), tail = _mm_set1_epi8(nd[m - 1]);
  const __m128i first_or = _mm_set1_epi8(is_lower(nd[0]) ? 0x20 : 0);
  const __m128i tail_or = _mm_set1_epi8(is_lower(nd[m - 1]) ? 0x20 : 0);
  // Positions i..i+15 are all candidates, and the last load ends at i + m + 15 <= hay.size().
  for (; i + 15 <= last; i += 16) {
    __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)), first_or);
    __m128i b =
        _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + m - 1)), tail_or);
    auto mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, tail))));
    while (mask) {
      size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      if (matches_at(at)) return at;
      mask &= mask - 1;
    }
  }
#endif
  for (; i <= last; ++i) {
    if (fold(h[i]) == nd[0] && matches_at(i)) return i;
  }
  return std::string_view::npos;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace wanllmdb
