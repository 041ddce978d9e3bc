// LiveFeed: what the live bus says, applied to this node's hub (DESIGN §4). Local commits carry
// their lines; a commit from another node says only "lines up to N exist", so the feed reads
// the new lines from the store once per run (on its own thread, never the bus's) and hands
// them to the hub as one batch that every viewer of the run shares. After the bus lost
// messages (kResync) it re-reads each watched run, so viewers catch up from their cursors.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "store/live_bus.h"
#include "store/log_store.h"

namespace wanllmdb {

class LiveHub;

// Thread-safety: OnMessage is thread-safe; one fetch thread, stopped by the destructor.
class LiveFeed {
 public:
  LiveFeed(LiveHub& hub, LogStore& store);
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  void OnMessage(const BusMessage& m);

  // A remote commit of more new lines than this is not read here: viewers page it in themselves.
  static constexpr int64_t kMaxFetchLines = 20000;

 private:
  void FetchLoop();
  void Fetch(const std::string& run_id, int64_t last_line);
  void Resync();

  LiveHub& hub_;
  LogStore& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int64_t> pending_;  // run → highest line announced. Guarded by mu_
  bool resync_ = false;                     // Guarded by mu_
  bool stopping_ = false;                   // Guarded by mu_
  std::thread thread_;
};

}  // namespace wanllmdb
