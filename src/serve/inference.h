#pragma once
// Turns inference request bodies (KServe v2 /infer and the classic /run/)
// into a feature matrix in the endpoint's column order, predicts, and writes
// the answers. Parsing is in place (simdjson on the request buffer) and
// answers are formatted straight into a string, without a JSON DOM.
// Free functions; thread-safe.

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "serve/endpoint.h"

namespace wharf::serve {

// Feature rows parsed from one request.
struct FeatureBatch {
  std::string id;       // the client's request id, or a generated one
  std::string id_json;  // the id as it should be echoed in JSON (keeps numbers numbers)
  std::size_t rows = 0;
  std::vector<float> x;  // rows * endpoint features, row-major
};

// A KServe v2 infer body: `inputs` holds either one FP32/FP64 (or INT)
// tensor [batch, features] (or [features] for one row), or one tensor per
// named column of shape [batch] or [batch, 1]. For an image model, one
// tensor: numbers [batch, C, H, W] (pixels in [0, 1]) or BYTES [batch] of
// base64 PNG/JPEG images. InvalidArgument with a message fit for the client
// on anything else.
Result<FeatureBatch> ParseInferRequest(std::string& body, const Endpoint& endpoint);

// The classic app's /run/ body: {"id": ..., "request_time": ..., "inputs":
// {"field": number, ...}}; fields are matched to columns by name or alias.
Result<FeatureBatch> ParseRunRequest(std::string& body, const Endpoint& endpoint);

// One variant's answer for a batch: per row, the output values and (for a
// classifier) the index of the most probable class.
struct Prediction {
  std::size_t width = 0;
  std::vector<float> values;  // rows * width
  std::vector<std::size_t> best;
};

Result<Prediction> Predict(const Variant& variant, const FeatureBatch& batch);

// Fills `best` from `values` (width already set): what Predict does after
// the model, for predictions a batcher made.
void FinishPrediction(Prediction& p, std::size_t rows);

// {"model_name", "model_version", "id", "parameters": {"variant"}, "outputs": [...]}:
// a classifier answers `label` (BYTES) and `probabilities` (FP32 [batch, classes]).
std::string InferResponse(const Endpoint& endpoint, const Variant& variant, const FeatureBatch& batch,
                          const Prediction& prediction);

// {"id", "output", "model_version", "variant"}: the classic app's answer.
std::string RunResponse(const Variant& variant, const FeatureBatch& batch, const Prediction& prediction);

// The `output` value of a stored /run/ answer (e.g. "setosa"), as JSON; the
// whole stored answer when it has none (a KServe v2 answer).
std::string StoredOutput(const std::string& answer);

// A JSON string literal for `text` (quotes included).
std::string JsonString(std::string_view text);

// {"error": "..."}
std::string ErrorJson(std::string_view message);

// A fresh request id: 128 bits from the OS's CSPRNG as 32 hex digits, so no
// client can guess another's id (GET /output/<id>/ answers whoever names it).
std::string NewRequestId();

}  // namespace wharf::serve
