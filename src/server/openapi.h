// The OpenAPI 3.1 description of every route (GET /api/v1/openapi.json). The document is
// src/server/openapi.json, compiled into the binary; tests/api/test_openapi.py keeps it true to
// the router and validates it.
#pragma once

#include <string_view>

namespace wanllmdb {

std::string_view OpenApiJson();

}  // namespace wanllmdb
