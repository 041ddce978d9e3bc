#include "server/connection_limits.h"

namespace wanllmdb {

ConnectionSlot::~ConnectionSlot() {
  if (limits_) limits_->Release(client_);
}

std::shared_ptr<ConnectionSlot> ConnectionLimits::Acquire(const std::string& client) {
  std::lock_guard lock(mu_);
  if (open_.load() >= max_total_) return nullptr;
  int& mine = per_client_[client];
  if (mine >= max_per_client_) {
    if (mine == 0) per_client_.erase(client);
    return nullptr;
  }
  ++mine;
  ++open_;
  return std::make_shared<ConnectionSlot>(this, client);
}

void ConnectionLimits::Release(const std::string& client) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
}

}  // namespace wanllmdb
