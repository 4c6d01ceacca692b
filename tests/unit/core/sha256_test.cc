#include "core/sha256.h"

#include <gtest/gtest.h>

namespace wharf {
namespace {

TEST(Sha256Test, MatchesKnownDigestsAcrossChunking) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 chunked;
  chunked.Update("a");
  chunked.Update("bc");
  EXPECT_EQ(chunked.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace wharf
