#include "server/disk_guard.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace wanllmdb {
namespace {

constexpr int64_t kRefreshUs = 1000000;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kGiB = int64_t{1} << 30;

Status BadLimit(std::string_view text) {
  return Status(Code::kInvalidValue,
                "--min-free-disk: want a size such as 512M or 2G, a share such as 5%, 0 (off) "
                "or auto; got '" +
                    std::string(text) + "'");
}

}  // namespace

int64_t DiskLimit::MinFreeBytes(int64_t total_bytes) const {
  switch (kind) {
    case Kind::kBytes:
      return bytes;
    case Kind::kPercent:
      return static_cast<int64_t>(static_cast<double>(total_bytes) * percent / 100.0);
    case Kind::kAuto:
      break;
  }
  return std::min(kGiB, total_bytes / 20);
}

Result<DiskLimit> ParseDiskLimit(std::string_view text) {
  DiskLimit limit;
  if (text == "auto") return limit;
  // A plain decimal number first (no sign, no exponent: strtod would take "1e99" and "-1").
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !dot))) {
    if (text[i] == '.')
      dot = true;
    else
      digits = true;
    ++i;
  }
  if (!digits || i > 20) return BadLimit(text);
  const double number = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
  std::string unit;
  for (char c : text.substr(i))
    unit.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (unit == "%") {
    if (number > 100) return BadLimit(text);
    limit.kind = DiskLimit::Kind::kPercent;
    limit.percent = number;
    return limit;
  }
  double scale = 0;
  for (auto [suffix, s] : {std::pair{"", 1.0},
                           {"B", 1.0},
                           {"K", 0x1p10},
                           {"KB", 0x1p10},
                           {"KIB", 0x1p10},
                           {"M", 0x1p20},
                           {"MB", 0x1p20},
                           {"MIB", 0x1p20},
                           {"G", 0x1p30},
                           {"GB", 0x1p30},
                           {"GIB", 0x1p30},
                           {"T", 0x1p40},
                           {"TB", 0x1p40},
                           {"TIB", 0x1p40}}) {
    if (unit == suffix) scale = s;
  }
  const double bytes = number * scale;
  if (scale == 0 || !(bytes < 0x1p62)) return BadLimit(text);
  limit.kind = DiskLimit::Kind::kBytes;
  limit.bytes = static_cast<int64_t>(std::llround(bytes));
  return limit;
}

std::string FormatBytes(int64_t bytes) {
  char buf[64];
  if (bytes >= kGiB) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / 0x1p30);
  } else if (bytes >= (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / 0x1p20);
  } else {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  }
  return buf;
}

DiskGuard::DiskGuard(std::string dir, DiskLimit limit) : dir_(std::move(dir)), limit_(limit) {}

std::optional<int64_t> DiskGuard::MinFreeBytes() const {
  auto space = Space();
  if (!space) return std::nullopt;
  return limit_.MinFreeBytes(space->total_bytes);
}

Status DiskGuard::Check() const {
  auto space = Space();
  if (!space) return Status::Ok();
  const int64_t min_free = limit_.MinFreeBytes(space->total_bytes);
  if (space->free_bytes >= min_free) return Status::Ok();
  return Status(Code::kInsufficientStorage,
                "free disk space is below --min-free-disk: " + FormatBytes(space->free_bytes) +
                    " free of " + FormatBytes(space->total_bytes) + ", the limit keeps " +
                    FormatBytes(min_free));
}

std::optional<DiskSpace> DiskGuard::Refresh() const {
  struct statvfs st {};
  if (dir_.empty() || ::statvfs(dir_.c_str(), &st) != 0) {
    free_bytes_.store(-1, std::memory_order_relaxed);
    return std::nullopt;
  }
  DiskSpace d;
  d.free_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
  d.total_bytes = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
  total_bytes_.store(d.total_bytes, std::memory_order_relaxed);
  free_bytes_.store(d.free_bytes, std::memory_order_relaxed);
  return d;
}

std::optional<DiskSpace> DiskGuard::Space() const {
  if (dir_.empty()) return std::nullopt;
  const int64_t now = SteadyMicros();
  int64_t checked = checked_at_us_.load(std::memory_order_relaxed);
  if (checked == INT64_MIN || now - checked >= kRefreshUs) {
    checked_at_us_.store(now, std::memory_order_relaxed);
    return Refresh();
  }
  int64_t free = free_bytes_.load(std::memory_order_relaxed);
  if (free < 0) return std::nullopt;
  return DiskSpace{free, total_bytes_.load(std::memory_order_relaxed)};
}

}  // namespace wanllmdb
