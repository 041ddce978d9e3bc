// The log endpoints: ingest, list, latest, summary, histogram, locate, download, clear.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/ansi.h"
#include "core/time_util.h"
#include "server/api.h"
#include "server/gzip_stream.h"
#include "server/http_util.h"
#include "server/json_out.h"
#include "server/metrics.h"
#include "store/context_query.h"

namespace wanllmdb {
namespace {

constexpr int64_t kMaxLimit = 10000;

// Reads the filters of a request and compiles them; a bad regex or level is a 422.
Result<std::shared_ptr<const LineMatcher>> MatcherFor(const ApiRequest& req) {
  auto filter = FilterFromQuery(req.query);
  if (!filter.ok()) return filter.status();
  return LineMatcher::Compile(*filter);
}

// `context=N` (0..100): with a text filter, the view is the matches and N lines around each.
// Returns the matcher without the text filter (for the context lines), or null when off.
Result<std::shared_ptr<const LineMatcher>> ContextMatcherFor(const ApiRequest& req, int* n) {
  auto ctx = IntParam(req.query, "context", 0, 0, kMaxContext);
  if (!ctx.ok()) return ctx.status();
  *n = static_cast<int>(*ctx);
  auto filter = FilterFromQuery(req.query);
  if (!filter.ok()) return filter.status();
  if (*n == 0 || filter->text_free()) return std::shared_ptr<const LineMatcher>();
  filter->search.clear();
  filter->regex.clear();
  return LineMatcher::Compile(*filter);
}

ApiResponse LinesResponse(const std::string& run_id, const std::vector<LogLine>& lines,
                          std::optional<bool> has_more,
                          const std::vector<uint8_t>* context = nullptr) {
  JsonOut j;
  j.BeginObject().Key("logs").BeginArray();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (context && i < context->size() && (*context)[i]) {
      j.ContextLine(run_id, lines[i]);
    } else {
      j.Line(run_id, lines[i]);
    }
  }
  j.EndArray();
  if (has_more) j.Key("has_more").Bool(*has_more);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

// RFC 4180: quote when the field has a comma, quote or line break; double inner quotes.
// A field a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1", "-1+2", "@SUM", or one
// starting with a tab or CR) gets a leading apostrophe (OWASP's CSV-injection advice): the
// cell then shows the text as printed, and a log line can never execute in someone's Excel.
void AppendCsvField(std::string* out, std::string_view s) {
  const bool formula =
      !s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos;
  if (!formula && s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  if (formula) out->push_back('\'');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

// Below --min-free-disk: 507 with Retry-After, before anything is parsed or stored.
constexpr int kDiskRetryAfterS = 30;

ApiResponse Api::PostLog(const std::string& id, ApiRequest& req) {
  if (Status d = CheckDiskForIngest(); !d.ok()) return RetryLaterResponse(d, kDiskRetryAfterS);
  const int64_t body_bytes = static_cast<int64_t>(req.body.size());
  auto batch = ingest_.ParseSingle(id, req.body);
  if (!batch.ok()) return ErrorResponse(batch.status());
  int retry_after_s = 1;
  if (Status q = CheckQuotas(id, *batch, &retry_after_s); !q.ok())
    return RetryLaterResponse(q, retry_after_s);
  LogLine first = batch->lines.front();
  first.writer = batch->writer;
  batch->problem_rules = ProblemRulesFor(id);
  auto r = store_.Append(std::move(*batch));
  if (!r.ok()) return ErrorResponse(r.status());
  if (options_.metrics) options_.metrics->RecordIngest(r->accepted, r->duplicates, body_bytes);
  Heard(id);
  AfterAppend(id, *r);
  first.line_number = r->first_line;
  JsonOut j;
  j.Line(id, first);
  return JsonResponse(201, j.Take());
}

ApiResponse Api::PostBatch(const std::string& id, ApiRequest& req) {
  if (Status d = CheckDiskForIngest(); !d.ok()) return RetryLaterResponse(d, kDiskRetryAfterS);
  const int64_t body_bytes = static_cast<int64_t>(req.body.size());
  auto batch = ingest_.ParseBatch(id, req.body);
  if (!batch.ok()) return ErrorResponse(batch.status());
  int retry_after_s = 1;
  if (Status q = CheckQuotas(id, *batch, &retry_after_s); !q.ok())
    return RetryLaterResponse(q, retry_after_s);
  batch->problem_rules = ProblemRulesFor(id);
  auto r = store_.Append(std::move(*batch));
  if (!r.ok()) return ErrorResponse(r.status());
  if (options_.metrics) options_.metrics->RecordIngest(r->accepted, r->duplicates, body_bytes);
  Heard(id);  // also an empty batch: a writer's heartbeat
  AfterAppend(id, *r);
  JsonOut j;
  j.BeginObject();
  j.Key("accepted").Int(r->accepted);
  j.Key("duplicates").Int(r->duplicates);
  j.Key("first_line").OptInt(r->accepted ? std::optional<int64_t>(r->first_line) : std::nullopt);
  j.Key("last_line").OptInt(r->accepted ? std::optional<int64_t>(r->last_line) : std::nullopt);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::PostProgress(const std::string& id, ApiRequest& req) {
  // Same body and rules as one line of POST .../logs (source defaults to stdout here).
  auto batch = ingest_.ParseSingle(id, req.body, Source::kStdout);
  if (!batch.ok()) return ErrorResponse(batch.status());
  auto run = store_.GetRun(id);
  if (!run.ok()) return ErrorResponse(run.status());
  Heard(id);
  // A live display may hold several rows (nested bars, rich.progress): one state, rows joined.
  auto partial = std::make_shared<LogLine>(std::move(batch->lines.front()));
  for (size_t i = 1; i < batch->lines.size(); ++i) {
    partial->message.push_back('\n');
    partial->message += batch->lines[i].message;
  }
  partial->writer = batch->writer;
  constexpr int64_t kMinIntervalUs = 250000;
  bool pass = false;
  {
    std::lock_guard lock(progress_mu_);
    if (progress_last_us_.size() > 100000) progress_last_us_.clear();
    int64_t& last = progress_last_us_[id + '\0' + partial->writer + '\0' +
                                      std::string(SourceName(partial->source))];
    int64_t now = NowMicros();
    if (now - last >= kMinIntervalUs) {
      last = now;
      pass = true;
    }
  }
  size_t viewers = 0;
  if (pass) {
    BusMessage m;
    m.kind = BusMessage::Kind::kProgress;
    m.run_id = id;
    m.partial = partial;
    bus_.Publish(m);
    viewers = hub_.ViewersOf(id);  // this node's; other nodes' viewers get it by the bus
  }
  JsonOut j;
  j.BeginObject().Key("throttled").Bool(!pass).Key("viewers").Int(static_cast<int64_t>(viewers));
  j.EndObject();
  return JsonResponse(202, j.Take());
}

ApiResponse Api::ListLogs(const std::string& id, const ApiRequest& req) {
  auto m = MatcherFor(req);
  if (!m.ok()) return ErrorResponse(m.status());
  auto time_order = TimeOrderParam(req);
  if (!time_order.ok()) return ErrorResponse(time_order.status());
  if (*time_order) return ListByTime(id, req, **m);
  if (req.query.count("offset")) {
    return ErrorResponse(Status(Code::kInvalidValue, "offset: only with sort=time"));
  }
  ListRequest lr;
  auto limit = IntParam(req.query, "limit", 500, 1, kMaxLimit);
  if (!limit.ok()) return ErrorResponse(limit.status());
  lr.limit = static_cast<int>(*limit);
  auto after = LineParam(req.query, "after_line");
  if (!after.ok()) return ErrorResponse(after.status());
  auto before = LineParam(req.query, "before_line");
  if (!before.ok()) return ErrorResponse(before.status());
  lr.after_line = *after;
  lr.before_line = *before;
  if (auto it = req.query.find("order"); it != req.query.end() && !it->second.empty()) {
    if (it->second != "asc" && it->second != "desc") {
      return ErrorResponse(
          Status(Code::kInvalidValue, "order: want asc or desc, got '" + it->second + "'"));
    }
    lr.descending = it->second == "desc";
  }
  int context = 0;
  auto meta = ContextMatcherFor(req, &context);
  if (!meta.ok()) return ErrorResponse(meta.status());
  auto run = store_.GetRun(id);  // 404 for an unknown run rather than an empty list
  if (!run.ok()) return ErrorResponse(run.status());
  auto res =
      *meta ? ContextQuery(engine_, **m, **meta, context).List(id, lr) : engine_.List(id, **m, lr);
  if (!res.ok()) return ErrorResponse(res.status());
  return LinesResponse(id, res->lines, res->has_more, &res->context);
}

ApiResponse Api::Latest(const std::string& id, const ApiRequest& req) {
  auto m = MatcherFor(req);
  if (!m.ok()) return ErrorResponse(m.status());
  auto limit = IntParam(req.query, "limit", 500, 1, kMaxLimit);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto run = store_.GetRun(id);
  if (!run.ok()) return ErrorResponse(run.status());
  auto lines = engine_.Latest(id, **m, static_cast<int>(*limit));
  if (!lines.ok()) return ErrorResponse(lines.status());
  return LinesResponse(id, *lines, std::nullopt);
}

ApiResponse Api::Summary(const std::string& id) {
  auto s = store_.Summary(id);
  if (!s.ok()) return ErrorResponse(s.status());
  JsonOut j;
  j.BeginObject();
  j.Key("total").Int(s->total);
  j.Key("bytes").Int(s->bytes);
  j.Key("by_level").BeginObject();
  for (int i = 0; i < kLevelCount; ++i) j.Key(LevelName(static_cast<Level>(i))).Int(s->by_level[i]);
  j.EndObject();
  j.Key("by_source").BeginObject();
  for (int i = 0; i < kSourceCount; ++i)
    j.Key(SourceName(static_cast<Source>(i))).Int(s->by_source[i]);
  j.EndObject();
  j.Key("by_writer").BeginObject();
  for (const auto& [w, n] : s->by_writer) j.Key(w).Int(n);
  j.EndObject();
  j.Key("first_timestamp").OptTimestamp(s->first_timestamp_us);
  j.Key("last_timestamp").OptTimestamp(s->last_timestamp_us);
  j.Key("first_line").Int(s->first_line);
  j.Key("last_line").Int(s->last_line);
  j.Key("removed");
  j.Removed(s->removed);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::HistogramOf(const std::string& id, const ApiRequest& req) {
  auto m = MatcherFor(req);
  if (!m.ok()) return ErrorResponse(m.status());
  auto buckets = IntParam(req.query, "buckets", 100, 1, 1000);
  if (!buckets.ok()) return ErrorResponse(buckets.status());
  auto h = engine_.MakeHistogram(id, **m, static_cast<int>(*buckets));
  if (!h.ok()) return ErrorResponse(h.status());
  JsonOut j;
  j.BeginObject().Key("buckets").BeginArray();
  for (const auto& b : h->buckets) {
    j.BeginObject();
    j.Key("start").Timestamp(b.start_us);
    j.Key("end").Timestamp(b.end_us);
    j.Key("first_line").OptInt(b.first_line);
    j.Key("counts").BeginObject();
    for (int i = 0; i < kLevelCount; ++i) j.Key(LevelName(static_cast<Level>(i))).Int(b.counts[i]);
    j.EndObject();
    j.EndObject();
  }
  j.EndArray();
  j.Key("since").OptTimestamp(h->since_us);
  j.Key("until").OptTimestamp(h->until_us);
  j.Key("exact").Bool(h->exact);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::Locate(const std::string& id, const ApiRequest& req) {
  auto m = MatcherFor(req);
  if (!m.ok()) return ErrorResponse(m.status());
  auto line = LineParam(req.query, "line");
  if (!line.ok()) return ErrorResponse(line.status());
  if (!*line) return ErrorResponse(Status(Code::kBadRequest, "line: is required"));
  auto time_order = TimeOrderParam(req);
  if (!time_order.ok()) return ErrorResponse(time_order.status());
  if (*time_order) return LocateByTime(id, req, **m, **line);
  auto run = store_.GetRun(id);
  if (!run.ok()) return ErrorResponse(run.status());
  int context = 0;
  auto meta = ContextMatcherFor(req, &context);
  if (!meta.ok()) return ErrorResponse(meta.status());
  int64_t index = 0, total = 0;
  const LogFilter& f = (*m)->filter();
  Status s;
  if (*meta) {
    s = ContextQuery(engine_, **m, **meta, context).Locate(id, **line, &index, &total);
  } else if (!f.matches_everything()) {
    s = locator_.Locate(id, LinesGeneration(*run), **m, **line, &index, &total);
  } else {
    s = engine_.Locate(id, **m, **line, &index, &total);
  }
  if (!s.ok()) return ErrorResponse(s);
  JsonOut j;
  j.BeginObject().Key("index").Int(index).Key("total").Int(total).EndObject();
  return JsonResponse(200, j.Take());
}

namespace {

// A file-name piece: ASCII letters, digits, '.', '_' and '-' kept, runs of anything else one '-',
// at most `max` bytes.
std::string FilePart(std::string_view s, size_t max = 40) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max) break;
    bool keep = std::isalnum(c) || c == '.' || c == '_' || c == '-';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out;
}

// "<project>_<run name or short id>[_<filters>][_elapsed].<format>[.gz]": a download says what
// it holds, so ten of them in ~/Downloads are told apart.
std::string DownloadFilename(const RunInfo& run, const ApiRequest& req, const std::string& format,
                             bool elapsed, bool gz) {
  std::string name = FilePart(run.project);
  std::string label = FilePart(run.name);
  if (label.empty()) label = run.id.substr(0, 8);
  name += (name.empty() ? "" : "_") + label;
  for (const char* key : {"level", "source", "writer", "search", "regex", "since", "until"}) {
    auto it = req.query.find(key);
    if (it == req.query.end() || it->second.empty()) continue;
    std::string v = FilePart(it->second, 30);
    name += std::string("_") + key + (v.empty() ? "" : "-" + v);
  }
  if (elapsed) name += "_elapsed";
  if (name.size() > 180) name.resize(180);
  return name + "." + format + (gz ? ".gz" : "");
}

// "+H:MM:SS.ffffff" since the run's first line (negative before it).
std::string FormatElapsed(int64_t us) {
  std::string sign = us < 0 ? "-" : "+";
  uint64_t a = us < 0 ? static_cast<uint64_t>(-(us + 1)) + 1 : static_cast<uint64_t>(us);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu:%02llu:%02llu.%06llu", sign.c_str(),
                static_cast<unsigned long long>(a / 3600000000ULL),
                static_cast<unsigned long long>(a / 60000000ULL % 60),
                static_cast<unsigned long long>(a / 1000000ULL % 60),
                static_cast<unsigned long long>(a % 1000000ULL));
  return buf;
}

Result<bool> FlagParam(const ApiRequest& req, const char* key) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty() || it->second == "0" || it->second == "false")
    return false;
  if (it->second == "1" || it->second == "true") return true;
  return Status(Code::kInvalidValue, std::string(key) + ": want 1 or 0, got '" + it->second + "'");
}

}  // namespace

ApiResponse Api::Download(const std::string& id, const ApiRequest& req) {
  std::string format = "txt";
  if (auto it = req.query.find("format"); it != req.query.end() && !it->second.empty())
    format = it->second;
  if (format != "txt" && format != "json" && format != "csv") {
    return ErrorResponse(
        Status(Code::kInvalidValue, "format: want txt, json or csv, got '" + format + "'"));
  }
  auto raw = FlagParam(req, "raw");
  if (!raw.ok()) return ErrorResponse(raw.status());
  auto gzip_param = FlagParam(req, "gzip");
  if (!gzip_param.ok()) return ErrorResponse(gzip_param.status());
  bool elapsed = false;
  if (auto it = req.query.find("time"); it != req.query.end() && !it->second.empty()) {
    if (it->second != "utc" && it->second != "elapsed") {
      return ErrorResponse(
          Status(Code::kInvalidValue, "time: want utc or elapsed, got '" + it->second + "'"));
    }
    elapsed = it->second == "elapsed";
  }
  auto m = MatcherFor(req);
  if (!m.ok()) return ErrorResponse(m.status());
  auto run = store_.GetRun(id);
  if (!run.ok()) return ErrorResponse(run.status());
  int64_t origin_us = 0;
  if (elapsed) {
    auto sum = store_.Summary(id);
    if (!sum.ok()) return ErrorResponse(sum.status());
    origin_us = sum->first_timestamp_us.value_or(0);
  }
  // gzip=1 asks for a .gz file (Content-Type application/gzip); Accept-Encoding: gzip gets the
  // same file compressed on the wire (Content-Encoding), which clients undo transparently.
  const bool gz_file = *gzip_param;
  const bool gz_wire = !gz_file && AcceptsGzip(req.accept_encoding);
  // JSON is data and keeps messages as stored; TXT and CSV show what a terminal shows unless
  // raw=1 keeps the escape codes.
  const bool strip = format != "json" && !*raw;

  ApiResponse r;
  r.content_type = gz_file            ? "application/gzip"
                   : format == "json" ? "application/json"
                   : format == "csv"  ? "text/csv; charset=utf-8"
                                      : "text/plain; charset=utf-8";
  r.headers.emplace_back(
      "Content-Disposition",
      "attachment; filename=\"" + DownloadFilename(*run, req, format, elapsed, gz_file) + "\"");
  if (gz_wire) r.headers.emplace_back("Content-Encoding", "gzip");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  // State of the stream between pieces: where to resume, and what is left to close.
  struct State {
    std::shared_ptr<const LineMatcher> matcher;
    int64_t next_line = 1;
    bool started = false;
    int64_t count = 0;
    std::unique_ptr<GzipStream> gzip;
    std::string plain, visible;
  };
  auto st = std::make_shared<State>();
  st->matcher = *m;
  if (gz_file || gz_wire) st->gzip = std::make_unique<GzipStream>();
  r.stream = [this, st, id, format, strip, elapsed, origin_us](std::string* out,
                                                               bool* done) -> Status {
    std::string* piece = st->gzip ? &st->plain : out;
    piece->clear();
    out->clear();
    if (!st->started) {
      st->started = true;
      if (format == "json") piece->push_back('[');
      if (format == "csv") {
        piece->append(elapsed ? "line_number,elapsed" : "line_number,timestamp");
        piece->append(",level,source,writer,message\r\n");
      }
    }
    constexpr size_t kPieceBytes = 256 * 1024;
    JsonOut j;
    bool more = false;
    char iso[27];
    std::string rel;
    Status s =
        engine_.Scan(id, *st->matcher, st->next_line, INT64_MAX, false, [&](const LineView& v) {
          if (piece->size() >= kPieceBytes) {
            more = true;
            return false;
          }
          st->next_line = v.line_number + 1;
          std::string_view ts;
          if (elapsed) {
            rel = FormatElapsed(v.timestamp_us - origin_us);
            ts = rel;
          } else {
            FormatIsoMicros(v.timestamp_us, iso);
            ts = std::string_view(iso, 27);
          }
          std::string_view msg = v.message;
          if (strip && HasEscapes(msg)) {
            st->visible.clear();
            AppendVisibleText(msg, &st->visible);
            msg = st->visible;
          }
          if (format == "txt") {
            // The program's own level name (SUCCESS, TRACE) is what it printed.
            piece->append(ts).append(" [");
            piece->append(v.level_name.empty() ? LevelName(v.level) : v.level_name).append("] [");
            piece->append(SourceName(v.source)).append("] ").append(msg).push_back('\n');
          } else if (format == "json") {
            if (st->count) piece->push_back(',');
            j.Clear();
            j.Line(id, v);
            piece->append(j.data(), j.size());
          } else {
            piece->append(std::to_string(v.line_number)).push_back(',');
            piece->append(ts).push_back(',');
            piece->append(LevelName(v.level)).push_back(',');
            piece->append(SourceName(v.source)).push_back(',');
            AppendCsvField(piece, v.writer);
            piece->push_back(',');
            AppendCsvField(piece, msg);
            piece->append("\r\n");
          }
          ++st->count;
          return true;
        });
    if (!s.ok()) return s;
    if (!more) {
      *done = true;
      if (format == "json") piece->push_back(']');
    }
    if (st->gzip) return st->gzip->Write(*piece, *done, out);
    return Status::Ok();
  };
  return r;
}

ApiResponse Api::ClearLogs(const std::string& id) {
  Status s = store_.ClearLogs(id);
  if (!s.ok()) return ErrorResponse(s);
  views_.Forget(id);
  locator_.Forget(id);
  // The count after this clear travels with the message, so each hub knows which clears its
  // viewers have been told of (a later resync compares it with the run's).
  auto run = store_.GetRun(id);
  PublishCleared(id, run.ok() ? run->clears : 0);
  return NoContent();
}

void Api::PublishRunState(const std::string& id, RunState state, std::optional<int64_t> exit_code) {
  BusMessage m;
  m.kind = BusMessage::Kind::kRunState;
  m.run_id = id;
  m.state = state;
  m.exit_code = exit_code;
  bus_.Publish(m);
}

void Api::PublishCleared(const std::string& id, int64_t clears) {
  BusMessage m;
  m.kind = BusMessage::Kind::kCleared;
  m.run_id = id;
  m.clears = clears;
  bus_.Publish(m);
}

}  // namespace wanllmdb
