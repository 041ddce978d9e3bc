// FieldPredicate: one test on the fields of structured lines (doc/api.md "Field filters"):
// `loss>1.5`, `rank=3`, `status!=ok`, `lr<=1e-3`, `loss` (the field exists), `!loss` (it does
// not), and `data.gpu=0` for a key inside an object. Parsed once per request; evaluated per line
// on LogLine::fields with FindField (core/json_text.h), so a filter over a million lines costs a
// walk of each line's fields and no allocation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wanllmdb {

// A request carries at most this many field predicates (all must hold).
inline constexpr size_t kMaxFieldPredicates = 8;

// Thread-safety: a value type; Matches is const and may run on many threads.
class FieldPredicate {
 public:
  enum class Op { kExists, kMissing, kEq, kNe, kLt, kLe, kGt, kGe };

  // kInvalidValue with a message saying what is wrong ("field filter 'loss>': no value").
  [[nodiscard]] static Result<FieldPredicate> Parse(std::string_view expr);

  // Whether a line whose fields are `fields` (a JSON object, or empty for none) passes.
  // Comparisons need the field: `rank!=3` does not pass a line without `rank`. Numbers compare
  // as numbers (a numeric string field too: "1.5"), everything else as text, where a string
  // field is its content and true/false/null their names.
  bool Matches(std::string_view fields) const;

  const std::vector<std::string>& path() const { return path_; }
  Op op() const { return op_; }
  const std::string& text() const { return text_; }  // the expression as given

 private:
  std::optional<std::string_view> Lookup(std::string_view fields) const;

  std::vector<std::string> path_;  // "data.gpu" → {"data", "gpu"}
  Op op_ = Op::kExists;
  std::string value_;
  std::optional<double> number_;  // value_ as a number, when it is one
  std::string text_;
};

}  // namespace wanllmdb
