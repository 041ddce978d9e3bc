#include "store/scan_helpers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

namespace wanllmdb {
namespace {

// Offers `fn` until a helper takes it (a helper is idle only once its thread has started).
bool StartWithin(ScanHelpers& h, std::function<void()> fn) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (h.TryStart(fn)) return true;
    std::this_thread::yield();
  }
  return false;
}

TEST(ScanHelpers, RunsWorkOnAnIdleHelperAndRefusesWhenAllAreBusy) {
  ScanHelpers h(1, 0);
  std::latch started(1), release(1), finished(1);
  ASSERT_TRUE(StartWithin(h, [&] {
    started.count_down();
    release.wait();
    finished.count_down();
  }));
  started.wait();
  std::atomic<bool> ran{false};
  EXPECT_FALSE(h.TryStart([&] { ran = true; }));  // the only helper is busy: the caller works
  release.count_down();
  finished.wait();
  std::latch second(1);
  ASSERT_TRUE(StartWithin(h, [&] {
    ran = true;
    second.count_down();
  }));
  second.wait();
  EXPECT_TRUE(ran);
}

TEST(ScanHelpers, StopsWithIdleHelpers) {
  auto h = std::make_unique<ScanHelpers>(3, 0);
  std::latch done(1);
  ASSERT_TRUE(StartWithin(*h, [&] { done.count_down(); }));
  done.wait();
  h.reset();  // joins: must not hang
  SUCCEED();
}

}  // namespace
}  // namespace wanllmdb
