#include "server/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "server/static_path.h"

namespace wanllmdb {
namespace {

// Files up to this size are read in one piece (with a Content-Length); larger ones are streamed
// so a request never holds a whole big file in memory.
constexpr off_t kWholeFileBytes = 256 * 1024;
constexpr size_t kStreamPiece = 64 * 1024;

std::string_view MimeType(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

ApiResponse PlainError(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

// Closes the descriptor when the last copy of the stream callback goes away.
struct FileHandle {
  int fd = -1;
  ~FileHandle() {
    if (fd >= 0) ::close(fd);
  }
};

constexpr const char* kNoUiPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>wanLLMDB</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>wanLLMDB log server</h1>
<p>The server is running, but the web UI has not been built or <code>--web</code> does not point
at it.</p>
<p>Build it with <code>make build</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>)
and start the server with <code>--web web/dist</code>; <code>make run</code> does both.</p>
<p>The API is at <a href="/api/v1/health">/api/v1</a>.</p>
</body></html>
)";

}  // namespace

StaticFiles::StaticFiles(const std::string& root) {
  if (root.empty()) return;
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  if (ec) return;
  root_ = canonical.string();
  available_ = std::filesystem::is_regular_file(canonical / "index.html", ec);
}

std::string StaticFiles::Resolve(const std::string& relative) const {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(std::filesystem::path(root_) / relative, ec);
  if (ec) return "";
  std::string p = canonical.string();
  // Inside the root means below it: "/srv/web-other" is not inside "/srv/web".
  if (p.size() <= root_.size() || p.compare(0, root_.size(), root_) != 0 || p[root_.size()] != '/')
    return "";
  if (!std::filesystem::is_regular_file(canonical, ec)) return "";
  return p;
}

ApiResponse StaticFiles::File(const std::string& canonical, bool immutable, bool head) const {
  auto file = std::make_shared<FileHandle>();
  file->fd = ::open(canonical.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st {};
  if (file->fd < 0 || ::fstat(file->fd, &st) != 0 || !S_ISREG(st.st_mode))
    return PlainError(404, "not found\n");
  ApiResponse r;
  r.content_type = MimeType(canonical);
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (head) return r;
  if (st.st_size <= kWholeFileBytes) {
    r.body.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < r.body.size()) {
      ssize_t n = ::read(file->fd, r.body.data() + got, r.body.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    r.body.resize(got);
    return r;
  }
  r.stream = [file](std::string* piece, bool* done) {
    piece->resize(kStreamPiece);
    ssize_t n = ::read(file->fd, piece->data(), piece->size());
    if (n < 0) return Status(Code::kInternal, "cannot read a web UI file");
    piece->resize(static_cast<size_t>(n));
    *done = n == 0;
    return Status::Ok();
  };
  return r;
}

ApiResponse StaticFiles::Serve(std::string_view raw_path, bool head) const {
  if (!available_) {
    ApiResponse r = PlainError(raw_path == "/" ? 200 : 404, kNoUiPage);
    r.content_type = "text/html; charset=utf-8";
    return r;
  }
  auto relative = ResolveStaticPath(raw_path);
  if (!relative) return PlainError(404, "not found\n");
  const bool asset = raw_path.rfind("/assets/", 0) == 0;
  std::string file = Resolve(*relative);
  if (file.empty()) {
    // Hashed assets that are missing are real 404s; any other plain path is a client route.
    if (asset) return PlainError(404, "not found\n");
    file = Resolve("index.html");
    if (file.empty()) return PlainError(404, "not found\n");
  }
  return File(file, asset, head);
}

}  // namespace wanllmdb
