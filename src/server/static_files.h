// StaticFiles: the built web UI (web/dist). Known files by path; any other plain path gets
// index.html so client-side routes survive a reload. Without a build, "/" says how to make one.
// Only files that are, after symlink resolution, inside the canonical web root are ever read
// (ResolveStaticPath turns the request path into a relative name first).
#pragma once

#include <string>
#include <string_view>

#include "server/api_types.h"

namespace wanllmdb {

// Thread-safety: immutable after construction; Serve reads files and may run on many threads.
class StaticFiles {
 public:
  explicit StaticFiles(const std::string& root);
  // `raw_path`: the request path, still percent-encoded. `head`: no body wanted.
  ApiResponse Serve(std::string_view raw_path, bool head) const;
  bool available() const { return available_; }

 private:
  // Opens `relative` if it resolves to a regular file inside root_; the canonical path or "".
  std::string Resolve(const std::string& relative) const;
  ApiResponse File(const std::string& canonical, bool immutable, bool head) const;

  std::string root_;  // canonical, no trailing '/'
  bool available_ = false;
};

}  // namespace wanllmdb
