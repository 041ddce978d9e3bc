// The run file of `wanllmdb admin export-run` / `import-run`: one run, losslessly, as gzip'd
// JSON lines (the grammar is in doc/operations.md, "Moving a run between servers"):
//   {"format": "wanllmdb-run", "version": 1, "exported_at", "source", "run": {run object}}
//   {"line_number", "timestamp", "level", "source", "writer", "message"}    one per line
//   {"end": true, "lines": N}                                               the trailer
// The trailer tells a complete file from a truncated one. Readers refuse other versions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/log_line.h"
#include "core/status.h"
#include "store/run_import.h"

namespace wanllmdb {

inline constexpr int kRunFileVersion = 1;

// Writes PATH.partial and renames it to PATH on Finish, so PATH is complete or absent.
// Thread-safety: one thread at a time.
class RunFileWriter {
 public:
  ~RunFileWriter();
  // kConflict when `path` exists.
  Status Open(const std::string& path);
  // `run_json`: the run object as the API gives it (GET /api/v1/runs/{id}).
  Status WriteHeader(std::string_view run_json, std::string_view source);
  Status WriteLine(int64_t line_number, std::string_view timestamp, std::string_view level,
                   std::string_view source, std::string_view writer, std::string_view message);
  Status Finish();
  int64_t lines() const { return lines_; }

 private:
  Status Put(const std::string& text);
  std::string path_, partial_;
  void* gz_ = nullptr;  // gzFile
  int64_t lines_ = 0;
};

// Reads and validates a run file: every field checked as the API checks it (ids, levels,
// sources, writers, UTF-8 messages without newlines, line numbers going up), the trailer's
// count matched. Thread-safety: one thread at a time.
class RunFileReader {
 public:
  RunFileReader();
  ~RunFileReader();
  Status Open(const std::string& path);
  // The run as it is to be stored (first call only, before Next).
  Result<RunImport> Header();
  // The next line, or nullopt after the trailer (checked: the count, nothing after it).
  Result<std::optional<LogLine>> Next();

 private:
  struct Impl;
  // The next text line of the file; false at the end of the file.
  Result<bool> ReadLine(std::string* out);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wanllmdb
