// JsonText: the few operations on compact JSON text that structured lines need without a JSON
// library — writing a string, telling a JSON number, and finding a key of an object. Field
// filters run FindField on millions of lines (LogLine::fields), so it walks the text once,
// never allocates, and is safe on any bytes (a corrupt chunk): it never reads out of bounds and
// never recurses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wanllmdb {

// Appends `s` as a JSON string ("..." with \" \\ and control characters escaped). `s` is UTF-8.
void AppendJsonString(std::string* out, std::string_view s);

// Whether `s` is exactly a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s);

// The value of key `key` (unescaped, exact) in the JSON object `object`, as its raw text
// ("1.5", "\"cuda\"", "{...}"). The first occurrence wins. nullopt when the key is absent or
// `object` is not an object.
std::optional<std::string_view> FindField(std::string_view object, std::string_view key);

// The content of a raw JSON string value, unescaped (\uXXXX with surrogate pairs, the short
// escapes); nullopt when `raw` is not a string.
std::optional<std::string> JsonStringValue(std::string_view raw);

}  // namespace wanllmdb
