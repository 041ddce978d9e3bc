#include "server/problem_settings.h"

#include <simdjson.h>

#include "server/json_in.h"
#include "server/json_out.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status Bad(const std::string& what) {
  return Status(Code::kBadRequest, what);
}

}  // namespace

Result<ProblemSettings> ParseProblemSettings(std::string_view json, const ProblemSettings& base) {
  // A parser of its own: the request's thread-local one may still hold the request body.
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root))
    return Status(Code::kMalformedJson, "the body is not JSON");
  if (root.type() != element_type::OBJECT) return Bad("the body must be a JSON object");
  ProblemSettings s = base;
  element v;
  if (!root.at_key("stall_after_seconds").get(v) && v.type() != element_type::NULL_VALUE) {
    int64_t n = 0;
    if ((v.type() != element_type::INT64 && v.type() != element_type::UINT64) ||
        v.get_int64().get(n))
      return Bad("stall_after_seconds: must be a whole number");
    if (n < 0 || n > kMaxStallAfterS)
      return Status(Code::kInvalidValue, "stall_after_seconds: 0 (off) to " +
                                             std::to_string(kMaxStallAfterS) + " (7 days)");
    s.stall_after_s = n;
  }
  if (!root.at_key("rules").get(v) && v.type() != element_type::NULL_VALUE) {
    if (v.type() != element_type::ARRAY) return Bad("rules: must be an array");
    simdjson::dom::array arr = v.get_array().value_unsafe();
    if (arr.size() > kMaxProjectRules)
      return Status(Code::kInvalidValue,
                    "rules: at most " + std::to_string(kMaxProjectRules) + " rules a project");
    s.rules.clear();
    size_t i = 0;
    for (element item : arr) {
      const std::string at = "rules[" + std::to_string(i++) + "]";
      if (item.type() != element_type::OBJECT) return Bad(at + ": must be an object");
      ProjectRule r;
      auto name = OptStringField(item, "name", 64);
      if (!name.ok()) return Status(name.status().code(), at + "." + name.status().message());
      auto regex = OptStringField(item, "regex", kMaxRuleRegexBytes);
      if (!regex.ok()) return Status(regex.status().code(), at + "." + regex.status().message());
      auto level = OptStringField(item, "level", 16);
      if (!level.ok()) return Status(level.status().code(), at + "." + level.status().message());
      if (name->empty()) return Bad(at + ".name: is required");
      if (regex->empty()) return Bad(at + ".regex: is required");
      r.name = *name;
      r.regex = *regex;
      if (!level->empty()) {
        auto l = ParseLevel(*level);
        if (!l) return Status(Code::kInvalidValue, at + ".level: unknown level '" + *level + "'");
        r.level = *l;
      }
      if (Status st = ValidateProjectRule(r); !st.ok())
        return Status(st.code(), at + ": " + st.message());
      for (const auto& other : s.rules)
        if (other.name == r.name)
          return Status(Code::kInvalidValue, at + ": a second rule named '" + r.name + "'");
      s.rules.push_back(std::move(r));
    }
  }
  // All together must compile within the memory budget too.
  auto built = ProblemRuleSet::Build(s.rules);
  if (!built.ok()) return built.status();
  return s;
}

std::string ProblemSettingsJson(const ProblemSettings& s) {
  JsonOut j;
  j.BeginObject();
  AppendProblemSettingsMembers(j, s);
  j.EndObject();
  return j.Take();
}

void AppendProblemSettingsMembers(JsonOut& j, const ProblemSettings& s) {
  j.Key("stall_after_seconds").Int(s.stall_after_s);
  j.Key("rules").BeginArray();
  for (const auto& r : s.rules) {
    j.BeginObject();
    j.Key("name").String(r.name);
    j.Key("regex").String(r.regex);
    j.Key("level").String(LevelName(r.level));
    j.EndObject();
  }
  j.EndArray();
}

ProblemSettingsCache::ProblemSettingsCache(LogStore& store, std::chrono::milliseconds ttl)
    : store_(store), ttl_(ttl) {
  auto e = std::make_shared<Entry>();
  e->rules = ProblemRuleSet::Builtin();
  defaults_ = std::move(e);
}

std::shared_ptr<const ProblemSettingsCache::Entry> ProblemSettingsCache::Get(
    const std::string& project) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(project);
    if (it != cache_.end() && now - it->second.loaded < ttl_) return it->second.entry;
  }
  std::shared_ptr<const Entry> entry = defaults_;
  auto stored = store_.GetProjectSetting(project, kProblemSettingsKey);
  if (stored.ok() && stored->has_value()) {
    auto parsed = ParseProblemSettings(**stored, ProblemSettings());
    if (parsed.ok()) {
      auto rules = ProblemRuleSet::Build(parsed->rules);
      if (rules.ok()) {
        auto e = std::make_shared<Entry>();
        e->settings = std::move(*parsed);
        e->rules = std::move(*rules);
        entry = std::move(e);
      }
    }
  } else if (!stored.ok() && stored.status().code() != Code::kNotFound) {
    return entry;  // the store failed: defaults now, ask again next time
  }
  std::lock_guard lock(mu_);
  if (cache_.size() > 10000) cache_.clear();  // bound: projects are few; a miss costs one read
  cache_[project] = {entry, now};
  return entry;
}

void ProblemSettingsCache::Invalidate(const std::string& project) {
  std::lock_guard lock(mu_);
  cache_.erase(project);
}

}  // namespace wanllmdb
