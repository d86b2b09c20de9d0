// The forwarded heads: hop-by-hop headers dropped, x-forwarded-for joined in order, x-request-id
// kept or generated as Envoy does, and which client addresses count as internal.
#include "proxy/http/head_writer.h"

#include <string>

#include <gtest/gtest.h>

#include "proxy/http/parser.h"

namespace trellis::proxy::http {
namespace {

namespace ip = boost::asio::ip;

struct ParsedHead {
  std::string bytes;  // owns what head's views point into
  MessageHead head;
};

std::unique_ptr<ParsedHead> parse(std::string bytes, Parser::Type type = Parser::Type::Request) {
  auto out = std::make_unique<ParsedHead>();
  out->bytes = std::move(bytes);
  Parser p(type, ParserLimits{});
  auto step = p.feed(out->bytes.data(), 0, out->bytes.size());
  EXPECT_EQ(step.status, Parser::Status::HeadComplete);
  p.bindHead(out->bytes.data(), out->head);
  return out;
}

std::string written(const MessageHead& head, const RequestHeadOptions& opts) {
  BufferPool pool;
  Buffer out(pool);
  writeRequestHead(out, head, opts);
  return std::string(out.base() + out.begin(), out.size());
}

TEST(HeadWriterTest, DropsHopByHopHeadersAndThoseConnectionNames) {
  auto req = parse(
      "GET /a HTTP/1.1\r\nHost: svc\r\nConnection: keep-alive, x-secret\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
      "X-Secret: 1\r\nProxy-Connection: x\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\n");
  RequestHeadOptions opts;
  opts.generate_request_id = false;
  const std::string out = written(req->head, opts);
  EXPECT_EQ(out,
            "GET /a HTTP/1.1\r\nHost: svc\r\nX-Kept: yes\r\nx-forwarded-proto: http\r\n\r\n");
}

TEST(HeadWriterTest, AppendsTheClientToEveryXffValueInOrder) {
  std::string req = "GET / HTTP/1.1\r\nHost: svc\r\n";
  for (int i = 0; i < 10; ++i) req += "X-Forwarded-For: 10.0.0." + std::to_string(i) + "\r\n";
  req += "\r\n";
  auto parsed = parse(req);
  RequestHeadOptions opts;
  opts.append_xff = true;
  opts.peer = "192.0.2.7";
  opts.generate_request_id = false;
  const std::string out = written(parsed->head, opts);
  std::string want = "x-forwarded-for: ";
  for (int i = 0; i < 10; ++i) want += "10.0.0." + std::to_string(i) + ", ";
  want += "192.0.2.7\r\n";
  EXPECT_NE(out.find(want), std::string::npos) << out;  // none of the ten is lost
  EXPECT_EQ(out.find("X-Forwarded-For"), std::string::npos) << out;
}

TEST(HeadWriterTest, RequestIdIsKeptFromInternalClientsAndReplacedFromExternalOnes) {
  auto req = parse("GET / HTTP/1.1\r\nHost: svc\r\nx-request-id: abc\r\n\r\n");
  RequestHeadOptions opts;
  opts.use_remote_address = true;
  opts.random_hi = 1;
  opts.random_lo = 2;
  opts.peer_is_internal = true;
  EXPECT_NE(written(req->head, opts).find("x-request-id: abc\r\n"), std::string::npos);
  opts.peer_is_internal = false;
  const std::string external = written(req->head, opts);
  EXPECT_EQ(external.find("abc"), std::string::npos);
  EXPECT_NE(external.find("x-request-id: 00000000-0000-4001-8000-000000000002\r\n"), std::string::npos) << external;
}

TEST(HeadWriterTest, PrefixRewriteAndDefaultHost) {
  auto req = parse("GET /old/path?q=1 HTTP/1.0\r\n\r\n");
  RequestHeadOptions opts;
  opts.prefix_rewrite = std::string_view("/new");
  opts.strip_prefix_length = 4;
  opts.default_host = "backend";
  opts.generate_request_id = false;
  EXPECT_EQ(written(req->head, opts),
            "GET /new/path?q=1 HTTP/1.1\r\nhost: backend\r\nx-forwarded-proto: http\r\n\r\n");
}

TEST(HeadWriterTest, HostRewriteReplacesEveryHostOnce) {
  auto req = parse("GET /p HTTP/1.1\r\nHost: gateway.example.com:8080\r\nX-A: 1\r\n\r\n");
  RequestHeadOptions opts;
  opts.host_rewrite = std::string_view("color.local");
  opts.default_host = "backend";
  opts.generate_request_id = false;
  EXPECT_EQ(written(req->head, opts), "GET /p HTTP/1.1\r\nX-A: 1\r\nhost: color.local\r\nx-forwarded-proto: http\r\n\r\n");
  auto http10 = parse("GET /p HTTP/1.0\r\n\r\n");  // no Host at all: the rewrite, not the default
  EXPECT_EQ(written(http10->head, opts), "GET /p HTTP/1.1\r\nhost: color.local\r\nx-forwarded-proto: http\r\n\r\n");
}

TEST(HeadWriterTest, ResponseHeadSaysCloseOrKeepAliveAndDropsChunkingWhenDecoding) {
  auto resp = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n",
                    Parser::Type::Response);
  BufferPool pool;
  Buffer out(pool);
  writeResponseHead(out, resp->head, false, true, true);
  EXPECT_EQ(std::string(out.base(), out.size()), "HTTP/1.1 200 OK\r\nX-A: 1\r\nconnection: keep-alive\r\n\r\n");
  writeResponseHead(out, resp->head, true, false, false);
  EXPECT_EQ(std::string(out.base(), out.size()),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nconnection: close\r\n\r\n");
}

TEST(HeadWriterTest, InternalAddresses) {
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "::1", "fc00::1",
                        "fd12:3456::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(isInternalAddress(ip::make_address(a))) << a;
  }
  for (const char* a : {"8.8.8.8", "172.15.0.1", "172.32.0.1", "192.169.0.1", "11.0.0.1", "2001:db8::1",
                        "::ffff:8.8.8.8", "fe80::1"}) {
    EXPECT_FALSE(isInternalAddress(ip::make_address(a))) << a;
  }
}

}  // namespace
}  // namespace trellis::proxy::http
