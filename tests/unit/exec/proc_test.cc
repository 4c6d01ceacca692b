#include "exec/local/proc.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace wharf::exec::local {
namespace {

TEST(ProcTest, ReadsItsOwnStat) {
  const auto self = ReadProcStat(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->pid, ::getpid());
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_EQ(self->pgrp, ::getpgrp());
  EXPECT_EQ(self->session, ::getsid(0));
  EXPECT_GT(self->start_time, 0u);
}

TEST(ProcTest, AnIdentityWithAnotherStartTimeIsNotRunning) {
  const auto self = IdentifyProcess(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_TRUE(IsRunning(*self));
  const ProcessIdentity recycled{self->pid, self->start_time + 1};
  EXPECT_FALSE(IsRunning(recycled));
  EXPECT_EQ(SignalProcess(recycled, 0).code(), StatusCode::kNotFound);
}

TEST(ProcTest, AZombieIsNotRunning) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  const auto identity = IdentifyProcess(child);
  ASSERT_TRUE(identity.has_value());
  for (int i = 0; i < 200 && IsRunning(*identity); ++i) ::usleep(5000);
  EXPECT_FALSE(IsRunning(*identity));
  EXPECT_EQ(SignalProcess(*identity, SIGTERM).code(), StatusCode::kNotFound);
  ::waitpid(child, nullptr, 0);
}

TEST(ProcTest, IdentitiesRoundTripThroughText) {
  const ProcessIdentity identity{1234, 987654321};
  Result<ProcessIdentity> back = ParseIdentity(FormatIdentity(identity) + " 42\n");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pid, 1234);
  EXPECT_EQ(back->start_time, 987654321u);
  EXPECT_EQ(ParseIdentity("garbage").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseIdentity("").status().code(), StatusCode::kDataLoss);
}

TEST(ProcTest, NamesSignals) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
}

}  // namespace
}  // namespace wharf::exec::local
