// Walks the route table (Api::Routes) and checks that authorization is exactly what each row
// says: no credentials → 401, a key without the row's scope → 403, the right key → neither.
// A route added without thinking about its scope fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "auth/authenticator.h"
#include "server/api.h"
#include "server/live_hub.h"
#include "store/live_bus.h"
#include "store/log_store.h"

namespace wanllmdb {
namespace {

class RouteAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wanllmdb-route-auth-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string url = "sqlite:" + (dir_ / "logs.db").string();
    auto store = OpenStore(url);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto keys = OpenKeyStore(url);
    ASSERT_TRUE(keys.ok()) << keys.status().message();
    keys_ = std::move(*keys);
    AuthOptions options;
    options.max_failures = 1 << 20;  // this test fails on purpose, a lot
    auth_ = std::make_unique<Authenticator>(keys_.get(), options);
    for (auto [name, scope] :
         {std::pair{"ingest", kScopeIngest}, {"read", kScopeRead}, {"admin", kScopeAdmin}}) {
      std::string token;
      ASSERT_TRUE(auth_->CreateKey(name, scope, {}, &token).ok());
      tokens_[scope] = token;
    }
    bus_ = NewInProcessBus();
    api_ = std::make_unique<Api>(*store_, hub_, *bus_, *auth_, ApiOptions{});
    bool created = false;
    NewRun run;
    run.id = "0f0f0f0f-0000-4000-8000-000000000001";
    run.project = "p";
    ASSERT_TRUE(store_->CreateRun(run, &created).ok());
  }
  void TearDown() override {
    api_.reset();
    if (bus_) bus_->Close();
    if (store_) store_->Close();
    std::filesystem::remove_all(dir_);
  }

  // The status of `route` for a request carrying `token` ("" for none).
  int StatusOf(const Route& route, const std::string& token) {
    ApiRequest req;
    req.method = route.method;
    req.path = route.pattern;
    req.root_path = route.root;
    for (auto [param, value] : {std::pair{"{run_id}", "0f0f0f0f-0000-4000-8000-000000000001"},
                                {"{key_id}", "000000000000"}}) {
      size_t at = req.path.find(param);
      if (at != std::string::npos) req.path.replace(at, std::string(param).size(), value);
    }
    req.body = "{}";
    req.client_address = "127.0.0.1";
    if (!token.empty()) req.authorization = "Bearer " + token;
    if (route.method == "WS") {
      int retry = 0;
      Status s = api_->AuthorizeStream(req, &retry);
      return s.ok() ? 101 : HttpStatusOf(s.code());
    }
    return api_->Handle(req).status;
  }

  std::filesystem::path dir_;
  std::unique_ptr<LogStore> store_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<Authenticator> auth_;
  LiveHub hub_;
  std::unique_ptr<LiveBus> bus_;
  std::unique_ptr<Api> api_;
  std::map<Scope, std::string> tokens_;
};

TEST_F(RouteAuthTest, EveryRouteNeedsExactlyItsScope) {
  std::set<std::string> seen;
  for (const Route& route : Api::Routes()) {
    std::string name = route.method + " " + route.pattern;
    EXPECT_TRUE(seen.insert(name).second) << "listed twice: " << name;
    if (route.scope == kScopeNone) {
      EXPECT_NE(StatusOf(route, ""), 401) << name;
      continue;
    }
    EXPECT_EQ(StatusOf(route, ""), 401) << name;
    for (Scope other : {kScopeIngest, kScopeRead}) {
      if (other == route.scope) continue;
      EXPECT_EQ(StatusOf(route, tokens_[other]), 403)
          << name << " with a " << ScopeName(other) << " key";
    }
    int allowed = StatusOf(route, tokens_[route.scope]);
    EXPECT_NE(allowed, 401) << name;
    EXPECT_NE(allowed, 403) << name;
    int as_admin = StatusOf(route, tokens_[kScopeAdmin]);
    EXPECT_NE(as_admin, 401) << name;
    EXPECT_NE(as_admin, 403) << name;
  }
  EXPECT_GE(seen.size(), 20u);
}

TEST_F(RouteAuthTest, PublicRoutesAreOnlyHealthAndSignIn) {
  std::set<std::string> public_routes;
  for (const Route& route : Api::Routes())
    if (route.scope == kScopeNone) public_routes.insert(route.method + " " + route.pattern);
  EXPECT_EQ(public_routes, (std::set<std::string>{"GET /health", "GET /auth/whoami",
                                                  "POST /auth/session", "DELETE /auth/session"}));
}

}  // namespace
}  // namespace wanllmdb
