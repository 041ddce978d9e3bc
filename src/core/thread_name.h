// Names of the server's and the capture's threads, so that `top -H`, `ps -L`, perf, gdb and
// /proc/<pid>/task/*/comm tell a worker from a scan helper or the merger. Without them every
// thread reads "wanllmdb" and a profile or a stuck thread cannot be placed. The process's main
// thread keeps the program's name: `ps`, `pgrep wanllmdb` and `pkill` look at that one.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <thread>

namespace wanllmdb {

// Names thread `t`. Linux keeps at most 15 bytes of a name (and refuses longer ones), so the
// length is checked where the name is written. Best effort: a failure changes nothing else.
template <size_t N>
inline void NamePthread(pthread_t t, const char (&name)[N]) {
  static_assert(N <= 16, "Linux thread names hold at most 15 bytes");
  (void)pthread_setname_np(t, name);
}

// Names `t` from the thread that started it, right after starting it: the name is in place
// before the constructor that started it returns, however late the thread itself first runs.
template <size_t N>
inline void NameThread(std::thread& t, const char (&name)[N]) {
  NamePthread(t.native_handle(), name);
}

// Names the calling thread (for threads the code does not start itself: a pool's).
template <size_t N>
inline void SetThisThreadName(const char (&name)[N]) {
  NamePthread(pthread_self(), name);
}

}  // namespace wanllmdb
