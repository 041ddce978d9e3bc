// Three shapes are recognised, each only when the whole line has it (a line that merely contains
// "a=b" stays text):
//   JSON object       {"msg": "saved", "step": 100, "loss": 1.5}      (structlog, zap, pino,
//   bunyan) Python dict repr  {'loss': 2.1, 'grad_norm': 1.3, 'epoch': 0.01}  (Hugging Face
//   Trainer) logfmt            step=100 loss=1.5 msg="eval done"               (logfmt, Go slog, ML
//   scripts)
// The first byte decides which parser is tried, so plain lines cost one comparison or a scan of
// their first word.
#include "server/structured_line.h"

#include <cmath>
#include <cstdlib>

#include "core/json_text.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum class Role { kField, kMessage, kLevel, kTime };

Role RoleOf(std::string_view key) {
  if (key == "msg" || key == "message") return Role::kMessage;
  if (key == "level" || key == "severity" || key == "lvl" || key == "levelname")
    return Role::kLevel;
  if (key == "time" || key == "ts" || key == "timestamp" || key == "@timestamp") return Role::kTime;
  return Role::kField;
}

bool ValidKey(std::string_view key) {
  return !key.empty() && key.size() <= kMaxFieldKeyBytes;
}

// Epoch numbers come in seconds (zap, loguru), milliseconds (pino, bunyan), microseconds or
// nanoseconds: told apart by magnitude, as years 1973..2286 in seconds.
std::optional<int64_t> EpochMicros(double v) {
  if (!std::isfinite(v) || v <= 0) return std::nullopt;
  double us;
  if (v < 1e11) {
    us = v * 1e6;
  } else if (v < 1e14) {
    us = v * 1e3;
  } else if (v < 1e17) {
    us = v;
  } else {
    us = v / 1e3;
  }
  if (us < 1e14 || us > 253402300799e6) return std::nullopt;
  return static_cast<int64_t>(std::llround(us));
}

std::optional<NamedLevel> LevelOfNumber(double v) {
  // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
  if (v == 10) return NamedLevel{Level::kDebug, "TRACE"};
  if (v == 20) return NamedLevel{Level::kDebug, {}};
  if (v == 30) return NamedLevel{Level::kInfo, {}};
  if (v == 40) return NamedLevel{Level::kWarning, {}};
  if (v == 50) return NamedLevel{Level::kError, {}};
  if (v == 60) return NamedLevel{Level::kCritical, "FATAL"};
  return std::nullopt;
}

// Appends `"key":value` (with the comma) to a compact object being built in *out ("{" so far).
void AppendMember(std::string* out, std::string_view key, std::string_view raw_value) {
  if (out->size() > 1) out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
  out->append(raw_value);
}

// Handles one member of a parsed line; false when it is a plain field (the caller adds it).
bool TakeColumn(std::string_view key, std::string_view text_value, std::optional<double> number,
                StructuredLine* line) {
  switch (RoleOf(key)) {
    case Role::kMessage:
      return true;
    case Role::kLevel:
      if (!line->level) {
        line->level = number ? LevelOfNumber(*number) : ParseAnyLevel(text_value);
        if (line->level) return true;
      }
      return false;
    case Role::kTime:
      if (!line->timestamp_us) {
        line->timestamp_us = number ? EpochMicros(*number) : ParseIsoMicros(text_value);
        if (line->timestamp_us) return true;
      }
      return false;
    case Role::kField:
      return false;
  }
  return false;
}

