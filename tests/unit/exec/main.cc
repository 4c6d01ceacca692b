// The exec tests' main: the local executor starts each task's supervisor by
// re-running the current executable, which here is this test binary.

#include <gtest/gtest.h>

#include "exec/shim.h"

int main(int argc, char** argv) {
  if (auto code = wharf::exec::MaybeRunShim(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
