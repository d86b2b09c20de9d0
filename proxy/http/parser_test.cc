// The parser's framing decisions and its rejections, fed whole and byte by byte.
#include "proxy/http/parser.h"

#include <string>

#include <gtest/gtest.h>

namespace trellis::proxy::http {
namespace {

struct Parsed {
  Parser::Status status = Parser::Status::NeedMore;
  MessageHead head;
  size_t head_end = 0;
  uint16_t error = 0;
  std::string reason;
};

// Feeds `bytes` in slices of `slice` bytes, as a connection would, up to the end of the head.
Parsed parseHead(const std::string& bytes, Parser::Type type = Parser::Type::Request, size_t slice = SIZE_MAX,
                 ParserLimits limits = {}) {
  Parser p(type, limits);
  Parsed out;
  size_t fed = 0;
  size_t avail = 0;
  while (avail < bytes.size()) {
    avail = std::min(bytes.size(), avail + slice);
    auto step = p.feed(bytes.data(), fed, avail);
    if (step.status == Parser::Status::Error) {
      out.status = step.status;
      out.error = p.errorStatus();
      out.reason = std::string(p.errorReason());
      return out;
    }
    fed += step.consumed;
    if (step.status == Parser::Status::HeadComplete) {
      out.status = step.status;
      out.head_end = fed;
      p.bindHead(bytes.data(), out.head);
      return out;
    }
  }
  return out;
}

TEST(ParserTest, RequestHeadWholeAndByteByByte) {
  const std::string req = "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Long: v1 v2\r\n\r\n";
  for (size_t slice : {SIZE_MAX, size_t{1}, size_t{7}}) {
    auto r = parseHead(req, Parser::Type::Request, slice);
    ASSERT_EQ(r.status, Parser::Status::HeadComplete) << "slice " << slice;
    EXPECT_EQ(r.head.method, "GET");
    EXPECT_EQ(r.head.target, "/a?b=1");
    EXPECT_EQ(r.head.pathOnly(), "/a");
    ASSERT_EQ(r.head.headers.size(), 2u);
    EXPECT_EQ(r.head.headers[0].name, "Host");
    EXPECT_EQ(r.head.headers[0].value, "example.com");
    EXPECT_EQ(r.head.headers[1].value, "v1 v2");
    EXPECT_EQ(r.head_end, req.size());
    EXPECT_TRUE(r.head.keep_alive);
  }
}

TEST(ParserTest, Http10DefaultsToClose) {
  auto r = parseHead("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, Parser::Status::HeadComplete);
  EXPECT_TRUE(r.head.isHttp10());
  EXPECT_FALSE(r.head.keep_alive);
  auto k = parseHead("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(k.head.keep_alive);
}

TEST(ParserTest, BodyFramingIsReported) {
  auto cl = parseHead("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
  EXPECT_TRUE(cl.head.has_content_length);
  EXPECT_EQ(cl.head.content_length, 5u);
  auto te = parseHead("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(te.head.chunked);
}

struct Rejection {
  const char* name;
  std::string bytes;
  uint16_t status;
};

class ParserRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(ParserRejects, WithItsStatus) {
  const auto& c = GetParam();
  for (size_t slice : {SIZE_MAX, size_t{1}}) {
    Parser p(Parser::Type::Request, ParserLimits{});
    size_t fed = 0, avail = 0;
    bool failed = false;
    // Bounded: every round either takes more input or makes progress.
    for (int round = 0; round < 1 << 20 && !failed && fed < c.bytes.size(); ++round) {
      avail = std::min(c.bytes.size(), avail + slice);
      auto step = p.feed(c.bytes.data(), fed, avail);
      if (step.status == Parser::Status::Error) {
        failed = true;
        EXPECT_EQ(p.errorStatus(), c.status) << c.name << ": " << p.errorReason();
        EXPECT_FALSE(p.errorReason().empty());
      }
      fed += step.consumed;
    }
    if (!failed) {
      // Framing judged after the head shows up on the feed that ends the message.
      failed = p.feed(c.bytes.data(), fed, fed).status == Parser::Status::Error;
      if (failed) {
        EXPECT_EQ(p.errorStatus(), c.status) << c.name;
      }
    }
    EXPECT_TRUE(failed) << c.name << " was accepted (slice " << slice << ")";
  }
}

std::string manyHeaders(int n) {
  std::string s = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < n; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
  return s + "\r\n";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ParserRejects,
    ::testing::Values(
        Rejection{"content-length with transfer-encoding",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        Rejection{"two different content-lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
        Rejection{"bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        Rejection{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
        Rejection{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400},
        Rejection{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        Rejection{"NUL in a value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35), 400},
        Rejection{"unknown transfer-encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
        Rejection{"oversize head", "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(61 * 1024, 'a') + "\r\n\r\n", 431},
        Rejection{"too many headers", manyHeaders(101), 431}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (auto& ch : n) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(ParserTest, HundredHeadersAreAllowed) {
  auto r = parseHead(manyHeaders(99));  // plus Host: 100
  EXPECT_EQ(r.status, Parser::Status::HeadComplete);
}

TEST(ParserTest, ChunkedBodyEndsAtTheLastChunkAndLeavesThePipelinedRest) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "3;ext=1\r\nabc\r\n0\r\n\r\n";
  const std::string next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string all = head + body + next;
  Parser p(Parser::Type::Request, {});
  auto h = p.feed(all.data(), 0, all.size());
  ASSERT_EQ(h.status, Parser::Status::HeadComplete);
  ASSERT_EQ(h.consumed, head.size());
  auto b = p.feed(all.data(), head.size(), all.size());
  ASSERT_EQ(b.status, Parser::Status::MessageComplete);
  EXPECT_EQ(b.consumed, body.size());
  auto n = p.feed(all.data(), head.size() + body.size(), all.size());
  ASSERT_EQ(n.status, Parser::Status::HeadComplete);
  MessageHead mh;
  p.bindHead(all.data(), mh);
  EXPECT_EQ(mh.target, "/next");
}

TEST(ParserTest, DecodeModeCompactsChunkedBodyInPlace) {
  std::string all = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
  Parser p(Parser::Type::Response, {});
  auto h = p.feed(all.data(), 0, all.size());
  ASSERT_EQ(h.status, Parser::Status::HeadComplete);
  p.setDecodeBody(true);
  auto b = p.feed(all.data(), h.consumed, all.size());
  ASSERT_EQ(b.status, Parser::Status::MessageComplete);
  EXPECT_EQ(std::string(all.data() + h.consumed, p.decodedLength()), "abcdefg");
}

TEST(ParserTest, ResponseToHeadHasNoBody) {
  std::string all = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  Parser p(Parser::Type::Response, {});
  p.setSkipBody(true);
  auto h = p.feed(all.data(), 0, all.size());
  ASSERT_EQ(h.status, Parser::Status::HeadComplete);
  EXPECT_TRUE(h.message_complete);
}

TEST(ParserTest, ReadUntilCloseResponseEndsAtFinish) {
  std::string all = "HTTP/1.1 200 OK\r\n\r\nsome body";
  Parser p(Parser::Type::Response, {});
  auto h = p.feed(all.data(), 0, all.size());
  ASSERT_EQ(h.status, Parser::Status::HeadComplete);
  EXPECT_TRUE(p.bodyEndsAtEof());
  auto b = p.feed(all.data(), h.consumed, all.size());
  EXPECT_EQ(b.status, Parser::Status::NeedMore);
  EXPECT_EQ(b.consumed, 9u);
  EXPECT_EQ(p.finish(), Parser::Status::MessageComplete);
}

TEST(ParserTest, TruncatedContentLengthBodyIsAnErrorAtFinish) {
  std::string all = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  Parser p(Parser::Type::Response, {});
  auto h = p.feed(all.data(), 0, all.size());
  p.feed(all.data(), h.consumed, all.size());
  EXPECT_EQ(p.finish(), Parser::Status::Error);
}

TEST(MessageHeadTest, TokensAndCase) {
  EXPECT_TRUE(hasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_FALSE(hasToken("keep-alive, Upgraded", "upgrade"));
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-length"));
}

}  // namespace
}  // namespace trellis::proxy::http
