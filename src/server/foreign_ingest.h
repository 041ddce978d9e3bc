// ForeignIngest: what the OTLP/HTTP logs and Loki push endpoints share once a payload is decoded
// — the mapping of attributes/labels to run, project, writer, source and level (doc/api.md
// "Other ingest protocols" is the table), validation of every record before anything is stored,
// creation of unknown runs that name a project, and one all-or-nothing store of every
// (run, writer) group through the same IngestParser rules (splitting, UTF-8, level detection) as
// the batch API. The live hub hears of the lines through the store's commit events, as for the
// batch API.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/ingest.h"
#include "server/ingest_quota.h"
#include "store/log_store.h"

namespace wanllmdb {

class ProblemRuleSet;

// Every record is at least one line, and a request stores at most kMaxBatchLines lines.
inline constexpr size_t kMaxForeignRecords = kMaxBatchLines;

// Where a record goes, from its attributes (OTLP resource then record) or labels (Loki stream).
// Later Set calls override earlier ones, so record attributes win over resource attributes.
// Thread-safety: a value type.
class RecordRouting {
 public:
  // Applies one attribute or label; names it does not know are ignored. A malformed known value
  // (a rank that is not a number, an unknown level name) is an error naming the attribute.
  Status Set(std::string_view key, std::string_view value);
  // wanllmdb.seq given as an integer attribute.
  Status SetSeq(std::string_view key, int64_t value);

  const std::string& run_id() const { return run_id_; }
  const std::string& project() const { return project_; }
  std::string Writer() const;  // explicit writer, else rank-N, else service.instance.id, else main
  std::optional<Level> level() const { return level_; }
  std::optional<Source> source() const { return source_; }
  int64_t seq() const { return seq_; }

 private:
  std::string run_id_, project_, writer_, rank_, instance_;
  std::optional<Level> level_;
  std::optional<Source> source_;
  int64_t seq_ = -1;
};

// One decoded record: its routing and its line.
struct ForeignRecord {
  RecordRouting routing;
  IncomingLine line;
};

struct ForeignIngestResult {
  int64_t accepted = 0, duplicates = 0, runs_created = 0;
  std::vector<std::string> run_ids;  // every run the request wrote to (their writers were heard)
  // Per run, the problem kinds new to it (IngestResult::new_problem_kinds): what alerts fire on.
  std::map<std::string, std::vector<std::string>> new_problem_kinds;
};

// Level names as log shippers spell them (case-insensitive): trace/debug, info/notice,
// warn/warning, err/error, critical/fatal/crit/alert/emerg/panic.
std::optional<Level> ParseLevelAlias(std::string_view name);

// What the caller decides for StoreForeignRecords.
struct ForeignIngestHooks {
  // The caller's key's project restriction (the router cannot check it: these paths name no
  // run); a record for a run in another project is kForbidden. Required.
  std::function<bool(const std::string& project)> allows_project;
  // The problem rules each run's batches are scanned with (null function or result: none).
  std::function<std::shared_ptr<const ProblemRuleSet>(const std::string& run_id)> rules_for;
  // The ingest quotas (server/ingest_quota.h): given what the request brings to each run (and
  // the run's project) once everything is validated and split, before any run is created; a
  // failing Status refuses the whole request and is returned as is. Null: no quota.
  std::function<Status(const std::vector<QuotaCharge>& charges)> admit;
};

// Validates every record (run id, writer, run exists or a project to create it with), then
// stores them all or none. kBadRequest for a record without a run, kNotFound for an unknown run
// without a project, kForbidden for a run outside the key's projects, what `admit` says when a
// quota refuses. Thread-safety: as thread-safe as `store`, `parser` and the hooks.
Result<ForeignIngestResult> StoreForeignRecords(LogStore& store, IngestParser& parser,
                                                std::vector<ForeignRecord> records,
                                                const ForeignIngestHooks& hooks);

}  // namespace wanllmdb
