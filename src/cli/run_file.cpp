#include "cli/run_file.h"

#include <simdjson.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/time_util.h"
#include "core/uuid.h"
#include "server/json_out.h"

namespace wanllmdb {
namespace {

constexpr std::string_view kFormat = "wanllmdb-run";
// A line of the file: a message of at most 64 KiB, escaped (\uXXXX at worst), and its fields.
constexpr size_t kMaxFileLine = 8 * kMaxLineBytes;

Status Bad(const std::string& where, const std::string& what) {
  return Status(Code::kInvalidValue, where + ": " + what);
}

}  // namespace

// ---- writing ----

RunFileWriter::~RunFileWriter() {
  if (gz_) {
    gzclose(static_cast<gzFile>(gz_));
    std::error_code ec;
    std::filesystem::remove(partial_, ec);  // never finished: leave nothing behind
  }
}

Status RunFileWriter::Open(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    return Status(Code::kConflict, path + " exists; choose a new name");
  path_ = path;
  partial_ = path + ".partial";
  gzFile gz = gzopen(partial_.c_str(), "wb6");
  if (!gz) return Status(Code::kInternal, "cannot write " + partial_ + ": " + std::strerror(errno));
  gz_ = gz;
  return Status::Ok();
}

Status RunFileWriter::Put(const std::string& text) {
  auto* gz = static_cast<gzFile>(gz_);
  if (gzwrite(gz, text.data(), static_cast<unsigned>(text.size())) !=
          static_cast<int>(text.size()) ||
      gzputc(gz, '\n') != '\n') {
    int err = 0;
    return Status(Code::kInternal, "cannot write " + partial_ + ": " + gzerror(gz, &err));
  }
  return Status::Ok();
}

Status RunFileWriter::WriteHeader(std::string_view run_json, std::string_view source) {
  JsonOut j;
  j.BeginObject().Key("format").String(kFormat).Key("version").Int(kRunFileVersion);
  j.Key("exported_at").Timestamp(NowMicros()).Key("source").String(source);
  j.Key("run").Raw(run_json).EndObject();
  return Put(j.Take());
}

Status RunFileWriter::WriteLine(int64_t line_number, std::string_view timestamp,
                                std::string_view level, std::string_view source,
                                std::string_view writer, std::string_view message) {
  JsonOut j;
  j.BeginObject().Key("line_number").Int(line_number).Key("timestamp").String(timestamp);
  j.Key("level").String(level).Key("source").String(source).Key("writer").String(writer);
  j.Key("message").String(message).EndObject();
  ++lines_;
  return Put(j.Take());
}

Status RunFileWriter::Finish() {
  JsonOut j;
  j.BeginObject().Key("end").Bool(true).Key("lines").Int(lines_).EndObject();
  if (Status s = Put(j.Take()); !s.ok()) return s;
  int rc = gzclose(static_cast<gzFile>(gz_));
  gz_ = nullptr;
  std::error_code ec;
  if (rc != Z_OK) {
    std::filesystem::remove(partial_, ec);
    return Status(Code::kInternal, "cannot write " + partial_);
  }
  std::filesystem::rename(partial_, path_, ec);
  if (ec) return Status(Code::kInternal, "cannot rename " + partial_ + ": " + ec.message());
  return Status::Ok();
}

// ---- reading ----

struct RunFileReader::Impl {
  std::string path;
  gzFile gz = nullptr;
  simdjson::dom::parser parser;
  std::string text;
  int64_t file_line = 0;  // for messages: which line of the file
  int64_t lines = 0;      // log lines read
  int64_t last_number = 0;
  bool header_read = false, ended = false;

