// Capture throughput of one store backend: appends ROWS captured requests
// (a wine request's inputs and outputs, as `wharf serve` records them) in
// transactions of BATCH rows, the way the capture writer groups them, and
// prints rows per second. bench/store/run drives it beside its Python peers.
//
//   capture_bench LOCATION ROWS BATCH [full|crash]
//
// LOCATION is a SQLite file or a postgresql:// URL; `full` commits survive
// power loss (fsync per commit), `crash` survive a crash of the process.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/capture_store.h"

namespace {

constexpr std::string_view kInputs =
    R"({"inputs":[{"name":"input-0","shape":[1,11],"datatype":"FP32",)"
    R"("data":[7.4,0.7,0.0,1.9,0.076,11.0,34.0,0.9978,3.51,0.56,9.4]}]})";
constexpr std::string_view kOutputs =
    R"({"model_name":"wine","outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["5"]}]})";

int Fail(const std::string& message) {
  std::fprintf(stderr, "capture_bench: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return Fail("usage: capture_bench LOCATION ROWS BATCH [full|crash]");
  const std::string location = argv[1];
  const long rows = std::atol(argv[2]), batch = std::atol(argv[3]);
  const std::string durability = argc > 4 ? argv[4] : "full";
  if (rows < 1 || batch < 1) return Fail("ROWS and BATCH must be positive");
  auto store = wharf::store::OpenCaptureStore(
      location, durability == "crash" ? wharf::store::Durability::kProcessCrash : wharf::store::Durability::kPowerLoss);
  if (!store.ok()) return Fail(store.status().message());

  std::vector<wharf::store::CaptureRecord> group(static_cast<std::size_t>(batch));
  const auto start = std::chrono::steady_clock::now();
  long written = 0;
  while (written < rows) {
    const long n = std::min(batch, rows - written);
    group.resize(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
      auto& r = group[static_cast<std::size_t>(i)];
      r.id = "req-" + std::to_string(written + i);
      r.time_us = 1'795'000'000'000'000 + written + i;
      r.endpoint = "wine";
      r.variant = "default";
      r.model_version = "1";
      r.inputs = kInputs;
      r.outputs = kOutputs;
      r.latency_ms = 0.05;
    }
    if (auto s = (*store)->Append(group); !s.ok()) return Fail(s.message());
    written += n;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f rows/s %.3f s\n", static_cast<double>(rows) / seconds, seconds);
  return 0;
}
