// Static path resolution (src/server/static_path.*, static_files.*): whatever the request path,
// a served file is one inside the web root. A fixed root holds index.html, an asset, and two
// symlinks that point out of it (to a secret file and to the parent directory).
//
// Input: the request path, still percent-encoded ('/' is prepended when missing).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.h"
#include "server/static_files.h"
#include "server/static_path.h"

using namespace wanllmdb;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSecret = "SECRET-OUTSIDE-THE-ROOT";

struct Root {
  fs::path dir;
  std::unique_ptr<StaticFiles> files;
  Root() {
    char tmpl[] = "/tmp/wanllmdb-static-fuzz-XXXXXX";
    dir = ::mkdtemp(tmpl);
    fs::create_directories(dir / "web" / "assets");
    std::ofstream(dir / "web" / "index.html") << "<!doctype html>index";
    std::ofstream(dir / "web" / "assets" / "app.js") << "console.log(1)";
    std::ofstream(dir / "secret.txt") << kSecret;
    fs::create_symlink(dir / "secret.txt", dir / "web" / "link.txt");
    fs::create_symlink(dir, dir / "web" / "up");
    files = std::make_unique<StaticFiles>((dir / "web").string());
    FUZZ_CHECK(files->available());
  }
  ~Root() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::string Body(ApiResponse& r) {
  std::string out = r.body;
  if (r.stream) {
    std::string piece;
    bool done = false;
    while (!done && r.stream(&piece, &done).ok()) out += piece;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Root* root = new Root();  // removed by the atexit below
  static bool cleanup = (std::atexit([] { delete root; }), true);
  (void)cleanup;
  std::string path(reinterpret_cast<const char*>(data), size);
  if (path.empty() || path[0] != '/') path.insert(0, "/");

  if (auto rel = ResolveStaticPath(path)) {
    // A plain relative name: no root, no empty, "." or ".." segment, no control bytes.
    FUZZ_CHECK(!rel->empty() && rel->front() != '/' && rel->back() != '/');
    FUZZ_CHECK(rel->find("//") == std::string::npos && rel->find('\\') == std::string::npos);
    for (unsigned char c : *rel) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    fs::path joined = (fs::path("/root") / *rel).lexically_normal();
    FUZZ_CHECK(joined.string().rfind("/root/", 0) == 0);
    for (const auto& part : fs::path(*rel)) FUZZ_CHECK(part != "." && part != "..");
  }

  for (bool head : {false, true}) {
    ApiResponse r = root->files->Serve(path, head);
    FUZZ_CHECK(r.status == 200 || r.status == 404);
    FUZZ_CHECK(Body(r).find(kSecret) == std::string::npos);
  }
  return 0;
}
