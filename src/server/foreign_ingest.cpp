#include "server/foreign_ingest.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <utility>

#include "core/text.h"
#include "core/uuid.h"

namespace wanllmdb {
namespace {

bool IsOneOf(std::string_view key, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (key == n) return true;
  return false;
}

std::optional<Source> ParseSourceAlias(std::string_view name) {
  std::string n = AsciiLower(name);
  if (auto s = ParseSource(n)) return s;
  return std::nullopt;
}

}  // namespace

std::optional<Level> ParseLevelAlias(std::string_view name) {
  std::string n = AsciiLower(name);
  if (n == "trace" || n == "debug" || n == "dbg") return Level::kDebug;
  if (n == "info" || n == "information" || n == "informational" || n == "notice")
    return Level::kInfo;
  if (n == "warn" || n == "warning") return Level::kWarning;
  if (n == "err" || n == "error") return Level::kError;
  if (n == "critical" || n == "crit" || n == "fatal" || n == "alert" || n == "emerg" ||
      n == "emergency" || n == "panic")
    return Level::kCritical;
  return std::nullopt;
}

Status RecordRouting::Set(std::string_view key, std::string_view value) {
  if (IsOneOf(key, {"wanllmdb.run_id", "wanllmdb_run_id", "run_id"})) {
    run_id_ = value;
  } else if (IsOneOf(key, {"wanllmdb.project", "wanllmdb_project", "project"})) {
    project_ = value;
  } else if (IsOneOf(key, {"wanllmdb.writer", "wanllmdb_writer", "writer"})) {
    writer_ = value;
  } else if (IsOneOf(key, {"wanllmdb.rank", "wanllmdb_rank", "rank"})) {
    int64_t r = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), r);
    if (ec != std::errc() || end != value.data() + value.size() || r < 0 || r > 1000000)
      return Status(Code::kBadRequest, std::string(key) + ": '" + std::string(value) +
                                           "' is not a rank (a whole number 0 to 1000000)");
    rank_ = std::to_string(r);
  } else if (IsOneOf(key, {"service.instance.id", "service_instance_id"})) {
    instance_ = value;
  } else if (IsOneOf(key,
                     {"wanllmdb.level", "wanllmdb_level", "level", "severity", "detected_level"})) {
    auto l = ParseLevelAlias(value);
    if (!l)
      return Status(Code::kBadRequest,
                    std::string(key) + ": unknown level '" + std::string(value) + "'");
    level_ = l;
  } else if (IsOneOf(key,
                     {"wanllmdb.source", "wanllmdb_source", "source", "stream", "log.iostream"})) {
    // Only the names we know route; a shipper's own `source`/`stream` label (a file name, a
    // Kafka topic) is not an error.
    if (auto s = ParseSourceAlias(value)) source_ = s;
  } else if (IsOneOf(key, {"wanllmdb.seq", "wanllmdb_seq"})) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || v < 0)
      return Status(Code::kBadRequest, std::string(key) + ": '" + std::string(value) +
                                           "' is not a sequence number (0 to 2^63-1)");
    seq_ = v;
  }
  return Status::Ok();
}

Status RecordRouting::SetSeq(std::string_view key, int64_t value) {
  if (!IsOneOf(key, {"wanllmdb.seq", "wanllmdb_seq"})) return Status::Ok();
  if (value < 0) return Status(Code::kBadRequest, std::string(key) + ": must not be negative");
  seq_ = value;
  return Status::Ok();
}

std::string RecordRouting::Writer() const {
  if (!writer_.empty()) return writer_;
  if (!rank_.empty()) return "rank-" + rank_;
  if (!instance_.empty()) return instance_;
  return "main";
}

