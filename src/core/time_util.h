// Time in the wire format: ISO 8601 UTC with microseconds, "2024-11-16T10:00:00.123456Z".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wanllmdb {

int64_t NowMicros();
// Always 27 characters: YYYY-MM-DDTHH:MM:SS.ffffffZ. `out` must hold 27 bytes.
void FormatIsoMicros(int64_t micros, char* out);
std::string FormatIsoMicros(int64_t micros);
// "HH:MM:SS" in UTC would be wrong for people; local time is the UI's job. Here: full ISO only.
// Accepts YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM]; no zone means UTC.
std::optional<int64_t> ParseIsoMicros(std::string_view text);

}  // namespace wanllmdb
