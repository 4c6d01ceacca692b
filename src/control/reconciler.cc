#include "control/reconciler.h"

#include <algorithm>

#include <fmt/format.h>

#include "control/runs.h"

namespace wharf::control {

namespace {

// An instance that ends sooner than this after starting counts as a crash loop.
constexpr std::int64_t kYoungUs = 10'000'000;
constexpr std::chrono::milliseconds kFirstDelay{500}, kMaxDelay{60'000};
constexpr std::chrono::milliseconds kStopGrace{10'000};

}  // namespace

std::string ServiceGroup(std::string_view service) { return fmt::format("service.{}", service); }

namespace {

std::string GroupOf(const ServiceTarget& target) {
  return target.group.empty() ? ServiceGroup(target.name) : target.group;
}

}  // namespace

Reconciler::Reconciler(store::MetadataStore& store, Scheduler& scheduler, const JobRegistry& jobs,
                       const ArtifactStore& artifacts)
    : store_(store), scheduler_(scheduler), jobs_(jobs), artifacts_(artifacts) {}

Status Reconciler::NoteFailures(const ServiceTarget& target, Backoff& backoff, std::int64_t now_us) {
  store::TaskQuery query;
  query.group_id = GroupOf(target);
  query.states = {store::TaskState::kFailed};
  query.limit = 16;
  WHARF_ASSIGN_OR_RETURN(auto failed, store_.ListTasks(query));
  std::int64_t newest = backoff.last_failure_seen_us;
  bool young = false, any = false;
  for (const auto& t : failed) {
    if (t.finished_us <= backoff.last_failure_seen_us) continue;
    any = true;
    ++counts_[target.name].crashed;
    newest = std::max(newest, t.finished_us);
    young = young || t.started_us == 0 || t.finished_us - t.started_us < kYoungUs;
  }
  if (!any) return Status::Ok();
  backoff.last_failure_seen_us = newest;
  backoff.delay = young ? std::min(kMaxDelay, std::max(kFirstDelay, backoff.delay * 2)) : std::chrono::milliseconds(0);
  backoff.not_before_us = now_us + std::chrono::duration_cast<std::chrono::microseconds>(backoff.delay).count();
  return Status::Ok();
}

Result<std::vector<store::TaskRecord>> Reconciler::Reconcile(const ServiceTarget& target, std::int64_t now_us) {
  Backoff& backoff = backoff_[target.name];
  if (backoff.last_failure_seen_us == 0) backoff.last_failure_seen_us = now_us;  // older failures are history
  WHARF_RETURN_IF_ERROR(NoteFailures(target, backoff, now_us));

  store::TaskQuery query;
  query.group_id = GroupOf(target);
  query.states = {store::TaskState::kPending, store::TaskState::kRunning};
  query.limit = 0;
  WHARF_ASSIGN_OR_RETURN(auto live, store_.ListTasks(query));
  std::reverse(live.begin(), live.end());  // oldest first
  std::erase_if(live, [&](const store::TaskRecord& t) { return stopping_.count(t.id) > 0; });
  std::erase_if(stopping_, [&](const auto& entry) { return now_us - entry.second > 600'000'000; });

  const auto want = static_cast<std::size_t>(std::max(0, target.replicas));
  while (live.size() > want) {  // the newest go first: the oldest are warm
    scheduler_.RequestStop(live.back().id, kStopGrace);
    stopping_[live.back().id] = now_us;
    ++counts_[target.name].stopped;
    live.pop_back();
  }
  if (live.size() < want && now_us >= backoff.not_before_us) {
    RunRequest run;
    run.definition = target.definition;
    run.count = static_cast<int>(want - live.size());
    run.group_id = GroupOf(target);
    const int runs = target.instance_overrides ? *run.count : 1;
    if (target.instance_overrides) run.count = 1;
    for (int i = 0; i < runs; ++i) {
      if (target.instance_overrides) {
        WHARF_ASSIGN_OR_RETURN(run.overrides, target.instance_overrides());
      }
      WHARF_ASSIGN_OR_RETURN(auto started, SubmitRun(store_, jobs_, artifacts_, run));
      counts_[target.name].started += started.size();
      live.insert(live.end(), started.begin(), started.end());
    }
    scheduler_.Wake();
  }
  return live;
}

}  // namespace wharf::control
