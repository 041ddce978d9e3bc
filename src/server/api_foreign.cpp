// The other ingest protocols: OTLP/HTTP logs and the Loki push API. Decoding is in otlp_logs and
// loki_push; mapping, validation and the all-or-nothing store in foreign_ingest. Both refuse
// the whole request below --min-free-disk and over an ingest quota, with Retry-After.
#include <algorithm>

#include "core/time_util.h"
#include "server/api.h"
#include "server/body_codec.h"
#include "server/foreign_ingest.h"
#include "server/json_out.h"
#include "server/loki_push.h"
#include "server/metrics.h"
#include "server/otlp_logs.h"

namespace wanllmdb {
namespace {

// Below --min-free-disk, as for the batch API (api_logs.cpp): come back in 30 s.
constexpr int kDiskRetryAfterS = 30;

}  // namespace

void Api::AfterForeignAppend(const ForeignIngestResult& stored) {
  for (const auto& id : stored.run_ids) {
    Heard(id);
    StoredOutput(id, stored.accepted);
  }
  for (const auto& [id, kinds] : stored.new_problem_kinds) ProblemsFound(id, kinds);
}

ApiResponse OtlpError(const ApiRequest& req, const Status& status) {
  auto enc = OtlpEncodingOf(req.content_type);
  OtlpEncoding e = enc.ok() ? *enc : OtlpEncoding::kProtobuf;
  ApiResponse r;
  r.status = HttpStatusOf(status.code());
  // OTLP/HTTP clients retry only 429, 502, 503 and 504 and drop the data on any other code:
  // a full disk answers 503 here (with Retry-After), so exporters keep it and come back.
  if (status.code() == Code::kInsufficientStorage) r.status = 503;
  r.content_type = std::string(OtlpContentType(e));
  r.body = OtlpErrorBody(e, r.status, status.message());
  return r;
}

Result<ForeignIngestResult> Api::StoreForeign(ApiRequest& req, std::vector<ForeignRecord> records,
                                              int* retry_after_s) {
  ForeignIngestHooks hooks;
  hooks.allows_project = [&principal = req.principal](const std::string& project) {
    return principal.AllowsProject(project);
  };
  hooks.rules_for = [this](const std::string& run) { return ProblemRulesFor(run); };
  if (options_.quotas != nullptr) {
    hooks.admit = [this, retry_after_s](const std::vector<QuotaCharge>& charges) {
      return CheckQuotas(charges, retry_after_s);
    };
  }
  const int64_t body_bytes = static_cast<int64_t>(req.body.size());
  auto stored = StoreForeignRecords(store_, ingest_, std::move(records), hooks);
  if (!stored.ok()) return stored.status();
  if (options_.metrics)
    options_.metrics->RecordIngest(stored->accepted, stored->duplicates, body_bytes);
  AfterForeignAppend(*stored);
  return stored;
}

ApiResponse Api::PostOtlpLogs(ApiRequest& req) {
  auto enc = OtlpEncodingOf(req.content_type);
  if (!enc.ok()) return OtlpError(req, enc.status());
  int retry_after_s = 1;  // a 503 of the store: soon; a quota says its own
  Status refused = CheckDiskForIngest();
  if (!refused.ok()) retry_after_s = kDiskRetryAfterS;
  if (refused.ok()) {
    if (Status s = DecodeContentEncoding(req.content_encoding, &req.body); !s.ok())
      return OtlpError(req, s);
    auto records = DecodeOtlpLogs(req.body, *enc, NowMicros());
    if (!records.ok()) return OtlpError(req, records.status());
    auto stored = StoreForeign(req, std::move(*records), &retry_after_s);
    if (stored.ok()) {
      ApiResponse r;
      r.content_type = std::string(OtlpContentType(*enc));
      r.body = OtlpSuccessBody(*enc);
      return r;
    }
    refused = stored.status();
  }
  ApiResponse r = OtlpError(req, refused);
  if (r.status == 429 || r.status == 503)
    r.headers.emplace_back("Retry-After", std::to_string(std::max(1, retry_after_s)));
  return r;
}

ApiResponse Api::PostLokiPush(ApiRequest& req) {
  if (Status d = CheckDiskForIngest(); !d.ok()) return RetryLaterResponse(d, kDiskRetryAfterS);
  auto enc = LokiEncodingOf(req.content_type);
  if (!enc.ok()) return ErrorResponse(enc.status());
  if (Status s = DecodeContentEncoding(req.content_encoding, &req.body); !s.ok())
    return ErrorResponse(s);
  auto records = DecodeLokiPush(req.body, *enc);
  if (!records.ok()) return ErrorResponse(records.status());
  int retry_after_s = 1;
  auto stored = StoreForeign(req, std::move(*records), &retry_after_s);
  if (!stored.ok()) {
    if (stored.status().code() == Code::kTooManyRequests)
      return RetryLaterResponse(stored.status(), retry_after_s);
    return ErrorResponse(stored.status());
  }
  return NoContent();  // what Loki answers
}

}  // namespace wanllmdb
