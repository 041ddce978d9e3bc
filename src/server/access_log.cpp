#include "server/access_log.h"

#include <cstdio>

#include "core/time_util.h"
#include "server/json_out.h"
#include "server/request_guard.h"

namespace wanllmdb {

void AccessLog::Request(const RequestRecord& r) {
  if (!requests_) return;
  const std::string target = RedactTarget(r.target);
  if (format_ == LogFormat::kText) {
    char buf[96];
    if (r.websocket) {
      std::snprintf(buf, sizeof buf, " 101 websocket");
    } else {
      std::snprintf(buf, sizeof buf, " %d %lldB %.1fms", r.status, static_cast<long long>(r.bytes),
                    static_cast<double>(r.duration_us) / 1000.0);
    }
    return WriteLine(std::string(r.method) + " " + target + buf);
  }
  JsonOut j;
  j.BeginObject();
  j.Key("time").Timestamp(NowMicros());
  j.Key("level").String("info");
  j.Key("msg").String(r.websocket ? "websocket" : "request");
  j.Key("method").String(r.method);
  j.Key("route").String(r.route);
  j.Key("target").String(target);
  j.Key("status").Int(r.websocket ? 101 : r.status);
  if (!r.websocket) {
    j.Key("bytes").Int(r.bytes);
    j.Key("duration_us").Int(r.duration_us);
  }
  j.Key("client").String(r.client);
  j.EndObject();
  WriteLine(j.Take());
}

void AccessLog::Event(std::string_view level, std::string_view message) {
  if (format_ == LogFormat::kText) return WriteLine(std::string(message));
  JsonOut j;
  j.BeginObject();
  j.Key("time").Timestamp(NowMicros());
  j.Key("level").String(level);
  j.Key("msg").String(message);
  j.EndObject();
  WriteLine(j.Take());
}

void AccessLog::WriteLine(const std::string& line) {
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
}

}  // namespace wanllmdb