// A JSON number every parser reads as one: "1e888" is JSON grammar but no double (simdjson
// refuses it, others read infinity), and an integer past 64 bits is refused by simdjson, so
// both stay text. Found by the fuzzer.
std::optional<double> NumberOf(std::string_view s) {
  if (!IsJsonNumber(s)) return std::nullopt;
  const bool integer = s.find_first_of(".eE") == std::string_view::npos;
  if (integer && s.size() - (s[0] == '-') > 18) return std::nullopt;
  std::string copy(s);
  double v = std::strtod(copy.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<StructuredLine> FromJson(std::string_view message) {
  thread_local simdjson::dom::parser parser;
  element root;
  if (parser.parse(message.data(), message.size()).get(root) || root.type() != element_type::OBJECT)
    return std::nullopt;
  simdjson::dom::object object;
  if (root.get_object().get(object)) return std::nullopt;
  StructuredLine line;
  std::string fields = "{";
  for (auto [key, value] : object) {
    if (!ValidKey(key)) return std::nullopt;
    std::string_view text;
    std::optional<double> number;
    if (value.type() == element_type::STRING) {
      text = value.get_string().value_unsafe();
    } else if (value.is_number()) {
      number = value.get_double().value_unsafe();
    }
    if ((value.type() == element_type::STRING || number) && TakeColumn(key, text, number, &line))
      continue;
    AppendMember(&fields, key, simdjson::minify(value));
    if (fields.size() > kMaxFieldsBytes) return std::nullopt;
  }
  if (fields.size() > 1) line.fields = fields + "}";
  return line;
}

// A Python literal string ('...' or "..."), as repr() writes it: the escapes \\ \' \" \n \t \r.
std::optional<std::string> PyString(std::string_view s, size_t* i) {
  const char quote = s[*i];
  std::string out;
  for (size_t k = *i + 1; k < s.size(); ++k) {
    char c = s[k];
    if (c == quote) {
      *i = k + 1;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++k >= s.size()) return std::nullopt;
    switch (s[k]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '\\':
      case '\'':
      case '"':
        out.push_back(s[k]);
        break;
      default:
        return std::nullopt;  // \x.., \u....: rare in metrics, left as text
    }
  }
  return std::nullopt;
}

// {'loss': 2.1, 'epoch': 0.01, 'name': 'x', 'ok': True, 'best': None}: flat dicts of scalars.
std::optional<StructuredLine> FromPyDict(std::string_view s) {
  StructuredLine line;
  std::string fields = "{";
  size_t i = 1;
  auto space = [&] {
    while (i < s.size() && s[i] == ' ') ++i;
  };
  space();
  if (i < s.size() && s[i] == '}') return std::nullopt;
  while (i < s.size()) {
    if (s[i] != '\'' && s[i] != '"') return std::nullopt;
    auto key = PyString(s, &i);
    if (!key || !ValidKey(*key)) return std::nullopt;
    space();
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    space();
    if (i >= s.size()) return std::nullopt;
    std::string raw;
    std::string text;
    std::optional<double> number;
    if (s[i] == '\'' || s[i] == '"') {
      auto v = PyString(s, &i);
      if (!v) return std::nullopt;
      text = *v;
      AppendJsonString(&raw, text);
    } else {
      size_t start = i;
      while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ') ++i;
      std::string_view token = s.substr(start, i - start);
      if (token == "True") {
        raw = "true";
      } else if (token == "False") {
        raw = "false";
      } else if (token == "None") {
        raw = "null";
      } else if (token == "nan" || token == "inf" || token == "-inf") {
        AppendJsonString(&raw, token);  // not JSON numbers: kept as text
      } else if ((number = NumberOf(token))) {
        raw = std::string(token);
      } else {
        return std::nullopt;
      }
    }
    if (!TakeColumn(*key, text, number, &line)) {
      AppendMember(&fields, *key, raw);
      if (fields.size() > kMaxFieldsBytes) return std::nullopt;
    }
    space();
    if (i < s.size() && s[i] == ',') {
      ++i;
      space();
      continue;
    }
    if (i < s.size() && s[i] == '}') {
      ++i;
      space();
      if (i != s.size()) return std::nullopt;
      if (fields.size() > 1) line.fields = fields + "}";
      return line;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

bool LogfmtKeyByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/' || c == '@';
}

// key=value key="quoted \" value" ...: every word a pair, at least two pairs.
std::optional<StructuredLine> FromLogfmt(std::string_view s) {
  StructuredLine line;
  std::string fields = "{";
  size_t i = 0, pairs = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) break;
    size_t key_start = i;
    while (i < s.size() && LogfmtKeyByte(s[i])) ++i;
    std::string_view key = s.substr(key_start, i - key_start);
    if (key.empty() || i >= s.size() || s[i] != '=' || !ValidKey(key)) return std::nullopt;
    ++i;
    std::string text;
    std::string raw;
    std::optional<double> number;
    if (i < s.size() && s[i] == '"') {
      bool closed = false;
      for (++i; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          text.push_back(s[++i]);
        } else if (s[i] == '"') {
          ++i;
          closed = true;
          break;
        } else {
          text.push_back(s[i]);
        }
      }
      if (!closed || (i < s.size() && s[i] != ' ')) return std::nullopt;
      AppendJsonString(&raw, text);
    } else {
      size_t start = i;
      while (i < s.size() && s[i] != ' ') ++i;
      text = std::string(s.substr(start, i - start));
      if (text.find('"') != std::string::npos) return std::nullopt;
      if ((number = NumberOf(text))) {
        raw = text;
      } else if (text == "true" || text == "false") {
        raw = text;
      } else {
        AppendJsonString(&raw, text);
      }
    }
    ++pairs;
    if (!TakeColumn(key, text, number, &line)) {
      AppendMember(&fields, key, raw);
      if (fields.size() > kMaxFieldsBytes) return std::nullopt;
    }
  }
  if (pairs < 2) return std::nullopt;
  if (fields.size() > 1) line.fields = fields + "}";
  return line;
}

}  // namespace

std::optional<StructuredLine> ParseStructuredLine(std::string_view message) {
  if (message.size() < 3 || message.size() > kMaxFieldsBytes * 4) return std::nullopt;
  // Trailing spaces and a carriage return are the terminal's, not the object's.
  while (!message.empty() && (message.back() == ' ' || message.back() == '\r'))
    message.remove_suffix(1);
  if (message.size() < 3) return std::nullopt;
  const char first = message.front();
  if (first == '{') {
    if (message.back() != '}') return std::nullopt;
    if (message[1] == '"' || message[1] == ' ' || message[1] == '}') {
      if (auto json = FromJson(message)) return json;
    }
    if (message[1] == '\'') return FromPyDict(message);
    return std::nullopt;
  }
  if (!LogfmtKeyByte(first)) return std::nullopt;
  // The first word must be a pair: most text lines fail here, within their first word.
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '=') return i == 0 ? std::nullopt : FromLogfmt(message);
    if (!LogfmtKeyByte(message[i])) return std::nullopt;
  }
  return std::nullopt;
}

Result<std::string> CompactFields(element fields, const std::string& where) {
  if (fields.type() != element_type::OBJECT) {
    return Status(Code::kInvalidValue, where + ": must be an object of fields");
  }
  simdjson::dom::object object;
  if (fields.get_object().get(object)) {
    return Status(Code::kInvalidValue, where + ": must be an object of fields");
  }
  std::string out = "{";
  for (auto [key, value] : object) {
    if (!ValidKey(key)) {
      return Status(Code::kInvalidValue, where + ": a field name is 1 to " +
                                             std::to_string(kMaxFieldKeyBytes) + " bytes");
    }
    AppendMember(&out, key, simdjson::minify(value));
    if (out.size() > kMaxFieldsBytes) {
      return Status(Code::kTooLarge,
                    where + ": fields are at most " + std::to_string(kMaxFieldsBytes) + " bytes");
    }
  }
  if (out.size() == 1) return std::string();
  out.push_back('}');
  return out;
}

}  // namespace wanllmdb
