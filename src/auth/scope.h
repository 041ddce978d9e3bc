// Scopes: what a credential may do. Every route names the one it needs (server/router.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wanllmdb {

// A bit set. `admin` includes the other two: an admin key can do everything.
enum Scope : uint32_t {
  kScopeNone = 0,
  kScopeIngest = 1,  // create runs, append lines, progress, finish a run
  kScopeRead = 2,    // list, search, download, stream
  kScopeAdmin = 4,   // delete, clear, keys, retention
};
using ScopeSet = uint32_t;

inline constexpr ScopeSet kAllScopes = kScopeIngest | kScopeRead | kScopeAdmin;

// Whether `held` satisfies `needed` (admin satisfies everything).
inline bool ScopeAllows(ScopeSet held, Scope needed) {
  return needed == kScopeNone || (held & kScopeAdmin) || (held & needed);
}

std::string_view ScopeName(Scope s);
// "ingest,read" → bits; nullopt for an unknown name or an empty list.
std::optional<ScopeSet> ParseScopes(std::string_view list);
// Bits → "ingest,read" in a fixed order.
std::string FormatScopes(ScopeSet scopes);

}  // namespace wanllmdb
