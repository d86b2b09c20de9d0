// Running a program with input on stdin and both outputs collected.
#include "deploy/init/command.h"

#include <gtest/gtest.h>

namespace trellis::deploy {
namespace {

TEST(CommandTest, InputOutputAndStatus) {
  CommandResult r = runCommand({"sh", "-c", "cat; echo oops >&2; exit 3"}, "hello\n");
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_FALSE(r.ok());
}

TEST(CommandTest, LargeInputAndOutputDoNotDeadlock) {
  std::string big(1 << 20, 'x');
  CommandResult r = runCommand({"cat"}, big);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out.size(), big.size());
}

TEST(CommandTest, ChildNotReadingItsInput) {
  CommandResult r = runCommand({"true"}, std::string(1 << 20, 'x'));
  EXPECT_TRUE(r.ok());
}

TEST(CommandTest, MissingProgram) {
  CommandResult r = runCommand({"trellis-no-such-program"}, "");
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.error.find("trellis-no-such-program"), std::string::npos);
}

}  // namespace
}  // namespace trellis::deploy
