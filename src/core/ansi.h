// Visible text: what a terminal shows of a line, its escape sequences (SGR colours, cursor moves,
// OSC titles and links) removed. The same rules as the web UI's parser (web/src/lib/ansi.ts), so
// search, regex, highlighting and match counts agree on what a line says.
#pragma once

#include <string>
#include <string_view>

namespace wanllmdb {

// True when `s` may hold an escape sequence (ESC, or the 8-bit CSI U+009B). Cheap: memchr.
bool HasEscapes(std::string_view s);

// Appends `s` without its escape sequences; a truncated sequence at the end is dropped.
void AppendVisibleText(std::string_view s, std::string* out);
std::string VisibleText(std::string_view s);

}  // namespace wanllmdb
