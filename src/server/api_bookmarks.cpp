// GET/POST /runs/{id}/bookmarks, DELETE /runs/{id}/bookmarks/{bookmark_id} (doc/api.md
// "Bookmarks"): lines or ranges a reader marked with a note. Bookmarks are a reader's notes and
// never change the logs, so a read key may add and delete them.
#include <charconv>

#include "server/api.h"
#include "server/json_in.h"
#include "server/json_out.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// A note is a sentence or a paragraph, not a document.
constexpr size_t kMaxNoteBytes = 2000;
// A run keeps at most this many bookmarks (every one is listed with the run's viewer).
constexpr size_t kMaxBookmarksPerRun = 1000;
constexpr int64_t kMaxLine = (int64_t{1} << 53) - 1;

Result<int64_t> LineField(element obj, const char* key, bool required) {
  element v;
  if (obj.at_key(key).get(v) || v.type() == element_type::NULL_VALUE) {
    if (required)
      return Status(Code::kBadRequest, std::string(key) + ": is required (a line number)");
    return int64_t{0};
  }
  int64_t n = 0;
  if ((v.type() != element_type::INT64 && v.type() != element_type::UINT64) ||
      v.get_int64().get(n) || n < 1 || n > kMaxLine) {
    return Status(Code::kInvalidValue,
                  std::string(key) + ": must be a line number from 1 to 2^53-1");
  }
  return n;
}

void BookmarkJson(JsonOut& j, const Bookmark& b) {
  j.BeginObject();
  j.Key("id").Int(b.id);
  j.Key("run_id").String(b.run_id);
  j.Key("line").Int(b.first_line);
  j.Key("last_line").Int(b.last_line);
  j.Key("note").String(b.note);
  j.Key("created_by").String(b.created_by);
  j.Key("created_at").Timestamp(b.created_at);
  j.EndObject();
}

}  // namespace

ApiResponse Api::ListBookmarks(const std::string& id) {
  auto list = store_.ListBookmarks(id);
  if (!list.ok()) return ErrorResponse(list.status());
  JsonOut j;
  j.BeginObject().Key("bookmarks").BeginArray();
  for (const Bookmark& b : *list) BookmarkJson(j, b);
  j.EndArray().EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::AddBookmark(const std::string& id, ApiRequest& req) {
  auto obj = ParseJsonObjectBody(req.body);
  if (!obj.ok()) return ErrorResponse(obj.status());
  auto line = LineField(*obj, "line", true);
  if (!line.ok()) return ErrorResponse(line.status());
  auto last = LineField(*obj, "last_line", false);
  if (!last.ok()) return ErrorResponse(last.status());
  auto note = OptStringField(*obj, "note", kMaxNoteBytes);
  if (!note.ok()) return ErrorResponse(note.status());
  Bookmark b;
  b.run_id = id;
  b.first_line = *line;
  b.last_line = *last == 0 ? *line : *last;
  if (b.last_line < b.first_line) {
    return ErrorResponse(Status(Code::kInvalidValue, "last_line: must not be before line"));
  }
  b.note = std::move(*note);
  b.created_by = req.principal.key_name;
  // The lines must exist now: a bookmark of nothing would be a permalink to nothing.
  auto summary = store_.Summary(id);
  if (!summary.ok()) return ErrorResponse(summary.status());
  if (summary->total == 0 || b.first_line < summary->first_line ||
      b.last_line > summary->last_line) {
    return ErrorResponse(Status(
        Code::kInvalidValue, summary->total == 0 ? "this run has no lines to bookmark"
                                                 : "lines " + std::to_string(summary->first_line) +
                                                       " to " + std::to_string(summary->last_line) +
                                                       " exist; a bookmark must be among them"));
  }
  auto stored = store_.AddBookmark(b, kMaxBookmarksPerRun);
  if (!stored.ok()) return ErrorResponse(stored.status());
  JsonOut j;
  BookmarkJson(j, *stored);
  return JsonResponse(201, j.Take());
}

ApiResponse Api::DeleteBookmark(const std::string& id, const std::string& bookmark_id) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(bookmark_id.data(), bookmark_id.data() + bookmark_id.size(), n);
  if (ec != std::errc() || p != bookmark_id.data() + bookmark_id.size() || n < 1) {
    return ErrorResponse(
        Status(Code::kNotFound, "no bookmark '" + bookmark_id.substr(0, 40) + "'"));
  }
  Status s = store_.DeleteBookmark(id, n);
  if (!s.ok()) return ErrorResponse(s);
  return NoContent();
}

}  // namespace wanllmdb
