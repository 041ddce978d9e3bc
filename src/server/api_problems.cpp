// Problems found for you (doc/problems.md): a run's problems, a project's problems over time,
// and a project's problem settings (its own rules, its stall time).
#include <algorithm>
#include <set>

#include "core/time_util.h"
#include "server/alerts.h"
#include "server/api.h"
#include "server/http_util.h"
#include "server/json_out.h"
#include "server/problem_settings.h"
#include "server/stall_watch.h"
#include "store/problem_events.h"

namespace wanllmdb {
namespace {

constexpr int64_t kMaxProjectProblems = 1000;

// "7d", "24h", "30m", "90s" back from now, or an ISO 8601 time.
Result<int64_t> ParseSince(std::string_view s, int64_t now_us) {
  if (s.size() >= 2 && s.size() <= 12) {
    char unit = s.back();
    std::string_view num = s.substr(0, s.size() - 1);
    if (std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      int64_t n = std::stoll(std::string(num));
      int64_t mult = unit == 'd'   ? 86400
                     : unit == 'h' ? 3600
                     : unit == 'm' ? 60
                     : unit == 's' ? 1
                                   : 0;
      if (mult && n <= 3650LL * 86400 / mult) return now_us - n * mult * 1000000;
    }
  }
  if (auto t = ParseIsoMicros(s)) return *t;
  return Status(Code::kInvalidValue,
                "since: want a duration back from now (7d, 24h, 30m, 90s) or an ISO 8601 time");
}

std::string_view QueryParam(const ApiRequest& req, const char* name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string_view() : std::string_view(it->second);
}

// The settings answer: the project's own and, for reference, the built-in rules.
std::string SettingsBody(const ProblemSettings& s) {
  JsonOut j;
  j.BeginObject();
  AppendProblemSettingsMembers(j, s);
  j.Key("builtin_rules").BeginArray();
  for (const auto& r : BuiltinProblemRules()) {
    j.BeginObject();
    j.Key("name").String(r.name);
    j.Key("kind").String(r.kind);
    j.Key("level").String(LevelName(r.level));
    j.Key("pattern").String(r.pattern);
    j.Key("example").String(r.example);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return j.Take();
}

}  // namespace

std::shared_ptr<const ProblemRuleSet> Api::ProblemRulesFor(const std::string& run_id) {
  if (!options_.problems) return nullptr;
  auto project = ProjectOfRun(run_id);
  if (!project.ok()) return ProblemRuleSet::Builtin();  // the append answers for the run
  return options_.problems->Get(*project)->rules;
}

void Api::AfterAppend(const std::string& run_id, const IngestResult& r) {
  StoredOutput(run_id, r.accepted);
  ProblemsFound(run_id, r.new_problem_kinds);
}

void Api::ProblemsFound(const std::string& run_id, const std::vector<std::string>& new_kinds) {
  if (options_.alerts && !new_kinds.empty()) options_.alerts->ProblemsFound(run_id, new_kinds);
}

void Api::StoredOutput(const std::string& run_id, int64_t accepted) {
  if (accepted > 0 && options_.stalls) options_.stalls->Output(run_id);
}

ApiResponse Api::RunProblems(const std::string& id) {
  auto run = store_.GetRun(id);
  if (!run.ok()) return ErrorResponse(run.status());
  auto rows = store_.ProblemsOfRuns({id});
  if (!rows.ok()) return ErrorResponse(rows.status());
  auto dropped = store_.ProblemsDropped(id);
  if (!dropped.ok()) return ErrorResponse(dropped.status());
  auto events = FoldProblems(*rows);
  JsonOut j;
  j.BeginObject().Key("run_id").String(id);
  j.Key("count").Int(static_cast<int64_t>(events.size()));
  // kMaxProblemSignaturesPerRun: problems of signatures past the cap were counted, not kept.
  j.Key("truncated").Bool(*dropped > 0);
  j.Key("dropped").Int(*dropped);
  j.Key("problems").BeginArray();
  for (const auto& e : events) j.Problem(e);
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::ProjectProblems(const std::string& project, const ApiRequest& req) {
  ProblemQuery q;
  q.project = project;
  q.kind = std::string(QueryParam(req, "kind"));
  if (!q.kind.empty() && !IsProblemKind(q.kind)) {
    std::string kinds;
    for (auto k : kProblemKinds) kinds += (kinds.empty() ? "" : ", ") + std::string(k);
    return ErrorResponse(Status(Code::kInvalidValue, "kind: want one of " + kinds));
  }
  const int64_t now = NowMicros();
  if (std::string_view s = QueryParam(req, "since"); !s.empty()) {
    auto since = ParseSince(s, now);
    if (!since.ok()) return ErrorResponse(since.status());
    q.since_us = *since;
  }
  auto limit = IntParam(req.query, "limit", 200, 1, kMaxProjectProblems);
  if (!limit.ok()) return ErrorResponse(limit.status());
  q.limit = static_cast<int>(*limit);
  auto known = store_.GetProjectSetting(project, kProblemSettingsKey);
  if (!known.ok()) return ErrorResponse(known.status());  // 404 for an unknown project
  auto rows = store_.ProjectProblems(q);
  if (!rows.ok()) return ErrorResponse(rows.status());
  auto events = FoldProblems(*rows);
  std::stable_sort(events.begin(), events.end(), [](const ProblemEvent& a, const ProblemEvent& b) {
    return a.detected_at_us > b.detected_at_us;
  });
  std::set<std::string> run_ids;
  for (const auto& e : events) run_ids.insert(e.run_id);
  JsonOut j;
  j.BeginObject().Key("project").String(project);
  j.Key("run_count").Int(static_cast<int64_t>(run_ids.size()));
  j.Key("problems").BeginArray();
  std::map<std::string, std::optional<RunInfo>> runs;
  for (const auto& e : events) {
    auto it = runs.find(e.run_id);
    if (it == runs.end()) {
      auto r = store_.GetRun(e.run_id);
      it = runs.emplace(e.run_id, r.ok() ? std::optional<RunInfo>(*r) : std::nullopt).first;
    }
    if (!it->second) continue;  // deleted meanwhile
    j.BeginObject();
    j.Key("run");
    j.BeginObject();
    j.Key("id").String(it->second->id);
    j.Key("name").String(it->second->name);
    j.Key("state").String(RunStateName(it->second->state));
    j.Key("created_at").Timestamp(it->second->created_at_us);
    j.EndObject();
    j.Key("problem");
    j.Problem(e, /*short_form=*/true);
    j.EndObject();
  }
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

Result<ProblemSettings> Api::LoadProblemSettings(const std::string& project) {
  auto stored = store_.GetProjectSetting(project, kProblemSettingsKey);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return ProblemSettings();
  auto parsed = ParseProblemSettings(**stored, ProblemSettings());
  if (!parsed.ok()) return ProblemSettings();  // unreadable (a newer binary's?): the defaults
  return parsed;
}

Status Api::SaveProblemSettings(const std::string& project, const ProblemSettings& s) {
  Status st = store_.PutProjectSetting(project, kProblemSettingsKey, ProblemSettingsJson(s));
  if (st.ok() && options_.problems) options_.problems->Invalidate(project);
  return st;
}

ApiResponse Api::GetProblemSettings(const std::string& project) {
  auto s = LoadProblemSettings(project);
  if (!s.ok()) return ErrorResponse(s.status());
  return JsonResponse(200, SettingsBody(*s));
}

ApiResponse Api::PutProblemSettings(const std::string& project, ApiRequest& req) {
  std::lock_guard lock(problem_settings_mu_);  // read-modify-write, one at a time per node
  auto base = LoadProblemSettings(project);
  if (!base.ok()) return ErrorResponse(base.status());
  auto s = ParseProblemSettings(req.body, *base);
  if (!s.ok()) return ErrorResponse(s.status());
  if (Status st = SaveProblemSettings(project, *s); !st.ok()) return ErrorResponse(st);
  return JsonResponse(200, SettingsBody(*s));
}

ApiResponse Api::AddProblemRule(const std::string& project, ApiRequest& req) {
  std::lock_guard lock(problem_settings_mu_);
  auto base = LoadProblemSettings(project);
  if (!base.ok()) return ErrorResponse(base.status());
  // The body is one rule: parsed as a one-rule list so it is validated exactly like PUT's.
  auto one = ParseProblemSettings("{\"rules\": [" + req.body + "]}", ProblemSettings());
  if (!one.ok()) {
    Status st = one.status();
    std::string msg = st.message();
    if (msg.rfind("rules[0].", 0) == 0)
      msg = msg.substr(9);
    else if (msg.rfind("rules[0]: ", 0) == 0)
      msg = msg.substr(10);
    return ErrorResponse(
        Status(st.code() == Code::kMalformedJson ? Code::kMalformedJson : st.code(), msg));
  }
  if (one->rules.size() != 1)
    return ErrorResponse(Status(Code::kBadRequest, "the body must be one rule object"));
  ProblemSettings s = *base;
  const ProjectRule& rule = one->rules.front();
  auto it = std::find_if(s.rules.begin(), s.rules.end(),
                         [&](const ProjectRule& r) { return r.name == rule.name; });
  if (it != s.rules.end()) {
    *it = rule;  // the same name replaces
  } else {
    if (s.rules.size() >= kMaxProjectRules)
      return ErrorResponse(
          Status(Code::kInvalidValue,
                 "a project has at most " + std::to_string(kMaxProjectRules) + " rules"));
    s.rules.push_back(rule);
  }
  auto built = ProblemRuleSet::Build(s.rules);
  if (!built.ok()) return ErrorResponse(built.status());
  if (Status st = SaveProblemSettings(project, s); !st.ok()) return ErrorResponse(st);
  return JsonResponse(201, SettingsBody(s));
}

ApiResponse Api::DeleteProblemRule(const std::string& project, const std::string& raw_name) {
  std::lock_guard lock(problem_settings_mu_);
  const std::string name = UrlDecode(raw_name, /*plus_is_space=*/false);
  auto base = LoadProblemSettings(project);
  if (!base.ok()) return ErrorResponse(base.status());
  ProblemSettings s = *base;
  auto it = std::find_if(s.rules.begin(), s.rules.end(),
                         [&](const ProjectRule& r) { return r.name == name; });
  if (it == s.rules.end())
    return ErrorResponse(
        Status(Code::kNotFound, "project '" + project + "' has no rule '" + name + "'"));
  s.rules.erase(it);
  if (Status st = SaveProblemSettings(project, s); !st.ok()) return ErrorResponse(st);
  return NoContent();
}

}  // namespace wanllmdb
