// Sync markers: how the SDK keeps its own lines (logging records, log_message, tracebacks) in
// their place among the prints, when they travel to the agent on another channel (doc/capture.md
// "Ordering").
//
// The SDK sends a control message with "sync": N, then writes the marker for N into the output
// channels (fds 1 and 2). Everything printed before the marker came before the message; the agent
// stores the message once it has read up to marker N on every marked channel. The marker is an
// APC string (`ESC _ ... ESC \`), which terminals ignore; the agent strips it before the tee, so
// no one sees it:
//
//   marker := ESC "_wanllmdb-sync:" digits ESC "\"
//
// Unlike "the channel is empty" (FIONREAD), this holds on a pty too, where bytes already written
// may still sit in the kernel's flip buffer, unreadable and uncounted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wanllmdb {

struct SyncMarker {
  static constexpr size_t kNone = static_cast<size_t>(-1);
  size_t begin = kNone;  // where the marker starts in the scanned text; kNone: no marker
  size_t end = 0;        // just past it
  int64_t id = 0;
};

// The first complete marker in `data`.
SyncMarker FindSyncMarker(std::string_view data);
// Where a marker that `data` ends in the middle of starts (data.size() when it does not): those
// bytes wait for the next read before they are passed on.
size_t PartialSyncMarkerStart(std::string_view data);

}  // namespace wanllmdb
