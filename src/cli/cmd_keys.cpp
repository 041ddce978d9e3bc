// `wanllmdb keys create|list|revoke|generate`: API keys, worked on the store directly (a stopped
// server's data directory, or a running one's: the server re-reads keys within seconds). The
// same operations exist over HTTP for admins (POST/GET/DELETE /api/v1/keys).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "auth/authenticator.h"
#include "auth/secret_token.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/time_util.h"

namespace wanllmdb {
namespace {

struct KeysOptions {
  std::string data_dir = "./data";
  std::string store_url;
  std::string name, scopes = "ingest", id;
  std::vector<std::string> projects;
  bool json = false;
};

// `create`: a first key may come before the server's first start, so the data directory and
// the database are made if missing.
Result<std::unique_ptr<KeyStore>> Open(const KeysOptions& o, bool create = false) {
  std::string url = o.store_url;
  if (url.empty()) {
    auto path = std::filesystem::path(o.data_dir) / "logs.db";
    std::error_code ec;
    if (create) std::filesystem::create_directories(o.data_dir, ec);
    if (!create && !std::filesystem::exists(path, ec))
      return Status(Code::kNotFound, "no store at " + path.string() + " (use --data or --store)");
    url = "sqlite:" + path.string();
  }
  return OpenKeyStore(url);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "wanllmdb keys: %s\n", s.message().c_str());
  return 1;
}

int Create(const KeysOptions& o) {
  auto scopes = ParseScopes(o.scopes);
  if (!scopes) return Fail(Status(Code::kInvalidValue, "--scopes: want some of ingest,read,admin"));
  auto keys = Open(o, true);
  if (!keys.ok()) return Fail(keys.status());
  Authenticator auth(keys->get(), AuthOptions{});
  std::string token;
  auto key = auth.CreateKey(o.name, *scopes, o.projects, &token);
  if (!key.ok()) return Fail(key.status());
  std::printf("%s\n", token.c_str());
  std::fprintf(stderr, "created key %s (%s) with scopes %s%s; it is shown only now\n",
               key->id.c_str(), o.name.empty() ? "no name" : o.name.c_str(),
               FormatScopes(key->scopes).c_str(),
               o.projects.empty() ? ", every project" : ", limited to projects");
  return 0;
}

int List(const KeysOptions& o) {
  auto keys = Open(o);
  if (!keys.ok()) return Fail(keys.status());
  auto list = (*keys)->ListKeys();
  if (!list.ok()) return Fail(list.status());
  std::printf("%-12s  %-20s  %-18s  %-27s  %s\n", "ID", "NAME", "SCOPES", "CREATED", "STATE");
  for (const auto& k : *list) {
    std::string projects;
    for (const auto& p : k.projects) projects += (projects.empty() ? " projects=" : ",") + p;
    std::printf("%-12s  %-20s  %-18s  %-27s  %s%s\n", k.id.c_str(), k.name.c_str(),
                FormatScopes(k.scopes).c_str(), FormatIsoMicros(k.created_at_us).c_str(),
                k.revoked_at_us ? "revoked" : "active", projects.c_str());
  }
  return 0;
}

int Revoke(const KeysOptions& o) {
  auto keys = Open(o);
  if (!keys.ok()) return Fail(keys.status());
  std::string id = o.id;
  if (auto parsed = ParseSecretToken(kApiKeyPrefix, id)) id = parsed->id;  // a whole key works too
  if (Status s = (*keys)->RevokeKey(id, NowMicros()); !s.ok()) return Fail(s);
  std::fprintf(stderr, "revoked key %s\n", id.c_str());
  return 0;
}

}  // namespace

void AddKeysCommand(flags::Command app, int* exit_code) {
  auto o = std::make_shared<KeysOptions>();
  auto cmd = app.add_subcommand("keys", "Manage API keys (on the store directly)");
  cmd.require_subcommand(1);
  auto store_options = [o](flags::Command sub) {
    sub.add_option("--data", o->data_dir, "Data directory of the server").capture_default_str();
    sub.add_option("--store", o->store_url, "Store URL instead of --data (sqlite:PATH)");
  };
  auto create = cmd.add_subcommand("create", "Create a key; prints it once on stdout");
  store_options(create);
  create.add_option("--name", o->name, "What the key is for (shown in 'keys list')");
  create.add_option("--scopes", o->scopes, "ingest, read, admin (comma-separated)")
      .capture_default_str();
  create.add_option("--project", o->projects, "Limit the key to this project (repeatable)");
  create.callback([o, exit_code] { *exit_code = Create(*o); });
  auto list = cmd.add_subcommand("list", "List keys (never their secrets)");
  store_options(list);
  list.callback([o, exit_code] { *exit_code = List(*o); });
  auto revoke = cmd.add_subcommand("revoke", "Revoke a key by its id (or the whole key)");
  store_options(revoke);
  revoke.add_option("id", o->id, "Key id from 'keys list'").required();
  revoke.callback([o, exit_code] { *exit_code = Revoke(*o); });
  auto generate = cmd.add_subcommand(
      "generate", "Print a fresh key without storing it (for --bootstrap-key-file)");
  generate.callback([exit_code] {
    std::string token;
    (void)NewSecretToken(kApiKeyPrefix, &token);
    std::printf("%s\n", token.c_str());
    *exit_code = 0;
  });
}

}  // namespace wanllmdb