  std::string Where() const { return path + ":" + std::to_string(file_line); }
};

RunFileReader::RunFileReader() : impl_(std::make_unique<Impl>()) {}

RunFileReader::~RunFileReader() {
  if (impl_->gz) gzclose(impl_->gz);
}

Status RunFileReader::Open(const std::string& path) {
  impl_->path = path;
  impl_->gz = gzopen(path.c_str(), "rb");  // also reads an uncompressed file
  if (!impl_->gz)
    return Status(Code::kNotFound, "cannot open " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<bool> RunFileReader::ReadLine(std::string* out) {
  out->clear();
  char buf[65536];
  while (true) {
    if (!gzgets(impl_->gz, buf, sizeof buf)) {
      int err = 0;
      const char* msg = gzerror(impl_->gz, &err);
      if (err != Z_OK && err != Z_STREAM_END)
        return Bad(impl_->path, std::string("cannot be read (") + msg + ")");
      if (out->empty()) return false;
      break;  // the last line without a newline
    }
    out->append(buf);
    if (!out->empty() && out->back() == '\n') {
      out->pop_back();
      break;
    }
    if (out->size() > kMaxFileLine) return Bad(impl_->Where(), "line too long");
  }
  ++impl_->file_line;
  return true;
}

Result<RunImport> RunFileReader::Header() {
  Impl& m = *impl_;
  auto got = ReadLine(&m.text);
  if (!got.ok()) return got.status();
  if (!*got) return Bad(m.path, "empty file: not a run file of `wanllmdb admin export-run`");
  m.header_read = true;
  simdjson::dom::element root;
  if (m.parser.parse(m.text).get(root) || !root.is_object())
    return Bad(m.Where(), "not a run file of `wanllmdb admin export-run` (no JSON header)");
  std::string_view format;
  int64_t version = 0;
  if (root["format"].get(format) || format != kFormat)
    return Bad(m.Where(), "not a run file of `wanllmdb admin export-run`");
  if (root["version"].get(version) || version != kRunFileVersion)
    return Bad(m.Where(), "run file version " + std::to_string(version) +
                              " is not one this binary reads (" + std::to_string(kRunFileVersion) +
                              "); upgrade wanllmdb");
  simdjson::dom::object run;
  if (root["run"].get(run)) return Bad(m.Where(), "\"run\" must be an object");
  RunImport im;
  RunInfo& r = im.run;
  std::string_view s;
  if (run["id"].get(s) || !IsUuid(s)) return Bad(m.Where(), "run \"id\" must be a UUID");
  r.id = CanonicalUuid(s);
  if (run["project"].get(s) || s.empty() || s.size() > 256)
    return Bad(m.Where(), "run \"project\" must be a name");
  r.project = std::string(s);
  if (run["name"].get(s) || s.size() > 1024) return Bad(m.Where(), "run \"name\" must be a string");
  r.name = std::string(s);
  auto state = run["state"].get(s) ? std::nullopt : ParseRunState(s);
  if (!state) return Bad(m.Where(), "run \"state\" must be running, finished, failed or crashed");
  r.state = *state;
  simdjson::dom::element e;
  if (!run["exit_code"].get(e) && !e.is_null()) {
    int64_t code = 0;
    if (e.get(code)) return Bad(m.Where(), "run \"exit_code\" must be an integer or null");
    r.exit_code = code;
  }
  auto ts = run["created_at"].get(s) ? std::nullopt : ParseIsoMicros(s);
  if (!ts) return Bad(m.Where(), "run \"created_at\" must be a timestamp");
  r.created_at_us = *ts;
  if (!run["finished_at"].get(e) && !e.is_null()) {
    auto f = e.get(s) ? std::nullopt : ParseIsoMicros(s);
    if (!f) return Bad(m.Where(), "run \"finished_at\" must be a timestamp or null");
    r.finished_at_us = *f;
  }
  if (run["config"].get(e) || !e.is_object())
    return Bad(m.Where(), "run \"config\" must be an object");
  r.config_json = simdjson::minify(e);
  if (run["tags"].get(e) || !e.is_array()) return Bad(m.Where(), "run \"tags\" must be an array");
  r.tags_json = simdjson::minify(e);
  int64_t last_line = 0;
  if (run["last_line"].get(last_line) || last_line < 0)
    return Bad(m.Where(), "run \"last_line\" must be a line number");
  im.next_line = last_line + 1;
  // Lines retention removed on the old server (absent in files of older versions: none).
  if (!run["removed"].get(e) && !e.is_null()) {
    simdjson::dom::object g;
    int64_t from = 0, to = 0;
    if (e.get(g) || g["from_line"].get(from) || g["to_line"].get(to) || from < 1 || to < from ||
        to > last_line)
      return Bad(m.Where(),
                 "run \"removed\" must be null or {\"from_line\", \"to_line\", \"at\"} with "
                 "1 <= from_line <= to_line <= last_line");
    r.removed.from_line = from;
    r.removed.to_line = to;
    if (!g["at"].get(e) && !e.is_null()) {
      auto at = e.get(s) ? std::nullopt : ParseIsoMicros(s);
      if (!at) return Bad(m.Where(), "run \"removed\".\"at\" must be a timestamp or null");
      r.removed.at_us = *at;
    }
  }
  return im;
}

Result<std::optional<LogLine>> RunFileReader::Next() {
  Impl& m = *impl_;
  if (m.ended) return std::optional<LogLine>();
  auto got = ReadLine(&m.text);
  if (!got.ok()) return got.status();
  if (!*got) return Bad(m.path, "ends without its trailer: the file is truncated");
  simdjson::dom::object o;
  if (m.parser.parse(m.text).get(o)) return Bad(m.Where(), "not a JSON object");
  bool end = false;
  if (!o["end"].get(end) && end) {
    int64_t n = -1;
    if (o["lines"].get(n) || n != m.lines)
      return Bad(m.Where(), "the trailer counts " + std::to_string(n) + " lines, the file holds " +
                                std::to_string(m.lines));
    std::string rest;
    auto more = ReadLine(&rest);
    if (!more.ok()) return more.status();
    if (*more) return Bad(m.Where(), "something follows the trailer");
    m.ended = true;
    return std::optional<LogLine>();
  }
  LogLine l;
  std::string_view s;
  if (o["line_number"].get(l.line_number) || l.line_number <= m.last_number)
    return Bad(m.Where(), "\"line_number\" must be an integer above the previous line's");
  m.last_number = l.line_number;
  auto ts = o["timestamp"].get(s) ? std::nullopt : ParseIsoMicros(s);
  if (!ts) return Bad(m.Where(), "\"timestamp\" must be a timestamp");
  l.timestamp_us = *ts;
  auto level = o["level"].get(s) ? std::nullopt : ParseLevel(s);
  if (!level) return Bad(m.Where(), "\"level\" must be DEBUG, INFO, WARNING, ERROR or CRITICAL");
  l.level = *level;
  auto source = o["source"].get(s) ? std::nullopt : ParseSource(s);
  if (!source) return Bad(m.Where(), "\"source\" must be stdout, stderr, sdk, user or system");
  l.source = *source;
  if (o["writer"].get(s) || s.empty() || s.size() > 128)
    return Bad(m.Where(), "\"writer\" must be 1 to 128 characters");
  l.writer = std::string(s);
  if (o["message"].get(s) || s.size() > kMaxLineBytes || s.find('\n') != std::string_view::npos)
    return Bad(m.Where(), "\"message\" must be a string of one line, at most 64 KiB");
  l.message = std::string(s);  // simdjson checked it is UTF-8
  ++m.lines;
  return std::optional<LogLine>(std::move(l));
}

}  // namespace wanllmdb
