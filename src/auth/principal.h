// Principal: who a request acts for, once authenticated (auth/authenticator.h).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.h"

namespace wanllmdb {

// Thread-safety: a value type.
struct Principal {
  bool anonymous = false;   // auth is off: every scope
  bool via_cookie = false;  // a browser session
  std::string key_id, key_name;
  ScopeSet scopes = 0;
  std::vector<std::string> projects;  // empty: every project

  bool AllowsProject(std::string_view project) const {
    return projects.empty() ||
           std::find(projects.begin(), projects.end(), project) != projects.end();
  }
};

}  // namespace wanllmdb
