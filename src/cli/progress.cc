#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace wharf::cli {

SearchProgress::SearchProgress() : terminal_(isatty(STDERR_FILENO) == 1) {}

void SearchProgress::OnTrial(const ml::Trial& trial, std::size_t done, std::size_t total) {
  if (trial.status.ok() && trial.score.weighted_f1 > best_) best_ = trial.score.weighted_f1;
  if (!terminal_) {
    const std::string score = trial.status.ok() ? fmt::format("cv weighted F1 {:.4f}", trial.score.weighted_f1)
                                                : "failed: " + trial.status.message();
    fmt::print(stderr, "trial {}/{} {} {} ({:.2f} s)\n", done, total, trial.family->kind, score, trial.seconds);
    return;
  }
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = kWidth * done / total;
  fmt::print(stderr, "\r[{:=<{}}{:<{}}] {}/{} trials  best cv weighted F1 {:.4f}", "", filled, "", kWidth - filled,
             done, total, best_);
  if (done == total) fmt::print(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace wharf::cli
