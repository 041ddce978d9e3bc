#include "capture/batch_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cinttypes>
#include <cstdio>

namespace wanllmdb {
namespace {

// A RapidJSON output stream appending to a std::string (no intermediate buffer to copy).
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string* out) : out_(out) {}
  void Put(char c) { out_->push_back(c); }
  void Flush() {}

 private:
  std::string* out_;
};

using Writer = rapidjson::Writer<StringSink>;

void Key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void Str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

namespace {

// The per-line encoder: RapidJSON's StringBuffer takes its fast (reserve, then unchecked put)
// path for escaping, and the writer and buffer are reused, so a line costs no allocation.
struct LineEncoder {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
  int64_t timestamp_us = -1;  // the lines of one read share a timestamp: format it once
  char ts[40];
  size_t ts_len = 0;
};

}  // namespace

void AppendLineJson(int64_t seq, int64_t timestamp_us, Source source, std::string_view level,
                    std::string_view message, std::string* out, const LineExtrasJson* extras) {
  thread_local LineEncoder e;
  if (e.timestamp_us != timestamp_us) {
    // Seconds as an exact decimal (a double would round the microseconds of today's epoch).
    int64_t secs = timestamp_us / 1000000, micros = timestamp_us % 1000000;
    e.ts_len = static_cast<size_t>(
        std::snprintf(e.ts, sizeof e.ts, "%" PRId64 ".%06" PRId64, secs, micros));
    e.timestamp_us = timestamp_us;
  }
  e.buffer.Clear();
  e.writer.Reset(e.buffer);
  auto& w = e.writer;
  auto key = [&](std::string_view k) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  };
  auto str = [&](std::string_view v) {
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  key("seq");
  w.Int64(seq);
  key("timestamp");
  w.RawValue(e.ts, e.ts_len, rapidjson::kNumberType);
  key("source");
  str(SourceName(source));
  if (!level.empty()) {
    key("level");
    str(level);
  }
  if (extras && !extras->level_name.empty()) {
    key("level_name");
    str(extras->level_name);
  }
  if (extras && !extras->fields.empty()) {
    key("fields");
    w.RawValue(extras->fields.data(), extras->fields.size(), rapidjson::kObjectType);
  }
  key("message");
  str(message);
  w.EndObject();
  out->append(e.buffer.GetString(), e.buffer.GetSize());
}

std::string BatchPrefix(std::string_view writer) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  Key(w, "writer");
  Str(w, writer);
  Key(w, "logs");
  // Not closed: the caller appends fragments and kBatchSuffix.
  out += ":[";
  return out;
}

// "state" and "exit_code" (null when absent), shared by final.json and PATCH /runs/{id}.
static void StateFields(Writer& w, std::string_view state, const int64_t* exit_code) {
  Key(w, "state");
  Str(w, state);
  Key(w, "exit_code");
  if (exit_code) {
    w.Int64(*exit_code);
  } else {
    w.Null();
  }
}

std::string FinalJson(std::string_view state, const int64_t* exit_code, bool applied) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  StateFields(w, state, exit_code);
  Key(w, "applied");
  w.Bool(applied);
  w.EndObject();
  return out;
}

std::string RunBodyJson(std::string_view project, std::string_view id, std::string_view name,
                        const std::vector<std::string>& tags) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  Key(w, "project");
  Str(w, project);
  Key(w, "id");
  Str(w, id);
  if (!name.empty()) {
    Key(w, "name");
    Str(w, name);
  }
  if (!tags.empty()) {
    Key(w, "tags");
    w.StartArray();
    for (const auto& t : tags) Str(w, t);
    w.EndArray();
  }
  w.EndObject();
  return out;
}

std::string ProgressJson(std::string_view writer, Source source, int64_t timestamp_us,
                         std::string_view message) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  Key(w, "writer");
  Str(w, writer);
  Key(w, "source");
  Str(w, SourceName(source));
  Key(w, "timestamp");
  w.Double(static_cast<double>(timestamp_us) / 1e6);
  Key(w, "message");
  Str(w, message);
  w.EndObject();
  return out;
}

std::string RunStateJson(std::string_view state, const int64_t* exit_code) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  StateFields(w, state, exit_code);
  Key(w, "merge");
  w.Bool(true);
  w.EndObject();
  return out;
}

std::string RankStateJson(std::string_view state, const int64_t* exit_code, std::string_view writer,
                          int64_t world_size) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  StateFields(w, state, exit_code);
  Key(w, "writer");
  w.String(writer.data(), static_cast<rapidjson::SizeType>(writer.size()));
  Key(w, "world_size");
  w.Int64(world_size);
  w.EndObject();
  return out;
}

std::string AckedJson(int64_t seq) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  Key(w, "seq");
  w.Int64(seq);
  w.EndObject();
  return out;
}

}  // namespace wanllmdb
