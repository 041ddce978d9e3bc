// The names of webhook delivery states (log_store.h), as both stores write them.
#include "store/log_store.h"

namespace wanllmdb {

std::string_view DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kGaveUp:
      return "gave_up";
  }
  return "pending";
}

std::optional<DeliveryState> ParseDeliveryState(std::string_view s) {
  if (s == "pending") return DeliveryState::kPending;
  if (s == "delivered") return DeliveryState::kDelivered;
  if (s == "gave_up") return DeliveryState::kGaveUp;
  return std::nullopt;
}

}  // namespace wanllmdb