Result<ForeignIngestResult> StoreForeignRecords(LogStore& store, IngestParser& parser,
                                                std::vector<ForeignRecord> records,
                                                const ForeignIngestHooks& hooks) {
  if (records.size() > kMaxForeignRecords)
    return Status(Code::kTooLarge, "a request holds at most " + std::to_string(kMaxForeignRecords) +
                                       " records; this one has " + std::to_string(records.size()));
  // Validate everything first: nothing is created or stored for a request with a bad record.
  struct RunWanted {
    std::string project;  // the first record's that names one
    std::string is_in;    // the project it is in (or will be created in)
  };
  std::map<std::string, RunWanted> runs;  // canonical id → a project to create it in
  // (run, writer) groups in the order they first appear: line numbers follow the request.
  std::vector<std::pair<std::pair<std::string, std::string>, std::vector<IncomingLine>>> groups;
  std::map<std::pair<std::string, std::string>, size_t> group_of;
  for (size_t i = 0; i < records.size(); ++i) {
    ForeignRecord& r = records[i];
    const std::string where = "record " + std::to_string(i);
    const std::string& id = r.routing.run_id();
    if (id.empty())
      return Status(Code::kBadRequest,
                    where + ": no run: set the attribute or label wanllmdb.run_id (a UUID)");
    if (!IsUuid(id))
      return Status(Code::kBadRequest,
                    where + ": run id '" + id.substr(0, 100) + "' is not a UUID");
    std::string writer = r.routing.Writer();
    if (writer.size() > 128 || !IsValidUtf8(writer))
      return Status(Code::kBadRequest, where + ": the writer must be 1 to 128 UTF-8 bytes");
    const std::string& project = r.routing.project();
    if (project.size() > 200 || project.find('/') != std::string::npos)
      return Status(Code::kBadRequest,
                    where + ": the project must be at most 200 characters, without '/'");
    std::string canonical = CanonicalUuid(id);
    RunWanted& want = runs[canonical];
    if (want.project.empty()) want.project = project;
    if (r.routing.level()) r.line.level = r.routing.level();
    if (r.routing.source()) r.line.source = *r.routing.source();
    r.line.seq = r.routing.seq();
    auto [it, fresh] = group_of.try_emplace({canonical, writer}, groups.size());
    if (fresh) groups.emplace_back(it->first, std::vector<IncomingLine>());
    groups[it->second].second.push_back(std::move(r.line));
  }
  ForeignIngestResult result;
  for (auto& [id, want] : runs) {
    auto existing = store.GetRun(id);
    if (existing.ok()) {
      if (!hooks.allows_project(existing->project))
        return Status(Code::kForbidden,
                      "this key is not allowed in project '" + existing->project + "'");
      want.is_in = existing->project;
      continue;
    }
    if (existing.status().code() != Code::kNotFound) return existing.status();
    if (want.project.empty())
      return Status(Code::kNotFound,
                    "run " + id + " does not exist; give wanllmdb.project to create it");
    if (!hooks.allows_project(want.project))
      return Status(Code::kForbidden, "this key is not allowed in project '" + want.project + "'");
    want.is_in = want.project;
  }
  // Built before any run is created: a request over the limits creates nothing.
  std::vector<IngestBatch> batches;
  batches.reserve(groups.size());
  RequestBudget budget;
  for (auto& [key, lines] : groups) {
    auto b = parser.BuildBatch(key.first, key.second, lines, &budget);
    if (!b.ok()) return b.status();
    batches.push_back(std::move(*b));
  }
  // Quotas see the request whole, as split and validated: refused, it creates nothing either.
  if (hooks.admit) {
    std::vector<QuotaCharge> charges;
    charges.reserve(batches.size());
    for (const IngestBatch& b : batches) charges.push_back(ChargeOf(b, runs.at(b.run_id).is_in));
    if (Status a = hooks.admit(charges); !a.ok()) return a;
  }
  for (auto& [id, want] : runs) {
    result.run_ids.push_back(id);
    if (store.GetRun(id).ok()) continue;
    NewRun run;
    run.id = id;
    run.project = want.project;
    bool created = false;
    auto made = store.CreateRun(run, &created);
    if (!made.ok()) return made.status();
    result.runs_created += created;
  }
  if (hooks.rules_for) {
    for (auto& b : batches) b.problem_rules = hooks.rules_for(b.run_id);
  }
  std::vector<std::string> batch_runs;
  for (const auto& b : batches) batch_runs.push_back(b.run_id);
  auto stored = store.AppendAll(std::move(batches));
  if (!stored.ok()) return stored.status();
  for (size_t i = 0; i < stored->size(); ++i) {
    const IngestResult& s = (*stored)[i];
    result.accepted += s.accepted;
    result.duplicates += s.duplicates;
    // Batches of one run's writers each report a kind the run had not: the first one does.
    for (const auto& k : s.new_problem_kinds) {
      auto& kinds = result.new_problem_kinds[batch_runs[i]];
      if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
    }
  }
  return result;
}

}  // namespace wanllmdb
