#include "core/json_text.h"

#include <cstdint>

#include "core/text.h"

namespace wanllmdb {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// Index one past the string starting at s[i] == '"', or npos when unterminated.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Index one past the value starting at s[i]; npos when malformed. Nesting is counted, not
// recursed into: brackets outside strings move a depth counter.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    size_t depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return std::string_view::npos;
  }
  // A literal: number, true, false, null.
  size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !IsSpace(s[i])) ++i;
  return i == start ? std::string_view::npos : i;
}

std::optional<uint32_t> Hex4(std::string_view s, size_t i) {
  if (s.size() - i < 4 || i > s.size()) return std::nullopt;
  uint32_t v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (IsDigit(c)) {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return v;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      switch (c) {
        case '\n':
          out->append("\\n");
          break;
        case '\t':
          out->append("\\t");
          break;
        case '\r':
          out->append("\\r");
          break;
        default:
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
      }
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (IsDigit(s[i])) {
    while (i < s.size() && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i == s.size();
}

std::optional<std::string_view> FindField(std::string_view s, std::string_view key) {
  size_t i = SkipSpace(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  i = SkipSpace(s, i + 1);
  if (i < s.size() && s[i] == '}') return std::nullopt;
  while (i < s.size()) {
    if (s[i] != '"') return std::nullopt;
    size_t key_end = SkipString(s, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    std::string_view raw_key = s.substr(i + 1, key_end - i - 2);
    bool same;
    if (raw_key.find('\\') == std::string_view::npos) {
      same = raw_key == key;
    } else {
      auto k = JsonStringValue(s.substr(i, key_end - i));
      same = k && *k == key;
    }
    i = SkipSpace(s, key_end);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    i = SkipSpace(s, i + 1);
    size_t value_end = SkipValue(s, i);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (same) return s.substr(i, value_end - i);
    i = SkipSpace(s, value_end);
    if (i >= s.size() || s[i] != ',') return std::nullopt;
    i = SkipSpace(s, i + 1);
  }
  return std::nullopt;
}

std::optional<std::string> JsonStringValue(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return std::nullopt;
  std::string out;
  out.reserve(raw.size() - 2);
  const size_t end = raw.size() - 1;
  for (size_t i = 1; i < end; ++i) {
    char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= end) return std::nullopt;
    switch (raw[i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        auto hi = Hex4(raw.substr(0, end), i + 1);
        if (!hi) return std::nullopt;
        i += 4;
        uint32_t cp = *hi;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < end && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          auto lo = Hex4(raw.substr(0, end), i + 3);
          if (lo && *lo >= 0xDC00 && *lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (*lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // a lone surrogate
        AppendUtf8(cp, &out);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

}  // namespace wanllmdb
