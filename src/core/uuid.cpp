#include "core/uuid.h"

#include <cctype>
#include <random>

namespace wanllmdb {

std::string NewUuid() {
  // One generator per thread: no lock, and seeded from the OS so ids never collide across runs.
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<uint64_t>(std::random_device{}()) << 32)};
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 15; i >= 0; --i) {
    s.push_back(kHex[(a >> (i * 4)) & 0xF]);
    if (i == 8 || i == 4) s.push_back('-');
  }
  s.push_back('-');
  for (int i = 15; i >= 0; --i) {
    s.push_back(kHex[(b >> (i * 4)) & 0xF]);
    if (i == 12) s.push_back('-');
  }
  return s;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string CanonicalUuid(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace wanllmdb
