#include "store/query_engine.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <optional>

#include "core/chunk_codec.h"
#include "store/query_budget.h"
#include "store/scan_helpers.h"

namespace wanllmdb {

LogLine ToLogLine(const LineView& v) {
  LogLine l;
  l.line_number = v.line_number;
  l.timestamp_us = v.timestamp_us;
  l.level = v.level;
  l.source = v.source;
  l.writer = v.writer;
  l.message = v.message;
  l.level_name = v.level_name;
  l.fields = v.fields;
  return l;
}

namespace {

// Chunks a scan holds decoded at once (see Scan).
constexpr size_t kMaxDecoded = 64;

ChunkQuery BaseQuery(const LineMatcher& m, int64_t from, int64_t to, bool desc) {
  ChunkQuery q;
  q.from_line = from;
  q.to_line = to;
  q.descending = desc;
  q.since_us = m.filter().since_us;
  q.until_us = m.filter().until_us;
  q.level_mask = m.filter().level_mask;
  q.source_mask = m.filter().source_mask;
  q.probe = m.probe();
  return q;
}

}  // namespace

Status QueryEngine::Scan(const std::string& run_id, const LineMatcher& matcher, int64_t from_line,
                         int64_t to_line, bool descending,
                         const std::function<bool(const LineView&)>& fn, int first_page) {
  struct Prepared {
    DecodedChunk chunk;
    std::vector<uint8_t> hits;
    Status status;
  };
  std::vector<Prepared> prepared;
  // Layout-3 blocks whose own text filter rules out a match are not decompressed: their lines
  // read as empty, which no text filter with a probe matches (a probe needs a trigram).
  const TextProbe* probe = matcher.probe();
  BlockTest may_match;
  if (probe) may_match = [probe](std::string_view f) { return probe->MayMatchBlock(f); };
  // The page's chunks to decode (those no text filter rules out), by index; prepared[j] is
  // kept[j]'s. Whoever works on the page (this thread, and a scan helper when one is idle)
  // takes the next index from `next_kept` until none is left.
  std::vector<size_t> kept;
  std::atomic<size_t> next_kept{0};
  auto prepare = [&](const std::vector<StoredChunk>& chunks) {
    for (size_t j; (j = next_kept.fetch_add(1, std::memory_order_relaxed)) < kept.size();) {
      Prepared& p = prepared[j];
      p.status = DecodeChunk(chunks[kept[j]].payload, &p.chunk, may_match);
      if (p.status.ok()) matcher.MatchText(p.chunk, &p.hits);
    }
  };
  int pages = 0;
  size_t next_page = 16;
  auto read_page = [&](int64_t from, int64_t to) {
    ChunkQuery q = BaseQuery(matcher, from, to, descending);
    // Small first pages answer "latest 500" fast; later pages are bigger for throughput, and
    // bigger still while text filters skip most chunks: a page is sized for about 16 chunks
    // kept (payloads read and decoded, what bounds a scan's memory), at most 1,024 keys, so a
    // needle in 10,000 chunks takes ~60 store reads rather than ~160.
    q.max_chunks = pages++ == 0 ? std::max(1, first_page) : static_cast<int>(next_page);
    // At most kMaxDecoded chunks are read and held decoded: a big page that turns out to keep
    // more (the needle is dense here) ends before the first chunk past that (the store trims
    // it), and the next page starts there.
    q.max_payloads = static_cast<int>(kMaxDecoded);
    return store_.ReadChunks(run_id, q);
  };
  // The next page, read while this one is decoded (see below).
  std::optional<Result<std::vector<StoredChunk>>> ahead;
  while (from_line <= to_line) {
    if (Status b = CheckQueryBudget(); !b.ok()) return b;
    Result<std::vector<StoredChunk>> chunks =
        ahead ? std::move(*ahead) : read_page(from_line, to_line);
    ahead.reset();
    if (!chunks.ok()) return chunks.status();
    if (chunks->empty()) break;
    kept.clear();
    for (size_t k = 0; k < chunks->size(); ++k) {
      if (!(*chunks)[k].skipped) kept.push_back(k);
    }
    next_page =
        std::clamp<size_t>(16 * chunks->size() / std::max<size_t>(kept.size(), 1), 16, 1024);
    prepared.resize(kept.size());
    next_kept.store(0, std::memory_order_relaxed);
    const int64_t next_from = descending ? from_line : chunks->back().last_line + 1;
    const int64_t next_to = descending ? chunks->back().first_line - 1 : to_line;
    // A long scan reads its next page while this one is decompressed and matched, so on two
    // cores the store read (a third of a needle search) overlaps the decoding rather than
    // adding to it. Not on the first page, nor on the second unless the caller visits every
    // line (a big first_page): most "latest 500" requests end there, and the read would be
    // wasted.
    const bool read_ahead =
        next_from <= next_to && (pages >= 3 || (pages == 2 && first_page > kDefaultFirstPage));
    // Decompression and text matching dominate a scan: the page is shared with an idle scan
    // helper when there is one (ScanHelpers: bounded, never queued).
    std::latch helper_done(1);
    const bool shared =
        (kept.size() >= 2 || (read_ahead && !kept.empty())) && ScanHelpers::Shared().TryStart([&] {
          prepare(*chunks);
          helper_done.count_down();
        });
    if (read_ahead) ahead = read_page(next_from, next_to);
    prepare(*chunks);
    if (shared) helper_done.wait();
    for (size_t j = 0; j < kept.size(); ++j) {
      const StoredChunk& c = (*chunks)[kept[j]];
      const DecodedChunk& chunk = prepared[j].chunk;
      const std::vector<uint8_t>& hits = prepared[j].hits;
      if (!prepared[j].status.ok()) return prepared[j].status;
      const int64_t n = static_cast<int64_t>(chunk.n);
      int64_t lo = std::max<int64_t>(0, from_line - c.first_line);
      int64_t hi = std::min<int64_t>(n - 1, to_line - c.first_line);
      for (int64_t j = 0; j <= hi - lo; ++j) {
        int64_t i = descending ? hi - j : lo + j;
        if (!hits[i] || !matcher.MatchMeta(chunk, i)) continue;
        LineView v{c.first_line + i,
                   chunk.timestamps[i],
                   static_cast<Level>(chunk.levels[i]),
                   static_cast<Source>(chunk.sources[i]),
                   chunk.writers[chunk.writer_index[i]],
                   chunk.message(i),
                   chunk.level_name(i),
                   chunk.line_fields(i)};
        if (!fn(v)) return Status::Ok();
      }
    }
    from_line = next_from;
    to_line = next_to;
  }
  return Status::Ok();
}

Result<ListResult> QueryEngine::List(const std::string& run_id, const LineMatcher& matcher,
                                     const ListRequest& r) {
  ListResult out;
  int64_t from = r.after_line ? *r.after_line + 1 : 1;
  int64_t to = r.before_line ? *r.before_line - 1 : INT64_MAX;
  Status s = Scan(run_id, matcher, from, to, r.descending, [&](const LineView& v) {
    if (static_cast<int>(out.lines.size()) == r.limit) {
      out.has_more = true;
      return false;
    }
    out.lines.push_back(ToLogLine(v));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<LogLine>> QueryEngine::Latest(const std::string& run_id,
                                                 const LineMatcher& matcher, int limit,
                                                 int64_t up_to_line) {
  std::vector<LogLine> out;
  if (limit <= 0) return out;
  Status s = Scan(run_id, matcher, 1, up_to_line, true, [&](const LineView& v) {
    out.push_back(ToLogLine(v));
    return static_cast<int>(out.size()) < limit;
  });
  if (!s.ok()) return s;
  std::reverse(out.begin(), out.end());
  return out;
}

Result<Histogram> QueryEngine::MakeHistogram(const std::string& run_id, const LineMatcher& m,
                                             int n_buckets) {
  auto summary = store_.Summary(run_id);
  if (!summary.ok()) return summary.status();
  Histogram h;
  if (summary->total == 0) return h;
  int64_t lo = m.filter().since_us.value_or(*summary->first_timestamp_us);
  int64_t hi = m.filter().until_us.value_or(*summary->last_timestamp_us);
  lo = std::max(lo, *summary->first_timestamp_us);
  hi = std::min(hi, *summary->last_timestamp_us);
  if (hi < lo) return h;
  h.since_us = lo;
  h.until_us = hi;
  const int64_t span = hi - lo + 1;
  h.buckets.resize(n_buckets);
  for (int b = 0; b < n_buckets; ++b) {
    h.buckets[b].start_us = lo + span * b / n_buckets;
    h.buckets[b].end_us = lo + span * (b + 1) / n_buckets;
  }
  auto bucket_of = [&](int64_t ts) {
    return static_cast<size_t>(std::clamp<int64_t>((ts - lo) * n_buckets / span, 0, n_buckets - 1));
  };
  const LogFilter& f = m.filter();
  bool metadata_only = f.counts_from_levels();
  if (metadata_only && summary->total > 200000) {
    // Big run, no text filter: chunk level counts spread over the chunk's time span. Exact per
    // chunk, approximate within one; decoding ten million lines for a sparkline is not worth it.
    h.exact = false;
    ChunkQuery q = BaseQuery(m, 1, INT64_MAX, false);
    q.with_payload = false;
    q.max_chunks = 4096;
    while (true) {
      auto chunks = store_.ReadChunks(run_id, q);
      if (!chunks.ok()) return chunks.status();
      if (chunks->empty()) break;
      for (const auto& c : *chunks) {
        size_t b0 = bucket_of(c.ts_min), b1 = bucket_of(c.ts_max);
        for (int l = 0; l < kLevelCount; ++l) {
          if (f.level_mask && !(f.level_mask & (1u << l))) continue;
          int64_t cnt = c.level_counts[l];
          if (!cnt) continue;
          size_t nb = b1 - b0 + 1;
          for (size_t b = b0; b <= b1; ++b) {
            int64_t share = cnt / nb + (b - b0 < cnt % nb ? 1 : 0);
            h.buckets[b].counts[l] += share;
            if (share && !h.buckets[b].first_line) h.buckets[b].first_line = c.first_line;
          }
        }
      }
      q.from_line = chunks->back().last_line + 1;
    }
    return h;
  }
  Status s = Scan(run_id, m, 1, INT64_MAX, false, [&](const LineView& v) {
    auto& b = h.buckets[bucket_of(v.timestamp_us)];
    b.counts[static_cast<int>(v.level)]++;
    if (!b.first_line) b.first_line = v.line_number;
    return true;
  });
  if (!s.ok()) return s;
  return h;
}

Status QueryEngine::Locate(const std::string& run_id, const LineMatcher& m, int64_t line,
                           int64_t* index, int64_t* total) {
  *index = 0;
  *total = 0;
  const LogFilter& f = m.filter();
  if (f.matches_everything()) {
    auto summary = store_.Summary(run_id);
    if (!summary.ok()) return summary.status();
    *total = summary->total;
    if (summary->total == 0) return Status::Ok();
    *index = std::clamp<int64_t>(line - summary->first_line, 0, summary->total);
    return Status::Ok();
  }
  bool level_only = f.counts_from_levels();
  if (level_only) {
    // Whole chunks are counted from their level counts; only the chunk holding `line` is
    // decoded.
    ChunkQuery q = BaseQuery(m, 1, INT64_MAX, false);
    q.with_payload = false;
    q.max_chunks = 4096;
    int64_t partial_from = 0, partial_to = -1;
    while (true) {
      auto chunks = store_.ReadChunks(run_id, q);
      if (!chunks.ok()) return chunks.status();
      if (chunks->empty()) break;
      for (const auto& c : *chunks) {
        const int64_t cnt = f.LinesOfLevels(c.level_counts);
        *total += cnt;
        if (c.last_line < line) {
          *index += cnt;
        } else if (c.first_line < line) {
          partial_from = c.first_line;
          partial_to = line - 1;
        }
      }
      q.from_line = chunks->back().last_line + 1;
    }
    if (partial_to >= partial_from) {
      return Scan(run_id, m, partial_from, partial_to, false, [&](const LineView&) {
        ++*index;
        return true;
      });
    }
    return Status::Ok();
  }
  return Scan(
      run_id, m, 1, INT64_MAX, false,
      [&](const LineView& v) {
        ++*total;
        if (v.line_number < line) ++*index;
        return true;
      },
      kWholeRangeFirstPage);
}

}  // namespace wanllmdb
