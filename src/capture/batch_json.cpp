#include "capture/batch_json.h"

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

void AppendLineJson(int64_t seq, int64_t timestamp_us, Source source, std::string_view level,
                    std::string_view message, std::string* out) {
  StringSink sink(out);
  Writer w(sink);
  w.StartObject();
  Key(w, "seq");
  w.Int64(seq);
  Key(w, "timestamp");
  // Seconds as an exact decimal (a double would round the microseconds of today's epoch).
  char ts[40];
  int64_t secs = timestamp_us / 1000000, micros = timestamp_us % 1000000;
  int n = std::snprintf(ts, sizeof ts, "%" PRId64 ".%06" PRId64, secs, micros);
  w.RawValue(ts, static_cast<size_t>(n), rapidjson::kNumberType);
  Key(w, "source");
  Str(w, SourceName(source));
  if (!level.empty()) {
    Key(w, "level");
    Str(w, level);
  }
  Key(w, "message");
  Str(w, message);
  w.EndObject();
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

std::string FinalJson(std::string_view state, const int64_t* exit_code, bool applied) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  Key(w, "state");
  Str(w, state);
  Key(w, "exit_code");
  if (exit_code) {
    w.Int64(*exit_code);
  } else {
    w.Null();
  }
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

std::string RunStateJson(std::string_view state, const int64_t* exit_code) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.StartObject();
  Key(w, "state");
  Str(w, state);
  Key(w, "exit_code");
  if (exit_code) {
    w.Int64(*exit_code);
  } else {
    w.Null();
  }
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
