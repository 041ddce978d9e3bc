#include "core/field_filter.h"

#include <charconv>
#include <cmath>

#include "core/json_text.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxExprBytes = 512;

Status Bad(std::string_view expr, std::string_view why) {
  return Status(Code::kInvalidValue,
                "field filter '" + std::string(expr) + "': " + std::string(why) +
                    " (want name, !name, or name followed by = != > >= < <= and a value)");
}

// from_chars, not strtod: no terminated copy, no locale, no allocation (this runs per line).
std::optional<double> AsNumber(std::string_view s) {
  if (!IsJsonNumber(s)) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

Result<FieldPredicate> FieldPredicate::Parse(std::string_view expr) {
  FieldPredicate p;
  p.text_ = std::string(expr);
  if (expr.size() > kMaxExprBytes)
    return Bad(expr.substr(0, 40), "longer than " + std::to_string(kMaxExprBytes) + " bytes");
  std::string_view name = expr;
  bool negated = false;
  if (!name.empty() && name[0] == '!') {
    negated = true;
    name.remove_prefix(1);
  }
  size_t op_at = name.find_first_of("=!<>");
  if (op_at != std::string_view::npos) {
    if (negated) return Bad(expr, "'!name' takes no value");
    std::string_view rest = name.substr(op_at);
    name = name.substr(0, op_at);
    struct Spelling {
      std::string_view text;
      Op op;
    };
    static constexpr Spelling kOps[] = {{"!=", Op::kNe}, {">=", Op::kGe}, {"<=", Op::kLe},
                                        {"==", Op::kEq}, {"=", Op::kEq},  {">", Op::kGt},
                                        {"<", Op::kLt}};
    bool found = false;
    for (const Spelling& s : kOps) {
      if (rest.substr(0, s.text.size()) == s.text) {
        p.op_ = s.op;
        p.value_ = std::string(rest.substr(s.text.size()));
        found = true;
        break;
      }
    }
    if (!found) return Bad(expr, "unknown operator");
    p.number_ = AsNumber(p.value_);
    const bool ordered =
        p.op_ == Op::kLt || p.op_ == Op::kLe || p.op_ == Op::kGt || p.op_ == Op::kGe;
    if (ordered && !p.number_) return Bad(expr, "< <= > >= need a number");
  } else {
    p.op_ = negated ? Op::kMissing : Op::kExists;
  }
  if (name.empty()) return Bad(expr, "no field name");
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    if (dot == start) return Bad(expr, "empty part in the field name");
    p.path_.emplace_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  return p;
}

std::optional<std::string_view> FieldPredicate::Lookup(std::string_view fields) const {
  std::optional<std::string_view> v = fields;
  for (const std::string& key : path_) {
    v = FindField(*v, key);
    if (!v) return std::nullopt;
  }
  return v;
}

bool FieldPredicate::Matches(std::string_view fields) const {
  if (fields.empty()) return op_ == Op::kMissing;
  std::optional<std::string_view> raw = Lookup(fields);
  if (op_ == Op::kExists) return raw.has_value();
  if (op_ == Op::kMissing) return !raw.has_value();
  if (!raw) return false;
  std::optional<double> number;
  std::optional<std::string> text;
  if (!raw->empty() && raw->front() == '"') {
    text = JsonStringValue(*raw);
    if (!text) return false;
    number = AsNumber(*text);
  } else {
    number = AsNumber(*raw);
  }
  if (number_ && number) {
    const double a = *number, b = *number_;
    switch (op_) {
      case Op::kEq:
        return a == b;
      case Op::kNe:
        return a != b;
      case Op::kLt:
        return a < b;
      case Op::kLe:
        return a <= b;
      case Op::kGt:
        return a > b;
      case Op::kGe:
        return a >= b;
      default:
        return false;
    }
  }
  if (op_ != Op::kEq && op_ != Op::kNe) return false;  // an ordering needs a number
  const bool equal = text ? *text == value_ : *raw == value_;
  return op_ == Op::kEq ? equal : !equal;
}

}  // namespace wanllmdb
