#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace wanllmdb {
namespace {

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

bool ReadFile(const std::filesystem::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

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

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  available_ = !root_.empty() &&
               std::filesystem::is_regular_file(std::filesystem::path(root_) / "index.html", ec);
}

ApiResponse StaticFiles::Serve(const std::string& path) const {
  ApiResponse r;
  if (!available_) {
    r.status = path == "/" ? 200 : 404;
    r.content_type = "text/html; charset=utf-8";
    r.body = kNoUiPage;
    return r;
  }
  namespace fs = std::filesystem;
  bool traversal = path.find("..") != std::string::npos || path.find('\0') != std::string::npos;
  fs::path file = fs::path(root_) / (path.size() > 1 ? path.substr(1) : "index.html");
  std::error_code ec;
  if (traversal || !fs::is_regular_file(file, ec)) {
    // Hashed assets that are missing are real 404s; everything else is a client route.
    if (path.rfind("/assets/", 0) == 0 || traversal) {
      r.status = 404;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "not found\n";
      return r;
    }
    file = fs::path(root_) / "index.html";
  }
  if (!ReadFile(file, &r.body)) {
    r.status = 500;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "cannot read " + file.string() + "\n";
    return r;
  }
  r.content_type = MimeType(file.string());
  if (path.rfind("/assets/", 0) == 0) {
    r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  } else {
    r.headers.emplace_back("Cache-Control", "no-cache");
  }
  return r;
}

}  // namespace wanllmdb
