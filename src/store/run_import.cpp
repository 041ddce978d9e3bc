#include "store/run_import.h"

#include <algorithm>

#include "store/chunk_writer.h"

namespace wanllmdb {

Result<std::vector<ImportChunk>> ImportPlanner::Add(std::vector<LogLine> lines) {
  std::vector<ImportChunk> out;
  for (LogLine& l : lines) {
    if (removed_to_ > 0 && l.line_number <= removed_to_)
      return Status(Code::kInvalidValue, "line " + std::to_string(l.line_number) +
                                             " is in the range retention removed (lines up to " +
                                             std::to_string(removed_to_) + ")");
    if (l.line_number <= last_line_ || l.line_number >= next_line_) {
      return Status(Code::kInvalidValue,
                    "line " + std::to_string(l.line_number) +
                        (l.line_number <= last_line_
                             ? " comes after line " + std::to_string(last_line_)
                             : " is not below the run's next line " + std::to_string(next_line_)));
    }
    const bool gap = !pending_.empty() && l.line_number != last_line_ + 1;
    if (gap || pending_.size() >= kMergeChunkLines ||
        pending_bytes_ + l.message.size() + 1 > kMergeChunkBytes) {
      if (Status s = Flush(&out); !s.ok()) return s;
    }
    last_line_ = l.line_number;
    CountLine(l, &counters_);
    if (counters_.first_line == 0) counters_.first_line = l.line_number;
    AuditWriter& w = writers_[l.writer];
    if (w.writer.empty()) {
      w.writer = l.writer;
      w.id = static_cast<int64_t>(writers_.size()) - 1;
    }
    ++w.lines;
    pending_bytes_ += l.message.size() + 1;
    pending_.push_back(std::move(l));
  }
  return out;
}

Result<std::vector<ImportChunk>> ImportPlanner::Finish() {
  std::vector<ImportChunk> out;
  if (Status s = Flush(&out); !s.ok()) return s;
  counters_.next_line = next_line_;
  return out;
}

std::vector<AuditWriter> ImportPlanner::writers() const {
  std::vector<AuditWriter> out;
  for (const auto& [name, w] : writers_) out.push_back(w);
  return out;
}

Status ImportPlanner::Flush(std::vector<ImportChunk>* out) {
  if (pending_.empty()) return Status::Ok();
  auto pieces = BuildChunks(pending_, level_, {kMergeChunkLines, kMergeChunkBytes});
  if (!pieces.ok()) return pieces.status();
  for (auto& p : *pieces) {
    ImportChunk c;
    c.first_line = pending_[p.begin].line_number;
    c.lines.assign(std::make_move_iterator(pending_.begin() + p.begin),
                   std::make_move_iterator(pending_.begin() + p.end));
    for (const LogLine& l : c.lines)
      c.writer_mask |= 1ULL << std::min<int64_t>(writers_.at(l.writer).id, 63);
    c.payload = std::move(p.payload);
    c.text_filter = std::move(p.text_filter);
    out->push_back(std::move(c));
  }
  pending_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

Status ImportPlanner::Run(const LinePuller& pull,
                          const std::function<Status(const ImportChunk&)>& store) {
  auto store_all = [&](const std::vector<ImportChunk>& chunks) -> Status {
    for (const ImportChunk& c : chunks) {
      if (Status s = store(c); !s.ok()) return s;
    }
    return Status::Ok();
  };
  while (true) {
    auto lines = pull();
    if (!lines.ok()) return lines.status();
    if (lines->empty()) break;
    auto chunks = Add(std::move(*lines));
    if (!chunks.ok()) return chunks.status();
    if (Status s = store_all(*chunks); !s.ok()) return s;
  }
  auto rest = Finish();
  if (!rest.ok()) return rest.status();
  return store_all(*rest);
}

}  // namespace wanllmdb
