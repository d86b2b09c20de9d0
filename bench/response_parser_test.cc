// Tests of ResponseParser on fragmented input: Content-Length, chunked, end-of-connection
// bodies, keep-alive and close, HEAD, interim responses, malformed input.
#include "bench/response_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace trellis::bench {
namespace {

using Result = ResponseParser::Result;

struct Outcome {
  int completions = 0;
  std::vector<int> statuses;
  std::vector<bool> keepAlive;
  bool error = false;
  size_t leftover = 0;  // bytes after the last complete response that were not consumed
};

// Feeds `wire` in pieces of `step` bytes, expecting one response per expectResponse(), the way
// a connection uses the parser: after kComplete the rest of the fragment is fed again.
Outcome feedInSteps(ResponseParser& parser, const std::string& wire, size_t step,
                    bool head = false) {
  Outcome out;
  parser.expectResponse(head);
  size_t pos = 0;
  while (pos < wire.size() && !out.error) {
    const size_t len = std::min(step, wire.size() - pos);
    size_t offset = 0;
    while (offset < len) {
      size_t consumed = 0;
      const Result r = parser.feed(wire.data() + pos + offset, len - offset, consumed);
      if (r == Result::kError) {
        out.error = true;
        break;
      }
      offset += consumed;
      if (r == Result::kComplete) {
        ++out.completions;
        out.statuses.push_back(parser.status());
        out.keepAlive.push_back(parser.keepAlive());
        parser.expectResponse(head);
      }
    }
    pos += len;
  }
  return out;
}

const std::string kContentLength =
    "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world";
const std::string kChunked =
    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
const std::string kClose = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n"
                           "Connection: close\r\n\r\nno";

class FragmentTest : public ::testing::TestWithParam<size_t> {};

TEST_P(FragmentTest, ContentLengthResponsesBackToBack) {
  ResponseParser parser;
  const Outcome out = feedInSteps(parser, kContentLength + kContentLength + kChunked, GetParam());
  ASSERT_FALSE(out.error) << parser.errorReason();
  ASSERT_EQ(out.completions, 3);
  EXPECT_EQ(out.statuses, (std::vector<int>{200, 200, 201}));
  EXPECT_EQ(out.keepAlive, (std::vector<bool>{true, true, true}));
  EXPECT_FALSE(parser.inProgress());
}

TEST_P(FragmentTest, ChunkedBodyWithExtensionsAndTrailers) {
  ResponseParser parser;
  const Outcome out = feedInSteps(parser, kChunked, GetParam());
  ASSERT_FALSE(out.error) << parser.errorReason();
  ASSERT_EQ(out.completions, 1);
  EXPECT_EQ(out.statuses[0], 201);
  EXPECT_TRUE(out.keepAlive[0]);
}

TEST_P(FragmentTest, ConnectionCloseIsReported) {
  ResponseParser parser;
  const Outcome out = feedInSteps(parser, kClose, GetParam());
  ASSERT_EQ(out.completions, 1);
  EXPECT_EQ(out.statuses[0], 503);
  EXPECT_FALSE(out.keepAlive[0]);
}

TEST_P(FragmentTest, Http10WithoutKeepAliveCloses) {
  ResponseParser parser;
  const Outcome out =
      feedInSteps(parser, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", GetParam());
  ASSERT_EQ(out.completions, 1);
  EXPECT_FALSE(out.keepAlive[0]);
}

TEST_P(FragmentTest, InterimResponseIsSkipped) {
  ResponseParser parser;
  const Outcome out =
      feedInSteps(parser, "HTTP/1.1 100 Continue\r\n\r\n" + kContentLength, GetParam());
  ASSERT_EQ(out.completions, 1);
  EXPECT_EQ(out.statuses[0], 200);
  EXPECT_EQ(parser.interimResponses(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Steps, FragmentTest, ::testing::Values(1, 2, 3, 7, 16, 4096));

TEST(ResponseParserTest, CompleteStopsAtTheEndOfTheResponse) {
  ResponseParser parser;
  parser.expectResponse(false);
  const std::string wire = kContentLength + "HTTP/1.1";
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(wire.data(), wire.size(), consumed), Result::kComplete);
  EXPECT_EQ(consumed, kContentLength.size());
}

TEST(ResponseParserTest, BodyUntilEndOfConnection) {
  ResponseParser parser;
  parser.expectResponse(false);
  const std::string wire = "HTTP/1.1 200 OK\r\n\r\nbody that runs to the end";
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(wire.data(), wire.size(), consumed), Result::kNeedMore);
  EXPECT_TRUE(parser.inProgress());
  ASSERT_EQ(parser.finish(), Result::kComplete);
  EXPECT_EQ(parser.status(), 200);
  EXPECT_FALSE(parser.keepAlive());
}

TEST(ResponseParserTest, EofInsideContentLengthBodyIsAnError) {
  ResponseParser parser;
  parser.expectResponse(false);
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(wire.data(), wire.size(), consumed), Result::kNeedMore);
  EXPECT_EQ(parser.finish(), Result::kError);
  EXPECT_STREQ(parser.errorReason(), "connection closed mid-response");
}

TEST(ResponseParserTest, EofBeforeAnyByteIsAnError) {
  ResponseParser parser;
  parser.expectResponse(false);
  EXPECT_EQ(parser.finish(), Result::kError);
  EXPECT_STREQ(parser.errorReason(), "connection closed before a response");
}

TEST(ResponseParserTest, HeadResponseHasNoBody) {
  ResponseParser parser;
  // The Content-Length describes the GET body; the next response follows immediately.
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                           "HTTP/1.1 204 No Content\r\n\r\n";
  const Outcome out = feedInSteps(parser, wire, 5, /*head=*/true);
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.statuses, (std::vector<int>{200, 204}));
}

TEST(ResponseParserTest, MalformedStatusLineIsAnError) {
  ResponseParser parser;
  const Outcome out = feedInSteps(parser, "HTTX/1.1 200 OK\r\n\r\n", 4);
  EXPECT_TRUE(out.error);
  EXPECT_STRNE(parser.errorReason(), "");
}

TEST(ResponseParserTest, BadChunkSizeIsAnError) {
  ResponseParser parser;
  const Outcome out = feedInSteps(
      parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 3);
  EXPECT_TRUE(out.error);
}

TEST(ResponseParserTest, ResetAllowsANewConnectionAfterAnError) {
  ResponseParser parser;
  ASSERT_TRUE(feedInSteps(parser, "garbage\r\n\r\n", 100).error);
  parser.reset();
  const Outcome out = feedInSteps(parser, kContentLength, 3);
  ASSERT_FALSE(out.error);
  EXPECT_EQ(out.completions, 1);
}

}  // namespace
}  // namespace trellis::bench
