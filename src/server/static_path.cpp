#include "server/static_path.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr int kMaxSegments = 32;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one segment; false when it holds a byte no file name of ours may hold.
bool DecodeSegment(std::string_view raw, std::string* out) {
  out->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      int hi = HexValue(raw[i + 1]), lo = HexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '/' || c == '\\') return false;
    out->push_back(c);
  }
  return !out->empty() && *out != "." && *out != "..";
}

}  // namespace

std::optional<std::string> ResolveStaticPath(std::string_view raw) {
  if (raw.empty() || raw.front() != '/' || raw.size() > kMaxPathBytes) return std::nullopt;
  if (raw == "/") return std::string("index.html");
  std::string out, segment;
  int segments = 0;
  size_t i = 1;
  while (true) {
    size_t j = raw.find('/', i);
    std::string_view part = raw.substr(i, j == std::string_view::npos ? j : j - i);
    if (++segments > kMaxSegments || !DecodeSegment(part, &segment)) return std::nullopt;
    if (!out.empty()) out.push_back('/');
    out += segment;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace wanllmdb
