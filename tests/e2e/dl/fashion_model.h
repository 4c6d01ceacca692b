#pragma once
// The small Fashion-MNIST CNN the deep learning tests share: trained once
// per build directory by whichever test gets there first.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "testing/process.h"
#include "testing/temp_dir.h"

namespace wharf::testing {

inline const std::filesystem::path kFashionMnist = "/usr/share/datasets/fashion-mnist";
inline const std::filesystem::path kTestImages = kFashionMnist / "t10k-images-idx3-ubyte.gz";

inline std::filesystem::path WorkDir() { return WHARF_TEST_WORK_DIR; }
inline std::filesystem::path ModelDir() { return WorkDir() / "fashion-mnist"; }
inline std::filesystem::path Model() { return ModelDir() / "Modelfile"; }

// Trains the shared model unless it is there (tests run as separate
// processes, possibly at once: the first trains under a lock, the rest reuse).
inline void EnsureModel() {
  std::filesystem::create_directories(WorkDir());
  const int lock = ::open((WorkDir() / "fashion-mnist.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(lock, 0);
  ::flock(lock, LOCK_EX);
  if (!std::filesystem::exists(Model())) {
    std::filesystem::remove_all(ModelDir());
    auto r = RunWharf({"dl-train", "--data", kFashionMnist.string(), "--limit", "3000", "--test-limit", "1000",
                       "--epochs", "2", "--threads", "2", "--classes",
                       (SourceDir() / "examples/fashion-mnist/classes.txt").string(), "--out", ModelDir().string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
}

}  // namespace wharf::testing
