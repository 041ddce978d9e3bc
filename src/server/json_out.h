// JSON output: every response body is built with RapidJSON's Writer (never by hand), through
// these helpers so the wire shapes of doc/api.md live in one place.
#pragma once

#include <string>
#include <string_view>

#include "core/log_line.h"
#include "store/log_store.h"
#include "store/problem_events.h"
#include "store/query_engine.h"

namespace wanllmdb {

// A growing JSON text. Thread-safety: one thread at a time.
class JsonOut {
 public:
  JsonOut();
  ~JsonOut();
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  JsonOut& BeginObject();
  JsonOut& EndObject();
  JsonOut& BeginArray();
  JsonOut& EndArray();
  JsonOut& Key(std::string_view k);
  JsonOut& String(std::string_view s);
  JsonOut& Int(int64_t v);
  JsonOut& Double(double v);  // NaN and infinities (not JSON) become null
  JsonOut& Bool(bool v);
  JsonOut& Null();
  JsonOut& Timestamp(int64_t micros);  // ISO 8601 string
  JsonOut& OptTimestamp(const std::optional<int64_t>& micros);
  JsonOut& OptInt(const std::optional<int64_t>& v);
  // Inserts already-valid JSON text as one value (stored config, pre-rendered lines).
  JsonOut& Raw(std::string_view json);

  JsonOut& Line(std::string_view run_id, const LineView& line);
  JsonOut& Line(std::string_view run_id, const LogLine& line);
  // A line shown as context around a match: the line object plus "context": true.
  JsonOut& ContextLine(std::string_view run_id, const LogLine& line);
  // Lists leave the config out (`with_config` false): it is the one unbounded-looking field, and
  // a list of runs should stay small; GET /runs/{id} has it.
  JsonOut& Run(const RunInfo& run, bool with_config = true);
  // A listed run (no config) with "top_problem": its worst problem (short form) or null.
  JsonOut& RunWithTopProblem(const RunInfo& run, const ProblemEvent* top);
  // A problem event (doc/problems.md); `short_form` leaves out detail and writers.
  JsonOut& Problem(const ProblemEvent& e, bool short_form = false);
  JsonOut& Project(const ProjectInfo& project);
  // null when nothing was removed, else {"from_line", "to_line", "by": "retention", "at"}.
  JsonOut& Removed(const RetentionGap& gap);

  std::string Take();
  const char* data() const;
  size_t size() const;
  void Clear();

 private:
  JsonOut& LineFields(std::string_view run_id, const LineView& line);  // an open line object
  JsonOut& RunFields(const RunInfo& run, bool with_config);            // an open run object
  struct Impl;
  Impl* impl_;
};

}  // namespace wanllmdb
