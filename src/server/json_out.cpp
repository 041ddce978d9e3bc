#include "server/json_out.h"

#include <cmath>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/time_util.h"

namespace wanllmdb {

struct JsonOut::Impl {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
};

JsonOut::JsonOut() : impl_(new Impl) {}
JsonOut::~JsonOut() {
  delete impl_;
}

JsonOut& JsonOut::BeginObject() {
  impl_->w.StartObject();
  return *this;
}
JsonOut& JsonOut::EndObject() {
  impl_->w.EndObject();
  return *this;
}
JsonOut& JsonOut::BeginArray() {
  impl_->w.StartArray();
  return *this;
}
JsonOut& JsonOut::EndArray() {
  impl_->w.EndArray();
  return *this;
}
JsonOut& JsonOut::Key(std::string_view k) {
  impl_->w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  return *this;
}
JsonOut& JsonOut::String(std::string_view s) {
  impl_->w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return *this;
}
JsonOut& JsonOut::Int(int64_t v) {
  impl_->w.Int64(v);
  return *this;
}
JsonOut& JsonOut::Double(double v) {
  if (std::isfinite(v)) {
    impl_->w.Double(v);
  } else {
    impl_->w.Null();
  }
  return *this;
}
JsonOut& JsonOut::Bool(bool v) {
  impl_->w.Bool(v);
  return *this;
}
JsonOut& JsonOut::Null() {
  impl_->w.Null();
  return *this;
}
JsonOut& JsonOut::Timestamp(int64_t micros) {
  char buf[27];
  FormatIsoMicros(micros, buf);
  impl_->w.String(buf, 27);
  return *this;
}
JsonOut& JsonOut::OptTimestamp(const std::optional<int64_t>& micros) {
  return micros ? Timestamp(*micros) : Null();
}
JsonOut& JsonOut::OptInt(const std::optional<int64_t>& v) {
  return v ? Int(*v) : Null();
}
JsonOut& JsonOut::Raw(std::string_view json) {
  impl_->w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}

JsonOut& JsonOut::Line(std::string_view run_id, const LineView& l) {
  return LineFields(run_id, l).EndObject();
}

JsonOut& JsonOut::ContextLine(std::string_view run_id, const LogLine& l) {
  LineFields(run_id, LineView::Of(l));
  return Key("context").Bool(true).EndObject();
}

JsonOut& JsonOut::LineFields(std::string_view run_id, const LineView& l) {
  BeginObject();
  Key("run_id").String(run_id);
  Key("line_number").Int(l.line_number);
  Key("timestamp").Timestamp(l.timestamp_us);
  Key("level").String(LevelName(l.level));
  Key("source").String(SourceName(l.source));
  Key("writer").String(l.writer);
  Key("message").String(l.message);
  if (!l.level_name.empty()) Key("level_name").String(l.level_name);
  if (!l.fields.empty()) Key("fields").Raw(l.fields);
  return *this;
}

JsonOut& JsonOut::Line(std::string_view run_id, const LogLine& l) {
  return Line(run_id, LineView::Of(l));
}

JsonOut& JsonOut::Problem(const ProblemEvent& e, bool short_form) {
  BeginObject();
  Key("kind").String(e.kind);
  Key("rule").String(e.rule);
  Key("level").String(LevelName(e.level));
  Key("title").String(e.title);
  Key("signature").String(e.signature);
  Key("first_line").Int(e.first_line);
  Key("last_line").Int(e.last_line);
  Key("first_timestamp").Timestamp(e.first_ts_us);
  Key("detected_at").Timestamp(e.detected_at_us);
  Key("occurrences").Int(e.occurrences);
  Key("writer_count").Int(static_cast<int64_t>(e.writers.size()));
  if (!short_form) {
    Key("detail").String(e.detail);
    Key("writers").BeginArray();
    for (const auto& w : e.writers) {
      BeginObject();
      Key("writer").String(w.writer);
      Key("first_line").Int(w.first_line);
      Key("last_line").Int(w.last_line);
      Key("last_seen_line").Int(w.last_seen_line);
      Key("occurrences").Int(w.occurrences);
      EndObject();
    }
    EndArray();
  }
  return EndObject();
}

JsonOut& JsonOut::RunWithTopProblem(const RunInfo& r, const ProblemEvent* top) {
  RunFields(r, /*with_config=*/false);
  Key("top_problem");
  if (top) {
    Problem(*top, /*short_form=*/true);
  } else {
    Null();
  }
  return EndObject();
}

JsonOut& JsonOut::Run(const RunInfo& r, bool with_config) {
  RunFields(r, with_config);
  return EndObject();
}

JsonOut& JsonOut::RunFields(const RunInfo& r, bool with_config) {
  BeginObject();
  Key("id").String(r.id);
  Key("project").String(r.project);
  Key("name").String(r.name);
  Key("state").String(RunStateName(r.state));
  Key("exit_code").OptInt(r.exit_code);
  Key("created_at").Timestamp(r.created_at_us);
  Key("finished_at").OptTimestamp(r.finished_at_us);
  if (with_config) Key("config").Raw(r.config_json);
  Key("tags").Raw(r.tags_json);
  Key("line_count").Int(r.line_count);
  Key("error_count").Int(r.error_count);
  Key("last_line").Int(r.last_line);
  Key("removed");
  Removed(r.removed);
  return *this;
}

JsonOut& JsonOut::Removed(const RetentionGap& g) {
  if (g.to_line == 0) return Null();
  BeginObject();
  Key("from_line").Int(g.from_line);
  Key("to_line").Int(g.to_line);
  Key("by").String("retention");
  Key("at").OptTimestamp(g.at_us);
  return EndObject();
}

JsonOut& JsonOut::Project(const ProjectInfo& p) {
  BeginObject();
  Key("name").String(p.name);
  Key("created_at").Timestamp(p.created_at_us);
  Key("run_count").Int(p.run_count);
  Key("last_run_at").OptTimestamp(p.last_run_at_us);
  return EndObject();
}

std::string JsonOut::Take() {
  std::string s(impl_->buf.GetString(), impl_->buf.GetSize());
  Clear();
  return s;
}
const char* JsonOut::data() const {
  return impl_->buf.GetString();
}
size_t JsonOut::size() const {
  return impl_->buf.GetSize();
}
void JsonOut::Clear() {
  impl_->buf.Clear();
  impl_->w.Reset(impl_->buf);
}

}  // namespace wanllmdb
