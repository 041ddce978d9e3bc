#include "core/time_util.h"

#include <chrono>

namespace wanllmdb {
namespace {

// Howard Hinnant's civil-date algorithms: exact for the proleptic Gregorian calendar.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void Put(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

bool Digits(std::string_view s, size_t pos, size_t n, int* value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void FormatIsoMicros(int64_t micros, char* out) {
  int64_t secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  int64_t frac = micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0) y = 0;
  if (y > 9999) y = 9999;
  Put(out, static_cast<int>(y), 4);
  out[4] = '-';
  Put(out + 5, static_cast<int>(m), 2);
  out[7] = '-';
  Put(out + 8, static_cast<int>(d), 2);
  out[10] = 'T';
  Put(out + 11, static_cast<int>(sod / 3600), 2);
  out[13] = ':';
  Put(out + 14, static_cast<int>(sod / 60 % 60), 2);
  out[16] = ':';
  Put(out + 17, static_cast<int>(sod % 60), 2);
  out[19] = '.';
  Put(out + 20, static_cast<int>(frac), 6);
  out[26] = 'Z';
}

std::string FormatIsoMicros(int64_t micros) {
  std::string s(27, '\0');
  FormatIsoMicros(micros, s.data());
  return s;
}

std::optional<int64_t> ParseIsoMicros(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t i = 10;
  int64_t frac_us = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    if (!Digits(s, i + 1, 2, &h) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, &mi))
      return std::nullopt;
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!Digits(s, i + 1, 2, &sec)) return std::nullopt;
      i += 3;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        int64_t scale = 100000;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (scale > 0) frac_us += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int oh, om = 0;
      int sign = s[i] == '-' ? -1 : 1;
      if (!Digits(s, i + 1, 2, &oh)) return std::nullopt;
      i += 3;
      if (i < s.size() && s[i] == ':') ++i;
      if (i < s.size()) {
        if (!Digits(s, i, 2, &om)) return std::nullopt;
        i += 2;
      }
      offset_s = sign * (oh * 3600 + om * 60);
    }
  }
  if (i != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000000 + frac_us;
}

}  // namespace wanllmdb
