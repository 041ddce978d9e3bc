// The other ingest protocols' decoders (src/server/otlp_logs.*, loki_push.*, body_codec.*): any
// body either fails with a status the endpoint can answer (400, 413, 415) or yields at most
// kMaxForeignRecords records, each routed by values the attribute rules accepted. The body codecs
// never inflate past their bound.
//
// Input: one byte choosing the decoder (low 3 bits: 0 OTLP protobuf, 1 OTLP JSON, 2 Loki JSON,
// 3 Loki snappy protobuf, 4 gzip, 5 snappy, 6 a Loki label set, 7 OTLP protobuf through gzip),
// then the body.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "server/body_codec.h"
#include "server/foreign_ingest.h"
#include "server/loki_push.h"
#include "server/otlp_logs.h"

using namespace wanllmdb;

namespace {

constexpr size_t kSmallBound = 1 << 20;  // the codecs' bound here: a fuzz input is small

bool AnswerableError(const Status& s) {
  Code c = s.code();
  return !s.message().empty() &&
         (c == Code::kBadRequest || c == Code::kTooLarge || c == Code::kUnsupportedMediaType ||
          c == Code::kInvalidValue || c == Code::kMalformedJson);
}

void CheckRecords(const Result<std::vector<ForeignRecord>>& r) {
  if (!r.ok()) {
    FUZZ_CHECK(AnswerableError(r.status()));
    return;
  }
  FUZZ_CHECK(r->size() <= kMaxForeignRecords);
  for (const ForeignRecord& rec : *r) {
    FUZZ_CHECK(!rec.routing.Writer().empty());
    FUZZ_CHECK(rec.line.seq >= -1);
    if (rec.routing.level()) FUZZ_CHECK(static_cast<int>(*rec.routing.level()) < kLevelCount);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] & 7;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 0:
      CheckRecords(DecodeOtlpLogs(body, OtlpEncoding::kProtobuf, 1));
      break;
    case 1:
      CheckRecords(DecodeOtlpLogs(body, OtlpEncoding::kJson, 1));
      break;
    case 2:
      CheckRecords(DecodeLokiPush(body, LokiEncoding::kJson));
      break;
    case 3:
      CheckRecords(DecodeLokiPush(body, LokiEncoding::kProtobuf));
      break;
    case 4:
    case 5: {
      Result<std::string> r =
          mode == 4 ? GunzipBody(body, kSmallBound) : UnsnappyBody(body, kSmallBound);
      if (r.ok()) {
        FUZZ_CHECK(r->size() <= kSmallBound);
      } else {
        FUZZ_CHECK(AnswerableError(r.status()));
      }
      break;
    }
    case 6: {
      std::vector<std::pair<std::string, std::string>> labels;
      Status s = ParseLokiLabels(body, &labels);
      if (!s.ok()) FUZZ_CHECK(AnswerableError(s));
      for (const auto& [name, value] : labels) FUZZ_CHECK(!name.empty());
      break;
    }
    default: {
      Result<std::string> inflated = GunzipBody(body, kSmallBound);
      if (inflated.ok()) CheckRecords(DecodeOtlpLogs(*inflated, OtlpEncoding::kProtobuf, 1));
      break;
    }
  }
  return 0;
}
