#pragma once
// How `wharf endpoint` reads and prints the server's endpoint answers
// (REVISION, STATUS, metrics, events; see docs/control-plane.md). Fields the
// server leaves out print as blanks and fields it adds are ignored, so the
// CLI keeps working while the API grows. Stateless functions: thread-safe.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wharf::cli {

// The revision number of a REVISION object, of a bare number (a replica's
// served revision), or 0 for null or anything else (not serving yet).
long long RevisionNumber(const nlohmann::json& revision);

// A REVISION's traffic split, each variant as NAME MODEL WEIGHT% with the
// version an alias was pinned to (from "resolved"'s "models": variant name
// -> "NAME@VERSION"), then the shadow:
// "blue wine@3 90%, green wine@production→5 10%, shadow next wine@4".
std::string VariantSummary(const nlohmann::json& revision);

// How far an endpoint's replicas (a STATUS) are from serving `revision` (a
// REVISION), counting as desired at least its spec's replicas.min (default
// 1): right after an apply the server may not have counted them yet.
struct Rollout {
  int ready = 0;                     // replicas serving the revision and ready
  int desired = 0;                   // replicas wanted
  std::vector<std::string> waiting;  // each other replica: "task T1 (RUNNING, serving revision 3): its error"

  // Every replica serves the revision and is ready, and there are enough.
  bool done() const { return waiting.empty() && ready >= desired; }
};
Rollout CheckRollout(const nlohmann::json& status, const nlohmann::json& revision);

// The tables and summaries the commands print without --json. `url` is the
// server's, named when there is nothing to list.
void PrintEndpointList(const nlohmann::json& answer, const std::string& url);
void PrintEndpointStatus(const nlohmann::json& status);
void PrintHistory(const nlohmann::json& answer);
void PrintMetrics(const nlohmann::json& metrics);
void PrintEvents(const nlohmann::json& answer);

}  // namespace wharf::cli
