// Health, projects and runs.
#include <chrono>
#include <cstdio>
#include "core/time_util.h"
#include "core/uuid.h"
#include "server/alerts.h"
#include "server/api.h"

#include "server/disk_guard.h"
#include "server/http_util.h"
#include "server/ingest_quota.h"
#include "server/json_in.h"
#include "server/json_out.h"
#include "server/metrics.h"
#include "store/run_end.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// A run's config is hyperparameters, not data: 64 KiB of minified JSON is far more than any
// real one, and keeps a run (and GET /runs/{id}) small. Larger → 422.
constexpr size_t kMaxConfigBytes = 64 * 1024;

Result<element> BodyObject(std::string& body) {
  return ParseJsonObjectBody(body);
}

Status ValidName(const std::string& what, const std::string& name) {
  if (name.empty()) return Status(Code::kBadRequest, what + ": is required (a non-empty string)");
  for (char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return Status(Code::kInvalidValue, what + ": must not contain '/' or control characters");
    }
  }
  return Status::Ok();
}

Status NotInProject(const std::string& project) {
  return Status(Code::kForbidden, "this key is not allowed in project '" + project + "'");
}

ApiResponse RunResponse(int status, const RunInfo& run) {
  JsonOut j;
  j.Run(run);
  return JsonResponse(status, j.Take());
}

}  // namespace

ApiResponse Api::Health(int requests_in_flight) const {
  JsonOut j;
  j.BeginObject().Key("status").String("ok").Key("version").String(options_.version);
  j.Key("requests_in_flight").Int(requests_in_flight).EndObject();
  return JsonResponse(200, j.Take());
}

Status Api::CheckDiskForIngest() const {
  if (options_.disk == nullptr) return Status::Ok();
  Status s = options_.disk->Check();
  if (s.ok()) return s;
  return Status(s.code(), s.message() +
                              "; ingest is refused until space is freed and resumes by itself "
                              "(clients keep their spool and retry)");
}

namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status Api::CheckQuotas(const std::string& run_id, const IngestBatch& batch, int* retry_after_s) {
  if (options_.quotas == nullptr) return Status::Ok();
  IngestQuotas& q = *options_.quotas;
  std::string project;
  if (q.limits().per_project()) {
    if (auto known = q.ProjectOf(run_id)) {
      project = *known;
    } else {
      auto run = store_.GetRun(run_id);
      if (!run.ok()) return Status::Ok();  // Append answers for an unknown run
      project = run->project;
      q.RememberProject(run_id, project);
    }
  }
  return q.AdmitAll({ChargeOf(batch, std::move(project))}, SteadyMicros(), retry_after_s);
}

Status Api::CheckQuotas(const std::vector<QuotaCharge>& charges, int* retry_after_s) {
  if (options_.quotas == nullptr) return Status::Ok();
  return options_.quotas->AdmitAll(charges, SteadyMicros(), retry_after_s);
}

ApiResponse Api::Ready() {
  std::string store_check = "ok", disk_check = "ok", reasons;
  if (Status s = store_.Ping(); !s.ok()) {
    // The libpq message names hosts and ports: for the log, not for an anonymous probe.
    std::fprintf(stderr, "readiness: the store does not answer: %s\n", s.message().c_str());
    store_check = "unreachable";
    reasons = "the store is unreachable";
  }
  if (options_.disk != nullptr) {
    if (Status s = options_.disk->Check(); !s.ok()) {
      disk_check = "low";
      reasons += (reasons.empty() ? "" : "; ") + s.message();
    }
  }
  JsonOut j;
  j.BeginObject().Key("status").String(reasons.empty() ? "ready" : "not_ready");
  if (!reasons.empty()) {
    j.Key("error").BeginObject().Key("code").String("unavailable").Key("message").String(reasons);
    j.EndObject();
  }
  j.Key("checks").BeginObject().Key("store").String(store_check).Key("disk").String(disk_check);
  if (options_.disk != nullptr) {
    if (auto space = options_.disk->Space()) {
      j.Key("disk_free_bytes").Int(space->free_bytes);
      j.Key("disk_min_free_bytes").Int(*options_.disk->MinFreeBytes());
    }
  }
  j.EndObject().EndObject();
  return JsonResponse(reasons.empty() ? 200 : 503, j.Take());
}

