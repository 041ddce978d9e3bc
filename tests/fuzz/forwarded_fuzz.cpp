// X-Forwarded-For / X-Forwarded-Proto (src/server/forwarded.*): whatever the headers say, the
// client address is the peer itself or a canonical IP address taken from X-Forwarded-For, and
// only a trusted peer changes anything.
//
// Input: X-Forwarded-For, then X-Forwarded-Proto (FuzzedDataProvider strings).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "server/forwarded.h"

using namespace wanllmdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TrustedProxies proxies = *TrustedProxies::Parse({"127.0.0.1", "::1"});
  FuzzedDataProvider in(data, size);
  std::string forwarded_for = in.ConsumeRandomLengthString(512);
  std::string proto = in.ConsumeRemainingBytesAsString();

  std::string client = "127.0.0.1";
  bool tls = false;
  proxies.Apply("127.0.0.1", forwarded_for, proto, &client, &tls);
  FUZZ_CHECK(client == "127.0.0.1" || CanonicalAddress(client) == client);

  std::string stranger = "203.0.113.7";
  bool stranger_tls = false;
  proxies.Apply(stranger, forwarded_for, proto, &stranger, &stranger_tls);
  FUZZ_CHECK(stranger == "203.0.113.7" && !stranger_tls);  // an untrusted peer changes nothing
  return 0;
}
