// The other ingest protocols: OTLP/HTTP logs and the Loki push API. Decoding is in otlp_logs and
// loki_push; mapping, validation and the all-or-nothing store in foreign_ingest.
#include "core/time_util.h"
#include "server/api.h"
#include "server/body_codec.h"
#include "server/json_out.h"
#include "server/loki_push.h"
#include "server/otlp_logs.h"

namespace wanllmdb {
namespace {

std::function<bool(const std::string&)> AllowsProject(const ApiRequest& req) {
  return [&principal = req.principal](const std::string& project) {
    return principal.AllowsProject(project);
  };
}

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
  r.content_type = std::string(OtlpContentType(e));
  r.body = OtlpErrorBody(e, r.status, status.message());
  return r;
}

ApiResponse Api::PostOtlpLogs(ApiRequest& req) {
  auto enc = OtlpEncodingOf(req.content_type);
  if (!enc.ok()) return OtlpError(req, enc.status());
  if (Status s = DecodeContentEncoding(req.content_encoding, &req.body); !s.ok())
    return OtlpError(req, s);
  auto records = DecodeOtlpLogs(req.body, *enc, NowMicros());
  if (!records.ok()) return OtlpError(req, records.status());
  auto stored = StoreForeignRecords(store_, ingest_, std::move(*records), AllowsProject(req),
                                    [this](const std::string& run) { return ProblemRulesFor(run); });
  if (!stored.ok()) return OtlpError(req, stored.status());
  AfterForeignAppend(*stored);
  ApiResponse r;
  r.content_type = std::string(OtlpContentType(*enc));
  r.body = OtlpSuccessBody(*enc);
  return r;
}

ApiResponse Api::PostLokiPush(ApiRequest& req) {
  auto enc = LokiEncodingOf(req.content_type);
  if (!enc.ok()) return ErrorResponse(enc.status());
  if (Status s = DecodeContentEncoding(req.content_encoding, &req.body); !s.ok())
    return ErrorResponse(s);
  auto records = DecodeLokiPush(req.body, *enc);
  if (!records.ok()) return ErrorResponse(records.status());
  auto stored = StoreForeignRecords(store_, ingest_, std::move(*records), AllowsProject(req),
                                    [this](const std::string& run) { return ProblemRulesFor(run); });
  if (!stored.ok()) return ErrorResponse(stored.status());
  AfterForeignAppend(*stored);
  return NoContent();  // what Loki answers
}

}  // namespace wanllmdb
