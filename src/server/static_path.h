// StaticPath: the only way a request path becomes a file name under the web root.
//
// A request path is untrusted. Joining it to the root the obvious way (`root / path`) lets an
// absolute path (`//etc/passwd`, `/%2Fetc/passwd`) replace the root altogether, and `..` climb
// out of it. ResolveStaticPath accepts only paths made of plain segments and returns them as a
// relative path; the caller then resolves symlinks and checks the result is still inside the
// canonical root (StaticFiles::Serve), so a link inside the root cannot point out of it either.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wanllmdb {

// `raw_path` is the request target's path, still percent-encoded, starting with '/'.
// Returns the relative file name ("index.html" for "/"), or nullopt when the path is not a
// plain file path: an empty segment ("//", a trailing '/'), "." or "..", an encoded '/' or
// '\\', a NUL or other control byte, a bad percent escape, or more than 4 KiB / 32 segments.
// Thread-safety: a pure function.
std::optional<std::string> ResolveStaticPath(std::string_view raw_path);

}  // namespace wanllmdb