ApiResponse Api::MetricsText() {
  if (options_.metrics == nullptr)
    return ErrorResponse(Status(Code::kUnavailable, "metrics are not collected by this server"));
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = options_.metrics->Render();
  return r;
}

ApiResponse Api::CreateProject(ApiRequest& req) {
  auto obj = BodyObject(req.body);
  if (!obj.ok()) return ErrorResponse(obj.status());
  auto name = OptStringField(*obj, "name", 200);
  if (!name.ok()) return ErrorResponse(name.status());
  if (Status s = ValidName("name", *name); !s.ok()) return ErrorResponse(s);
  if (!req.principal.AllowsProject(*name)) return ErrorResponse(NotInProject(*name));
  bool created = false;
  auto p = store_.CreateProject(*name, &created);
  if (!p.ok()) return ErrorResponse(p.status());
  JsonOut j;
  j.Project(*p);
  return JsonResponse(created ? 201 : 200, j.Take());
}

ApiResponse Api::ListProjects(const ApiRequest& req) {
  auto list = store_.ListProjects();
  if (!list.ok()) return ErrorResponse(list.status());
  JsonOut j;
  j.BeginObject().Key("projects").BeginArray();
  for (const auto& p : *list)
    if (req.principal.AllowsProject(p.name)) j.Project(p);
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::CreateRun(ApiRequest& req) {
  auto obj = BodyObject(req.body);
  if (!obj.ok()) return ErrorResponse(obj.status());
  NewRun run;
  auto project = OptStringField(*obj, "project", 200);
  if (!project.ok()) return ErrorResponse(project.status());
  if (Status s = ValidName("project", *project); !s.ok()) return ErrorResponse(s);
  if (!req.principal.AllowsProject(*project)) return ErrorResponse(NotInProject(*project));
  run.project = *project;
  auto name = OptStringField(*obj, "name", 500);
  if (!name.ok()) return ErrorResponse(name.status());
  run.name = *name;
  auto id = OptStringField(*obj, "id", 100);
  if (!id.ok()) return ErrorResponse(id.status());
  if (id->empty()) {
    run.id = NewUuid();
  } else if (!IsUuid(*id)) {
    return ErrorResponse(Status(Code::kInvalidValue, "id: '" + *id + "' is not a UUID"));
  } else {
    run.id = CanonicalUuid(*id);
  }
  element v;
  if (!obj->at_key("config").get(v) && v.type() != element_type::NULL_VALUE) {
    if (v.type() != element_type::OBJECT) {
      return ErrorResponse(Status(Code::kBadRequest, "config: must be an object, not " +
                                                         std::string(JsonTypeName(v.type()))));
    }
    run.config_json = simdjson::minify(v);
    if (run.config_json.size() > kMaxConfigBytes) {
      return ErrorResponse(
          Status(Code::kInvalidValue, "config: at most " + std::to_string(kMaxConfigBytes >> 10) +
                                          " KiB of JSON, got " +
                                          std::to_string(run.config_json.size()) + " bytes"));
    }
  }
  if (!obj->at_key("tags").get(v) && v.type() != element_type::NULL_VALUE) {
    if (v.type() != element_type::ARRAY) {
      return ErrorResponse(Status(Code::kBadRequest, "tags: must be an array of strings"));
    }
    simdjson::dom::array tags = v.get_array().value_unsafe();  // keep it alive for the loop
    for (element t : tags) {
      if (t.type() != element_type::STRING) {
        return ErrorResponse(Status(Code::kBadRequest, "tags: must be an array of strings"));
      }
    }
    run.tags_json = simdjson::minify(v);
  }
  bool created = false;
  auto r = store_.CreateRun(run, &created);
  if (!r.ok()) return ErrorResponse(r.status());
  Heard(r->id);
  return RunResponse(created ? 201 : 200, *r);
}

namespace {

std::string_view Param(const ApiRequest& req, const char* key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? std::string_view() : std::string_view(it->second);
}

// The cursor is "<sort key>_<run id>" of the last run on a page; opaque to clients.
std::string MakeCursor(int64_t key, const std::string& id) {
  return std::to_string(key) + "_" + id;
}

Status ParseCursor(std::string_view c, RunQuery* q) {
  size_t us = c.find('_');
  auto bad = [&] { return Status(Code::kBadRequest, "cursor: not a cursor of this listing"); };
  if (us == std::string_view::npos || us == 0 || us + 1 >= c.size() || c.size() > 80) return bad();
  int64_t key = 0;
  size_t i = c[0] == '-' ? 1 : 0;
  if (i == us) return bad();
  for (; i < us; ++i) {
    if (c[i] < '0' || c[i] > '9' || key > (INT64_MAX - 9) / 10) return bad();
    key = key * 10 + (c[i] - '0');
  }
  q->after_key = c[0] == '-' ? -key : key;
  q->after_id = std::string(c.substr(us + 1));
  return Status::Ok();
}

}  // namespace

ApiResponse Api::ListRuns(const ApiRequest& req) {
  RunQuery q;
  q.project = std::string(Param(req, "project"));
  if (!req.principal.projects.empty()) {
    // A key limited to projects lists one of them at a time.
    if (q.project.empty()) {
      return ErrorResponse(
          Status(Code::kForbidden, "this key is limited to projects: ask with ?project=NAME"));
    }
    if (!req.principal.AllowsProject(q.project)) return ErrorResponse(NotInProject(q.project));
  }
  if (std::string_view st = Param(req, "state"); !st.empty()) {
    q.state = ParseRunState(st);
    if (!q.state) {
      return ErrorResponse(Status(Code::kInvalidValue, "state: '" + std::string(st) +
                                                           "' is not running, finished, failed "
                                                           "or crashed"));
    }
  }
  q.text = std::string(Param(req, "q"));
  if (q.text.size() > 200) {
    return ErrorResponse(Status(Code::kInvalidValue, "q: at most 200 characters"));
  }
  std::string_view sort = Param(req, "sort");
  if (sort.empty() || sort == "created_at") {
    q.sort = RunSort::kCreatedAt;
  } else if (sort == "duration") {
    q.sort = RunSort::kDuration;
  } else if (sort == "lines") {
    q.sort = RunSort::kLines;
  } else if (sort == "errors") {
    q.sort = RunSort::kErrors;
  } else {
    return ErrorResponse(Status(
        Code::kInvalidValue,
        "sort: want created_at, duration, lines or errors, got '" + std::string(sort) + "'"));
  }
  std::string_view order = Param(req, "order");
  if (!order.empty() && order != "asc" && order != "desc") {
    return ErrorResponse(
        Status(Code::kInvalidValue, "order: want asc or desc, got '" + std::string(order) + "'"));
  }
  q.descending = order != "asc";
  if (std::string_view c = Param(req, "cursor"); !c.empty()) {
    if (Status s = ParseCursor(c, &q); !s.ok()) return ErrorResponse(s);
  }
  auto limit = IntParam(req.query, "limit", 100, 1, 1000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  q.limit = static_cast<int>(*limit);
  q.now_us = NowMicros();
  auto page = store_.ListRuns(q);
  if (!page.ok()) return ErrorResponse(page.status());
  JsonOut j;
  j.BeginObject().Key("runs").BeginArray();
  // Each run's top problem: one read of the page's problem rows.
  std::vector<std::string> ids;
  for (const auto& r : page->runs) ids.push_back(r.id);
  std::map<std::string, std::vector<ProblemEvent>> events_by_run;
  if (auto rows = store_.ProblemsOfRuns(ids); rows.ok()) {
    for (auto& e : FoldProblems(*rows)) events_by_run[e.run_id].push_back(std::move(e));
  }
  for (const auto& r : page->runs) {
    auto it = events_by_run.find(r.id);
    j.RunWithTopProblem(r, it == events_by_run.end() ? nullptr : TopProblem(it->second));
  }
  j.EndArray();
  j.Key("next_cursor");
  if (page->has_more && !page->runs.empty()) {
    j.String(MakeCursor(page->keys.back(), page->runs.back().id));
  } else {
    j.Null();
  }
  j.Key("total").Int(page->total);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::GetRun(const std::string& id) {
  auto r = store_.GetRun(id);
  if (!r.ok()) return ErrorResponse(r.status());
  return RunResponse(200, *r);
}

ApiResponse Api::PatchRun(const std::string& id, ApiRequest& req) {
  auto obj = BodyObject(req.body);
  if (!obj.ok()) return ErrorResponse(obj.status());
  RunUpdate u;
  element v;
  if (!obj->at_key("state").get(v) && v.type() != element_type::NULL_VALUE) {
    if (v.type() != element_type::STRING) {
      return ErrorResponse(Status(Code::kBadRequest, "state: must be a string"));
    }
    std::string_view s = v.get_string().value_unsafe();
    u.state = ParseRunState(s);
    if (!u.state) {
      return ErrorResponse(Status(Code::kInvalidValue, "state: '" + std::string(s) +
                                                           "' is not running, finished, failed "
                                                           "or crashed"));
    }
  }
  if (!obj->at_key("exit_code").get(v)) {
    if (v.type() == element_type::NULL_VALUE) {
      u.exit_code = std::optional<int64_t>();
    } else if (v.type() == element_type::INT64 || v.type() == element_type::UINT64) {
      int64_t code = 0;
      if (v.get_int64().get(code) || code < -2147483648LL || code > 2147483647LL) {
        return ErrorResponse(Status(Code::kInvalidValue, "exit_code: out of range"));
      }
      u.exit_code = std::optional<int64_t>(code);
    } else {
      return ErrorResponse(Status(Code::kBadRequest, "exit_code: must be an integer or null"));
    }
  }
  // One rank of a multi-process run ended (wanllmdb run under srun/mpirun/torchrun): the run
  // ends when world_size writers have.
  auto writer = OptStringField(*obj, "writer", 128);
  if (!writer.ok()) return ErrorResponse(writer.status());
  if (!writer->empty()) {
    if (!u.state || *u.state == RunState::kRunning)
      return ErrorResponse(Status(Code::kInvalidValue,
                                  "writer: only with a final state (finished, failed, crashed)"));
    WriterEnd end;
    end.writer = *writer;
    if (!obj->at_key("world_size").get(v) && v.type() != element_type::NULL_VALUE) {
      int64_t n = 0;
      if ((v.type() != element_type::INT64 && v.type() != element_type::UINT64) ||
          v.get_int64().get(n) || n < 1 || n > 1000000)
        return ErrorResponse(
            Status(Code::kInvalidValue, "world_size: a whole number from 1 to 1000000"));
      end.world_size = n;
    }
    u.writer_end = end;
  }
  bool merge = false;
  if (!obj->at_key("merge").get(v) && v.type() != element_type::NULL_VALUE) {
    if (v.type() != element_type::BOOL) {
      return ErrorResponse(Status(Code::kBadRequest, "merge: must be a boolean"));
    }
    merge = v.get_bool().value_unsafe();
  }
  std::unique_lock<std::mutex> merging(state_mu_, std::defer_lock);
  if (merge) merging.lock();
  Heard(id);  // first: a run the silence sweep crashed is running again before we compare
  auto before = store_.GetRun(id);
  if (!before.ok()) return ErrorResponse(before.status());
  // A writer's end (u.writer_end) is merged by the store, once every writer has ended.
  if (merge && !u.writer_end && u.state && before->state != RunState::kRunning &&
      EndSeverity(*u.state) <= EndSeverity(before->state)) {
    // The run already ended at least as badly: keep its state and exit code.
    u.state.reset();
    u.exit_code.reset();
  }
  auto r = store_.UpdateRun(id, u);
  if (!r.ok()) return ErrorResponse(r.status());
  if (r->state != before->state || r->exit_code != before->exit_code) {
    PublishRunState(id, r->state, r->exit_code);
    if (options_.alerts) options_.alerts->RunEnded(id, r->state);
  }
  return RunResponse(200, *r);
}

ApiResponse Api::DeleteRun(const std::string& id) {
  Status s = store_.DeleteRun(id);
  if (!s.ok()) return ErrorResponse(s);
  views_.Forget(id);
  locator_.Forget(id);
  PublishCleared(id, 0);
  return NoContent();
}

}  // namespace wanllmdb
