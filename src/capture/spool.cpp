#include "capture/spool.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "capture/batch_json.h"

namespace wanllmdb {
namespace fs = std::filesystem;
namespace {

Status IoError(const std::string& what) {
  return Status(Code::kInternal, what + ": " + std::strerror(errno));
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Segment number of "000042.jsonl", or 0.
int SegmentNumber(const fs::path& p) {
  if (p.extension() != ".jsonl") return 0;
  std::string stem = p.stem().string();
  if (stem.empty() || !std::all_of(stem.begin(), stem.end(), ::isdigit)) return 0;
  return std::atoi(stem.c_str());
}

}  // namespace

bool ValidWriterName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

Status WriteFileAtomic(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot write " + tmp.string());
  bool ok = WriteAll(fd, content.data(), content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = IoError("cannot write " + path.string());
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot read " + path.string());
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError("cannot read " + path.string());
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::unique_ptr<SpoolWriter>> SpoolWriter::Open(const fs::path& root,
                                                       const std::string& run_id,
                                                       const std::string& run_body,
                                                       const std::string& writer) {
  if (!ValidWriterName(writer)) return Status(Code::kInvalidValue, "bad writer name: " + writer);
  std::unique_ptr<SpoolWriter> w(new SpoolWriter);
  w->run_dir_ = fs::absolute(root) / run_id;
  w->writer_dir_ = w->run_dir_ / "writers" / writer;
  std::error_code ec;
  fs::create_directories(w->writer_dir_, ec);
  if (ec)
    return Status(Code::kInternal,
                  "cannot create " + w->writer_dir_.string() + ": " + ec.message());
  if (!fs::exists(w->run_dir_ / "run.json")) {
    Status s = WriteFileAtomic(w->run_dir_ / "run.json", run_body);
    if (!s.ok()) return s;
  }
  return w;
}

SpoolWriter::~SpoolWriter() {
  if (fd_ >= 0) ::close(fd_);
}

fs::path SpoolWriter::SegmentPath(int n) const {
  char name[32];
  std::snprintf(name, sizeof name, "%06d.jsonl", n);
  return writer_dir_ / name;
}

Result<SpoolRef> SpoolWriter::Append(std::string_view record) {
  if (fd_ < 0 || size_ > kSegmentMaxBytes) {
    int next = segment_;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(writer_dir_, ec)) {
      next = std::max(next, SegmentNumber(e.path()));
    }
    ++next;
    int fd = ::open(SegmentPath(next).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot create " + SegmentPath(next).string());
    if (fd_ >= 0) {
      ::fsync(fd_);
      ::close(fd_);
    }
    fd_ = fd;
    segment_ = next;
    size_ = 0;
  }
  std::string line;
  line.reserve(record.size() + 1);
  line.append(record);
  line.push_back('\n');
  if (!WriteAll(fd_, line.data(), line.size())) return IoError("cannot append to the spool");
  SpoolRef ref{segment_, size_, record.size()};
  size_ += line.size();
  return ref;
}

Result<std::string> SpoolWriter::Read(const SpoolRef& ref) const {
  int fd = ::open(SegmentPath(ref.segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot read the spool");
  std::string out(ref.length, '\0');
  size_t got = 0;
  while (got < ref.length) {
    ssize_t n =
        ::pread(fd, out.data() + got, ref.length - got, static_cast<off_t>(ref.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != ref.length) return Status(Code::kInternal, "spool segment is shorter than expected");
  return out;
}

Status SpoolWriter::SetAcked(int64_t seq) {
  return WriteFileAtomic(writer_dir_ / "acked.json", AckedJson(seq));
}

Status SpoolWriter::WriteFinal(std::string_view state, std::optional<int64_t> exit_code,
                               bool applied) {
  return WriteFileAtomic(run_dir_ / "final.json",
                         FinalJson(state, exit_code ? &*exit_code : nullptr, applied));
}

void SpoolWriter::Sync() {
  if (fd_ >= 0) ::fsync(fd_);
}

void SpoolWriter::Remove() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::error_code ec;
  fs::remove_all(writer_dir_, ec);
  if (!fs::remove(run_dir_ / "writers", ec)) return;  // another writer is still there
  fs::remove(run_dir_ / "final.json", ec);
  fs::remove(run_dir_ / "run.json", ec);
  fs::remove(run_dir_, ec);
  // The spool root too when nothing else is in it: a clean run leaves no empty ./wanllmdb behind.
  fs::remove(run_dir_.parent_path(), ec);
}

std::vector<fs::path> FindRunDirs(const fs::path& path) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_regular_file(path / "run.json", ec)) return {path};
  for (const auto& e : fs::directory_iterator(path, ec)) {
    if (e.is_directory(ec) && fs::is_regular_file(e.path() / "run.json", ec))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t ReadAcked(const fs::path& writer_dir) {
  auto text = ReadWholeFile(writer_dir / "acked.json");
  if (!text.ok()) return -1;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  int64_t seq = -1;
  if (p.parse(*text).get(doc) || doc["seq"].get(seq)) return -1;
  return seq;
}

void ParseSegment(std::string_view text, int64_t acked, std::vector<SpooledLine>* out) {
  simdjson::dom::parser parser;
  while (true) {
    size_t lf = text.find('\n');
    if (lf == std::string_view::npos) break;  // a torn last line: skipped
    std::string_view record = text.substr(0, lf);
    text.remove_prefix(lf + 1);
    simdjson::dom::element doc;
    simdjson::dom::array logs;
    if (parser.parse(record.data(), record.size()).get(doc) || doc["logs"].get(logs)) continue;
    for (auto line : logs) {
      int64_t seq;
      if (!line.is_object() || line["seq"].get(seq) || seq <= acked) continue;
      out->push_back({seq, simdjson::minify(line)});
    }
  }
}

void SortBySeqUnique(std::vector<SpooledLine>* lines) {
  std::stable_sort(lines->begin(), lines->end(),
                   [](const SpooledLine& a, const SpooledLine& b) { return a.seq < b.seq; });
  lines->erase(
      std::unique(lines->begin(), lines->end(),
                  [](const SpooledLine& a, const SpooledLine& b) { return a.seq == b.seq; }),
      lines->end());
}

Result<std::vector<SpooledLine>> ReadWriterLines(const fs::path& writer_dir, int64_t acked) {
  std::vector<std::pair<int, fs::path>> segments;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(writer_dir, ec)) {
    if (int n = SegmentNumber(e.path())) segments.emplace_back(n, e.path());
  }
  std::sort(segments.begin(), segments.end());
  std::vector<SpooledLine> lines;
  for (const auto& [n, path] : segments) {
    auto text = ReadWholeFile(path);
    if (!text.ok()) return text.status();
    ParseSegment(*text, acked, &lines);
  }
  SortBySeqUnique(&lines);
  return lines;
}

}  // namespace wanllmdb
