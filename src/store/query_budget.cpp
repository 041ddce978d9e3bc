#include "store/query_budget.h"

#include <cstdio>
#include <string>

namespace wanllmdb {
namespace {

thread_local QueryBudget* current_budget = nullptr;

std::string Seconds(QueryBudget::Clock::duration d) {
  double s = std::chrono::duration<double>(d).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

QueryBudget::QueryBudget(Clock::duration limit, std::function<bool()> client_gone)
    : deadline_(Clock::now() + limit),
      limited_(limit > Clock::duration::zero()),
      limit_(limit),
      client_gone_(std::move(client_gone)) {}

Status QueryBudget::Check() {
  if (client_gone_ && client_gone_()) {
    cancelled_ = true;
    return Status(Code::kUnavailable, "the client closed its connection; the query was cancelled");
  }
  if (limited_ && Clock::now() >= deadline_) {
    return Status(Code::kUnavailable, "the query ran longer than its " + Seconds(limit_) +
                                          " s budget (--query-timeout); narrow the filter, the "
                                          "time range or the line range");
  }
  return Status::Ok();
}

QueryBudget* QueryBudget::Current() {
  return current_budget;
}

QueryBudget::Scope::Scope(QueryBudget* budget) : previous_(current_budget) {
  current_budget = budget;
}

QueryBudget::Scope::~Scope() {
  current_budget = previous_;
}

Status CheckQueryBudget() {
  QueryBudget* b = current_budget;
  return b ? b->Check() : Status::Ok();
}

}  // namespace wanllmdb
