#include "store/context_query.h"

#include <deque>
#include <functional>
#include <vector>

namespace wanllmdb {

// The grep -C state machine over lines in scan order (ascending or descending, it is symmetric):
// non-matching lines wait in a buffer of N; a match releases the buffer (context before it),
// itself, then the next N lines (context after it).
class ContextQuery::Window {
 public:
  using Emit = std::function<bool(const LineView& v, LogLine* copy, bool is_context)>;
  Window(const LineMatcher& full, int n, Emit emit) : full_(full), n_(n), emit_(std::move(emit)) {}

  // False when `emit` asked to stop.
  bool Feed(const LineView& v) {
    if (full_.MatchMessage(v.message)) {
      while (!buf_.empty()) {
        LogLine l = std::move(buf_.front());
        buf_.pop_front();
        if (!emit_(LineView::Of(l), &l, true)) return false;
      }
      after_ = n_;
      return emit_(v, nullptr, false);
    }
    if (after_ > 0) {
      --after_;
      return emit_(v, nullptr, true);
    }
    if (n_ == 0) return true;
    buf_.push_back(ToLogLine(v));
    if (static_cast<int>(buf_.size()) > n_) buf_.pop_front();
    return true;
  }

 private:
  const LineMatcher& full_;
  const int n_;
  Emit emit_;
  std::deque<LogLine> buf_;
  int after_ = 0;
};

Result<ListResult> ContextQuery::List(const std::string& run_id, const ListRequest& r) {
  ListResult out;
  const int64_t from = r.after_line ? *r.after_line + 1 : 1;
  const int64_t to = r.before_line ? *r.before_line - 1 : INT64_MAX;
  if (from > to) return out;
  // Rows inside [from, to] only; the lines just outside still decide what is context.
  auto inside = [&](int64_t line) { return line >= from && line <= to; };
  bool stopped = false;
  Window w(full_, context_, [&](const LineView& v, LogLine* copy, bool is_context) {
    if (!inside(v.line_number)) return true;
    if (static_cast<int>(out.lines.size()) == r.limit) {
      out.has_more = true;
      stopped = true;
      return false;
    }
    out.lines.push_back(copy ? std::move(*copy) : ToLogLine(v));
    out.context.push_back(is_context ? 1 : 0);
    return true;
  });
  // The N lines before the range (in scan order) may hold matches whose context reaches into it,
  // or be context of matches inside it.
  std::vector<LogLine> lead;
  if (context_ > 0) {
    const int64_t lo = r.descending ? (to == INT64_MAX ? INT64_MAX : to + 1) : 1;
    const int64_t hi = r.descending ? INT64_MAX : from - 1;
    if (lo <= hi) {
      Status s = engine_.Scan(run_id, meta_, lo, hi, !r.descending, [&](const LineView& v) {
        lead.push_back(ToLogLine(v));
        return static_cast<int>(lead.size()) < context_;
      });
      if (!s.ok()) return s;
    }
  }
  for (auto it = lead.rbegin(); it != lead.rend(); ++it) {
    w.Feed(LineView::Of(*it));
  }
  // Rows are only lines inside the range, so nothing past it needs reading.
  Status s = engine_.Scan(run_id, meta_, from, to, r.descending,
                          [&](const LineView& v) { return w.Feed(v) && !stopped; });
  if (!s.ok()) return s;
  return out;
}

Status ContextQuery::Locate(const std::string& run_id, int64_t line, int64_t* index,
                            int64_t* total) {
  *index = 0;
  *total = 0;
  Window w(full_, context_, [&](const LineView& v, LogLine*, bool) {
    ++*total;
    if (v.line_number < line) ++*index;
    return true;
  });
  return engine_.Scan(run_id, meta_, 1, INT64_MAX, false,
                      [&](const LineView& v) { return w.Feed(v); });
}

}  // namespace wanllmdb
