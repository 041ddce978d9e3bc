// Text rules shared by ingest and capture: UTF-8 repair and the 64 KiB line limit (DESIGN §6).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wanllmdb {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends `s` to `out` with every ill-formed sequence replaced by U+FFFD (one per maximal
// ill-formed subpart, as the Unicode standard recommends and browsers do).
void AppendSanitizedUtf8(std::string_view s, std::string* out);
std::string SanitizeUtf8(std::string_view s);
// Appends code point `cp` (at most U+10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(char32_t cp, std::string* out);

// Splits valid UTF-8 text into stored lines: on '\n' (a '\r' before it is dropped), then any piece
// longer than `max_bytes` into continuation pieces cut at code point boundaries. A trailing '\n'
// does not make an extra empty line; "" yields one empty line.
void SplitIntoLines(std::string_view text, size_t max_bytes, std::vector<std::string_view>* out);

// ASCII lower-casing in place; bytes >= 0x80 are left alone (so UTF-8 stays valid).
void AsciiLowerInPlace(char* data, size_t size);
std::string AsciiLower(std::string_view s);

// Where `needle_lower` (already AsciiLower'd) first occurs in `hay` at or after `from`, ASCII
// letters compared case-insensitively and every other byte exactly: the same answer as
// AsciiLower(hay).find(needle_lower, from), without the copy. npos when absent. SSE2 tests 16
// candidate positions at once on the needle's first and last byte, then confirms each.
size_t FindAsciiCaseless(std::string_view hay, std::string_view needle_lower, size_t from = 0);

}  // namespace wanllmdb
