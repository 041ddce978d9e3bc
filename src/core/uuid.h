// Run ids: RFC 4122 version-4 UUIDs, lower-case canonical text.
#pragma once

#include <string>
#include <string_view>

namespace wanllmdb {

std::string NewUuid();
// 8-4-4-4-12 hex digits (any case, any version). Normalise with CanonicalUuid before storing.
bool IsUuid(std::string_view s);
std::string CanonicalUuid(std::string_view s);

}  // namespace wanllmdb
