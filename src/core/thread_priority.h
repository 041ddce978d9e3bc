// CPU priorities of the server's threads, in one place. On few cores the scheduler
// must favour, in this order: the network threads (reading requests, /health, WebSocket pings;
// nice 0), the store's writer thread (nice 0: it commits what ingest acknowledges), the worker
// pool (ingest and small reads), the reader pool and its scan helpers (searches, downloads), and
// last the background work that nobody waits for: merges and retention sweeps. Those recompress
// what ingest already stored, at zstd level 9 (about 7× the CPU of ingest's level 1), and would
// otherwise take half the CPU away from a busy ingest; at the lowest priority they use what is
// left over and catch up when ingest pauses. A thread a thread starts inherits its priority.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

namespace wanllmdb {

inline constexpr int kWorkerNice = 10;
inline constexpr int kReaderNice = 15;
inline constexpr int kBackgroundNice = 19;

// Sets the calling thread's nice value (Linux: setpriority on a thread id affects that thread
// only). Best effort: raising the value needs no privilege, and a failure changes nothing else.
inline void SetThisThreadNice(int nice) {
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
}

}  // namespace wanllmdb
