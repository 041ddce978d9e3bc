// StaticFiles: the built web UI (web/dist). Known files by path; any other non-API path gets
// index.html so client-side routes survive a reload. Without a build, "/" says how to make one.
#pragma once

#include <string>

#include "server/api_types.h"

namespace wanllmdb {

// Thread-safety: immutable after construction; Serve reads files and may run on many threads.
class StaticFiles {
 public:
  explicit StaticFiles(std::string root);
  ApiResponse Serve(const std::string& path) const;
  bool available() const { return available_; }

 private:
  std::string root_;
  bool available_ = false;
};

}  // namespace wanllmdb
