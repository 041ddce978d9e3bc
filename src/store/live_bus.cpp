#include "store/live_bus.h"

#include <mutex>

namespace wanllmdb {
namespace {

class InProcessBus final : public LiveBus {
 public:
  void SetSink(BusSink sink) override { sink_ = std::move(sink); }
  void Publish(const BusMessage& m) override {
    if (sink_) sink_(m);
  }
  void PublishLocalCommit(const CommitEvent& e) override {
    BusMessage m;
    m.kind = BusMessage::Kind::kCommit;
    m.run_id = e.run_id;
    m.first_line = e.first_line;
    m.last_line = e.last_line;
    m.lines = e.lines;
    Publish(m);
  }
  void Close() override {}

 private:
  BusSink sink_;  // set before use, then read only
};

}  // namespace

std::unique_ptr<LiveBus> NewInProcessBus() {
  return std::make_unique<InProcessBus>();
}

Result<std::unique_ptr<LiveBus>> LogStore::OpenBus() {
  return NewInProcessBus();
}

}  // namespace wanllmdb
