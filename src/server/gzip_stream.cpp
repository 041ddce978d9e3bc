#include "server/gzip_stream.h"

#include <zlib.h>

#include <cctype>

namespace wanllmdb {

struct GzipStream::Impl {
  z_stream z{};
  bool ok = false;
  bool finished = false;
};

GzipStream::GzipStream() : impl_(std::make_unique<Impl>()) {
  // windowBits 15 + 16: a gzip header and trailer around raw deflate; level 6 is zlib's default.
  impl_->ok = deflateInit2(&impl_->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipStream::~GzipStream() {
  if (impl_->ok) deflateEnd(&impl_->z);
}

Status GzipStream::Write(std::string_view in, bool last, std::string* out) {
  if (!impl_->ok || impl_->finished) return Status(Code::kInternal, "gzip: stream not usable");
  z_stream& z = impl_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  const int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
  for (;;) {
    size_t before = out->size();
    size_t room = deflateBound(&z, z.avail_in) + 64;
    out->resize(before + room);
    z.next_out = reinterpret_cast<Bytef*>(out->data() + before);
    z.avail_out = static_cast<uInt>(room);
    int rc = deflate(&z, flush);
    out->resize(before + room - z.avail_out);
    if (rc == Z_STREAM_ERROR) return Status(Code::kInternal, "gzip: deflate failed");
    if (last ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out > 0)) break;
  }
  if (last) impl_->finished = true;
  return Status::Ok();
}

bool AcceptsGzip(std::string_view v) {
  size_t i = 0;
  while (i < v.size()) {
    size_t end = v.find(',', i);
    if (end == std::string_view::npos) end = v.size();
    std::string_view item = v.substr(i, end - i);
    i = end + 1;
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.front())))
      coding.remove_prefix(1);
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.back())))
      coding.remove_suffix(1);
    std::string lower;
    for (char c : coding)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower != "gzip" && lower != "x-gzip" && lower != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    size_t q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view val = params.substr(q + 2);
    // q=0, q=0.0, q=0.000 refuse; anything else accepts.
    bool zero = !val.empty() && val[0] == '0';
    for (size_t k = 1; zero && k < val.size() && val[k] != ' ' && val[k] != ';'; ++k) {
      if (val[k] != '.' && val[k] != '0') zero = false;
    }
    return !zero;
  }
  return false;
}

}  // namespace wanllmdb
