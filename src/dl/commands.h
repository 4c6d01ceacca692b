#pragma once
// The commands the deep learning plugin runs for the `wharf` binary: each
// parses its own flags (argv[0] is its name) and returns an exit code
// (cli/exit_code.h: 2 for bad input).

namespace wharf::dl {

// `wharf dl-train`: trains a CNN, writes Modelfile, results.txt,
// metrics.json and per-epoch checkpoints into --out.
int RunDlTrain(int argc, char** argv);

// `wharf model import`: a TorchScript or ONNX classifier plus its labels
// becomes a Modelfile.
int RunModelImport(int argc, char** argv);

// `wharf featurize`: images -> a CNN layer's features as CSV and .npy
// tables; `wharf featurize merge` joins a sharded run's outputs.
int RunFeaturize(int argc, char** argv);

}  // namespace wharf::dl
