// Structured lines (src/server/structured_line.*) and field filters (src/core/field_filter.*,
// core/json_text.*): any message parses without crashing, and the fields it yields are one valid
// JSON object within the size limit, every key of which FindField finds; any filter expression
// parses or is refused, and evaluating one on any bytes (a corrupt chunk's fields) is safe.
//
// Input: the filter expression (a FuzzedDataProvider string), then the message.
#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>

#include <cstdint>
#include <string>

#include "core/field_filter.h"
#include "core/json_text.h"
#include "core/text.h"
#include "fuzz_check.h"
#include "server/structured_line.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string expr = in.ConsumeRandomLengthString(96);
  // Ingest parses messages after UTF-8 repair.
  std::string message = SanitizeUtf8(in.ConsumeRemainingBytesAsString());

  auto parsed = ParseStructuredLine(message);
  std::string fields;
  if (parsed && !parsed->fields.empty()) {
    fields = parsed->fields;
    FUZZ_CHECK(fields.size() <= kMaxFieldsBytes + 1);
    static simdjson::dom::parser parser;
    simdjson::dom::element root;
    FUZZ_CHECK(!parser.parse(fields).get(root));
    simdjson::dom::object object;
    FUZZ_CHECK(!root.get_object().get(object));
    for (auto [key, value] : object) {
      FUZZ_CHECK(!key.empty() && key.size() <= kMaxFieldKeyBytes);
      FUZZ_CHECK(FindField(fields, key).has_value());
    }
  }
  auto predicate = FieldPredicate::Parse(expr);
  if (predicate.ok()) {
    (void)predicate->Matches(fields);
    (void)predicate->Matches(message);  // not JSON at all: must be safe too
  } else {
    FUZZ_CHECK(predicate.status().code() == Code::kInvalidValue);
  }
  return 0;
}
