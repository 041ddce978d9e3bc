#include "server/body_codec.h"

#include <snappy.h>
#include <zlib.h>

#include <algorithm>

#include "core/text.h"

namespace wanllmdb {

Result<std::string> GunzipBody(std::string_view data, size_t max_bytes) {
  z_stream z{};
  // 15 + 32: a gzip or zlib header, detected.
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Status(Code::kInternal, "zlib: out of memory");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() >= max_bytes) {
      inflateEnd(&z);
      return Status(Code::kTooLarge,
                    "the body inflates to more than " + std::to_string(max_bytes >> 20) + " MiB");
    }
    size_t old = out.size();
    // Geometric growth: linear steps would copy a 64 MiB body hundreds of times.
    out.resize(std::min(max_bytes, std::max({old * 2, data.size() * 4, size_t{64 * 1024}})));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(out.size() - old);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_in > 0)) {
      inflateEnd(&z);
      return Status(Code::kBadRequest, "the body is not valid gzip (Content-Encoding: gzip)");
    }
    if (z.avail_in == 0 && z.avail_out > 0) {
      inflateEnd(&z);
      return Status(Code::kBadRequest, "the gzip body is truncated");
    }
  }
  inflateEnd(&z);
  return out;
}

Result<std::string> UnsnappyBody(std::string_view data, size_t max_bytes) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(data.data(), data.size(), &n))
    return Status(Code::kBadRequest, "the body is not snappy-compressed (block format)");
  if (n > max_bytes)
    return Status(Code::kTooLarge,
                  "the body inflates to more than " + std::to_string(max_bytes >> 20) + " MiB");
  std::string out;
  if (!snappy::Uncompress(data.data(), data.size(), &out))
    return Status(Code::kBadRequest, "the snappy body is corrupt");
  return out;
}

Status DecodeContentEncoding(std::string_view encoding, std::string* body) {
  std::string e = AsciiLower(encoding);
  if (e.empty() || e == "identity") return Status::Ok();
  Result<std::string> decoded =
      e == "gzip"     ? GunzipBody(*body)
      : e == "snappy" ? UnsnappyBody(*body)
                      : Result<std::string>(Status(Code::kUnsupportedMediaType,
                                                   "Content-Encoding '" + std::string(encoding) +
                                                       "' is not supported (gzip, snappy)"));
  if (!decoded.ok()) return decoded.status();
  *body = std::move(*decoded);
  return Status::Ok();
}

}  // namespace wanllmdb
