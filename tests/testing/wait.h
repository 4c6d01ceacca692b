#pragma once
// Waiting in tests: for a condition, up to a deadline in minutes, never a
// sleep that hopes. What takes a fraction of a second on an idle machine can
// take many seconds in a sanitizer build with both cores busy elsewhere; a
// busy machine must make a test slower, not red. A wait that gives up returns
// what it saw last, for the failure message to show.

#include <chrono>
#include <thread>
#include <utility>

namespace wharf::testing {

// How long a test waits for what should happen: long enough for the slowest
// machine, and only ever spent when the test is failing anyway.
inline constexpr std::chrono::milliseconds kPatience = std::chrono::minutes(3);
// How often a wait looks again.
inline constexpr std::chrono::milliseconds kPollEvery{20};

// Calls `done` until it returns true or `limit` passes; returns its last answer.
template <typename Done>
bool WaitUntil(Done&& done, std::chrono::milliseconds limit = kPatience, std::chrono::milliseconds every = kPollEvery) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(every);
  }
  return true;
}

// Calls `look` until `done(what it returned)` holds or `limit` passes;
// returns the last value seen either way (the caller asserts on it).
template <typename Look, typename Done>
auto WaitFor(Look&& look, Done&& done, std::chrono::milliseconds limit = kPatience,
             std::chrono::milliseconds every = kPollEvery) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto seen = look();
  while (!done(seen) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(every);
    seen = look();
  }
  return seen;
}

}  // namespace wharf::testing
