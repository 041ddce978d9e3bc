#include "store/log_query.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/ansi.h"
#include "core/text.h"

namespace wanllmdb {

namespace {

// Whether `pattern` may be scanned as "(?m)" + pattern over a whole chunk (see Compile).
bool ChunkScanIsSound(const std::string& pattern) {
  if (pattern.find("\\A") != std::string::npos || pattern.find("\\z") != std::string::npos)
    return false;
  // A flag group "(?flags)" or "(?flags:" that clears a flag: "(?-m)", "(?s-m:", "(?i-sm)".
  for (size_t at = pattern.find("(?"); at != std::string::npos; at = pattern.find("(?", at + 2)) {
    for (size_t i = at + 2; i < pattern.size(); ++i) {
      char c = pattern[i];
      if (c == '-') return false;
      if (!std::isalpha(static_cast<unsigned char>(c))) break;
    }
  }
  return true;
}

}  // namespace

std::string LogFilter::Key() const {
  std::string k;
  auto add = [&k](std::string_view part) {
    k += std::to_string(part.size());
    k += ':';
    k += part;
  };
  add(std::to_string(level_mask));
  add(std::to_string(source_mask));
  add(std::to_string(writers.size()));
  for (const std::string& w : writers) add(w);
  add(search);
  add(regex);
  add(since_us ? std::to_string(*since_us) : "-");
  add(until_us ? std::to_string(*until_us) : "-");
  add(std::to_string(fields.size()));
  for (const FieldPredicate& p : fields) add(p.text());
  return k;
}

LineMatcher::~LineMatcher() = default;

Result<std::shared_ptr<const LineMatcher>> LineMatcher::Compile(const LogFilter& filter) {
  std::shared_ptr<LineMatcher> m(new LineMatcher());
  m->filter_ = filter;
  m->needle_lower_ = AsciiLower(filter.search);
  if (!filter.regex.empty()) {
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(64 << 20);
    m->re_ = std::make_unique<RE2>(filter.regex, opts);
    if (!m->re_->ok()) {
      return Status(Code::kInvalidValue, "invalid regex: " + m->re_->error());
    }
    // The chunk-wide scan is only a prefilter: every candidate is confirmed on its own line.
    // It is sound when any match inside a line alone is also a match at the same place in the
    // chunk's text, which holds in multi-line mode except for \A and \z (the chunk's ends, not
    // the line's) and flag groups that switch multi-line mode off again ("(?-m)$"): such
    // patterns go line by line.
    if (ChunkScanIsSound(filter.regex)) {
      m->re_multi_ = std::make_unique<RE2>("(?m)" + filter.regex, opts);
      if (!m->re_multi_->ok()) m->re_multi_.reset();  // fall back to line by line
    }
  }
  m->probe_ = TextProbe::Make(filter.search, filter.regex);
  return std::shared_ptr<const LineMatcher>(std::move(m));
}

bool LineMatcher::WriterAllowed(std::string_view writer) const {
  if (filter_.writers.empty()) return true;
  return std::find(filter_.writers.begin(), filter_.writers.end(), writer) != filter_.writers.end();
}

bool LineMatcher::MatchMeta(const DecodedChunk& c, size_t i) const {
  if (filter_.level_mask && !(filter_.level_mask & (1u << c.levels[i]))) return false;
  if (filter_.source_mask && !(filter_.source_mask & (1u << c.sources[i]))) return false;
  if (filter_.since_us && c.timestamps[i] < *filter_.since_us) return false;
  if (filter_.until_us && c.timestamps[i] > *filter_.until_us) return false;
  if (!filter_.writers.empty() && !WriterAllowed(c.writers[c.writer_index[i]])) return false;
  return MatchFields(c.line_fields(i));
}

bool LineMatcher::MatchFields(std::string_view fields) const {
  for (const FieldPredicate& p : filter_.fields) {
    if (!p.Matches(fields)) return false;
  }
  return true;
}

namespace {

// Index of the line containing byte `pos` (offsets ascending, offsets[0] == 0).
size_t LineOf(const std::vector<uint32_t>& offsets, size_t pos) {
  auto it = std::upper_bound(offsets.begin(), offsets.end(), static_cast<uint32_t>(pos));
  return static_cast<size_t>(it - offsets.begin()) - 1;
}

}  // namespace

void LineMatcher::MatchText(const DecodedChunk& c, std::vector<uint8_t>* hits) const {
  hits->assign(c.n, filter_.text_free() ? 1 : 0);
  if (filter_.text_free() || c.n == 0) return;
  if (!HasEscapes(c.text)) return MatchColumn({c.text, c.offsets, c.n}, hits);
  // Search what people see: a copy of the column without escape sequences (only for chunks
  // that have any; one memchr decides).
  std::string visible;
  visible.reserve(c.text.size());
  std::vector<uint32_t> offsets;
  offsets.reserve(c.n + 1);
  for (size_t i = 0; i < c.n; ++i) {
    offsets.push_back(static_cast<uint32_t>(visible.size()));
    AppendVisibleText(c.message(i), &visible);
    visible.push_back('\n');
  }
  offsets.push_back(static_cast<uint32_t>(visible.size()));
  MatchColumn({visible, offsets, c.n}, hits);
}

void LineMatcher::MatchColumn(const TextColumn& c, std::vector<uint8_t>* hits) const {
  std::vector<uint8_t> search_hits;
  if (!filter_.search.empty()) {
    if (needle_lower_.find('\n') != std::string::npos) return;  // lines hold no '\n'
    // Search is ASCII case-insensitive (AsciiLower, as MatchMessage does it): one SIMD pass
    // over the column from match to match, no lower-cased copy and no RE2.
    const std::string& nd = needle_lower_;
    size_t pos = 0;
    while (pos < c.text.size()) {
      size_t at = FindAsciiCaseless(c.text, nd, pos);
      if (at == std::string_view::npos || at >= c.offsets[c.n]) break;
      size_t line = LineOf(c.offsets, at);
      (*hits)[line] = 1;
      pos = c.offsets[line + 1];  // one hit per line is enough
    }
    if (filter_.regex.empty()) return;
    search_hits.swap(*hits);
    hits->assign(c.n, 0);
  }
  if (re_multi_) {
    re2::StringPiece text(c.text.data(), c.text.size());
    size_t pos = 0;
    re2::StringPiece match;
    while (pos < c.text.size()) {
      if (!re_multi_->Match(text, pos, text.size(), RE2::UNANCHORED, &match, 1)) break;
      size_t at = match.data() - c.text.data();
      // An empty match after the last line's '\n' ("^$", "\B", "^\d*$") belongs to no line.
      if (at >= c.offsets[c.n]) break;
      size_t line = LineOf(c.offsets, at);
      // A multi-line match may span lines ("a\s+b"): confirm on the line alone.
      if (RE2::PartialMatch(c.message(line), *re_)) (*hits)[line] = 1;
      pos = c.offsets[line + 1];
    }
  } else {
    for (size_t i = 0; i < c.n; ++i) (*hits)[i] = RE2::PartialMatch(c.message(i), *re_);
  }
  if (!search_hits.empty()) {
    for (size_t i = 0; i < c.n; ++i) (*hits)[i] &= search_hits[i];
  }
}

bool LineMatcher::MatchMessage(std::string_view raw) const {
  std::string visible;
  std::string_view message = raw;
  if (HasEscapes(raw)) {
    visible = VisibleText(raw);
    message = visible;
  }
  if (!filter_.search.empty()) {
    if (FindAsciiCaseless(message, needle_lower_) == std::string_view::npos) return false;
  }
  if (re_ && !RE2::PartialMatch(message, *re_)) return false;
  return true;
}

bool LineMatcher::MatchLine(const LogLine& l) const {
  if (filter_.level_mask && !(filter_.level_mask & (1u << static_cast<int>(l.level)))) return false;
  if (filter_.source_mask && !(filter_.source_mask & (1u << static_cast<int>(l.source))))
    return false;
  if (filter_.since_us && l.timestamp_us < *filter_.since_us) return false;
  if (filter_.until_us && l.timestamp_us > *filter_.until_us) return false;
  if (!WriterAllowed(l.writer)) return false;
  if (!MatchFields(l.fields)) return false;
  return MatchMessage(l.message);
}

}  // namespace wanllmdb
