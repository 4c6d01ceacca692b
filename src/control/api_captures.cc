// GET /api/endpoints/NAME/captures[/ID] and /drift: what an endpoint's
// replicas captured, read where the server's store keeps captures (where
// `serve` tasks, given the server's store, capture), and its drift from the
// model's training data.

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/api.h"
#include "control/api_call.h"
#include "control/capture_export.h"
#include "core/clock.h"
#include "store/capture_store.h"
#include "store/location.h"

namespace wharf::control {

namespace {

using api::Error;
using api::JsonOf;
using api::ParseInt;

// Captures listed as JSON by default; exports are bounded too, since an
// answer is built in memory (no streaming).
constexpr int kDefaultListLimit = 100;
constexpr int kDefaultExportLimit = 10000;
constexpr int kMaxLimit = 10000;

// The decoded query string (ControlApi::Call::query).
using Query = std::map<std::string, std::string>;

// A parameter's value; empty when absent (given empty, it is not given).
std::string Value(const Query& query, const std::string& key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

// InvalidArgument naming the first query parameter not in `known`: a
// misspelt filter must not widen what is answered.
Status CheckParameters(const Query& query, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : query) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgument(fmt::format("unknown query parameter '{}' (known: {})", key, fmt::join(known, ", ")));
    }
  }
  return Status::Ok();
}

// since= and until= (ISO-8601 UTC or an age such as 15m, as `--since`
// takes them) into [since_us, until_us).
Status ParseRange(const Query& query, std::optional<std::int64_t>& since_us, std::optional<std::int64_t>& until_us) {
  const std::int64_t now = NowMicros();
  const std::string since = Value(query, "since"), until = Value(query, "until");
  if (!since.empty()) {
    WHARF_ASSIGN_OR_RETURN(since_us, ParseTimeOrAge(since, now, "since"));
  }
  if (!until.empty()) {
    WHARF_ASSIGN_OR_RETURN(until_us, ParseTimeOrAge(until, now, "until"));
  }
  if (since_us && until_us && *since_us >= *until_us) {
    return InvalidArgument(fmt::format("since {} is not before until {}", since, until));
  }
  return Status::Ok();
}

// The store query of a captures request: its filters and limit.
Result<store::CaptureQuery> CaptureQueryOf(const std::string& endpoint, const Query& q, int default_limit) {
  store::CaptureQuery query{.endpoint = endpoint, .limit = static_cast<std::size_t>(default_limit)};
  WHARF_RETURN_IF_ERROR(ParseRange(q, query.since_us, query.until_us));
  if (const std::string variant = Value(q, "variant"); !variant.empty()) query.variant = variant;
  if (const std::string id = Value(q, "id"); !id.empty()) query.id = id;
  if (const std::string shadow = Value(q, "shadow"); !shadow.empty()) {
    if (shadow != "true" && shadow != "false") {
      return InvalidArgument(fmt::format("shadow: '{}' is not true or false", shadow));
    }
    query.include_shadow = shadow == "true";
  }
  if (const std::string limit = Value(q, "limit"); !limit.empty()) {
    const auto parsed = ParseInt(limit);
    if (!parsed || *parsed < 1 || *parsed > kMaxLimit) {
      return InvalidArgument(fmt::format("limit: '{}' is not an integer from 1 to {}", limit, kMaxLimit));
    }
    query.limit = static_cast<std::size_t>(*parsed);
  }
  return query;
}

}  // namespace

net::HttpResponse ControlApi::ListCaptures(const std::string& endpoint, const Call& c) {
  if (Status s = CheckParameters(c.query, {"variant", "since", "until", "shadow", "id", "limit", "format"}); !s.ok()) {
    return Error(s);
  }
  const std::string format = c.Query("format").empty() ? "json" : c.Query("format");
  if (format != "json" && format != "csv" && format != "jsonl") {
    return Error(400, fmt::format("format: '{}' is not json, csv or jsonl", format));
  }
  Result<store::CaptureQuery> query =
      CaptureQueryOf(endpoint, c.query, format == "json" ? kDefaultListLimit : kDefaultExportLimit);
  if (!query.ok()) return Error(query.status());
  Result<std::unique_ptr<store::CaptureStore>> captures = store::OpenCaptureStore(store::CaptureLocation(store_location_));
  if (!captures.ok()) return Error(captures.status());
  Result<std::vector<store::CaptureRecord>> records = (*captures)->Query(*query);
  if (!records.ok()) return Error(records.status());
  if (format == "json") {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : *records) out.push_back(CaptureToJson(r));
    return JsonOf(200, nlohmann::ordered_json{{"captures", std::move(out)}});
  }
  // The newest `limit`, written oldest first as `wharf capture export` writes them.
  const bool csv = format == "csv";
  std::string body = csv ? CaptureCsvHeader() : "";
  for (auto r = records->rbegin(); r != records->rend(); ++r) body += csv ? CaptureCsvLine(*r) : CaptureJsonLine(*r);
  return {200, std::move(body), csv ? "text/csv; charset=utf-8" : "application/x-ndjson"};
}

net::HttpResponse ControlApi::GetCapture(const std::string& endpoint, const std::string& id, const Call& c) {
  if (Status s = CheckParameters(c.query, {}); !s.ok()) return Error(s);
  Result<std::unique_ptr<store::CaptureStore>> captures = store::OpenCaptureStore(store::CaptureLocation(store_location_));
  if (!captures.ok()) return Error(captures.status());
  // Ids repeat (a shadow call has its request's; clients may reuse theirs):
  // the newest primary call, else the newest shadow call.
  for (const bool include_shadow : {false, true}) {
    Result<std::vector<store::CaptureRecord>> found =
        (*captures)->Query({.endpoint = endpoint, .id = id, .include_shadow = include_shadow, .limit = 1});
    if (!found.ok()) return Error(found.status());
    if (!found->empty()) return JsonOf(200, CaptureToJson(found->front()));
  }
  return Error(404, fmt::format("no capture with id '{}' for endpoint '{}'", id, endpoint));
}

net::HttpResponse ControlApi::Drift(const std::string& endpoint, const Call& c) {
  if (Status s = CheckParameters(c.query, {"since", "until", "revision", "variant"}); !s.ok()) return Error(s);
  if (!drift_) {
    return Error(501, "this server was started without drift reports (`wharf server` has them); run wharf drift "
                      "--endpoint NAME --store STORE instead");
  }
  DriftQuery query{.store = store_location_, .endpoint = endpoint, .variant = c.Query("variant")};
  if (Status s = ParseRange(c.query, query.since_us, query.until_us); !s.ok()) return Error(s);
  if (const std::string revision = c.Query("revision"); !revision.empty()) {
    query.revision = ParseInt(revision);
    if (!query.revision || *query.revision < 1) {
      return Error(400, fmt::format("revision: '{}' is not a positive integer", revision));
    }
  }
  Result<nlohmann::ordered_json> report = drift_(query);
  if (!report.ok()) return Error(report.status());
  return JsonOf(200, *report);
}

}  // namespace wharf::control
