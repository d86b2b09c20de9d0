// Micro-benchmarks of the proxy's HTTP/1.1 parsing and header handling (proxy/http).
//
// Each benchmark drives proxy::http::Parser the way DownstreamSession does: feed() a slice of
// the connection buffer until the head is complete, bindHead() into a MessageHead whose header
// vector keeps its capacity across requests, then let the parser reach the message end (an
// empty feed for a body-less request, or body slices relayed as llhttp validates them).
#include <algorithm>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/micro/http_messages.h"
#include "proxy/http/message_head.h"
#include "proxy/http/parser.h"

namespace trellis::bench::micro {
namespace {

using proxy::http::MessageHead;
using proxy::http::Parser;

// Parses one body-less message from `bytes`, fed in slices of `slice` bytes (0: all at once).
// Returns false (after reporting the error) when the parser does not end where expected.
bool parseOne(benchmark::State& state, Parser& parser, MessageHead& head, const std::string& bytes, size_t slice) {
  const char* base = bytes.data();
  const size_t n = bytes.size();
  size_t pos = 0;
  for (;;) {
    size_t end = slice == 0 ? n : std::min(pos + slice, n);
    auto step = parser.feed(base, pos, end);
    if (step.status == Parser::Status::Error || (step.status == Parser::Status::NeedMore && end == n)) {
      state.SkipWithError("the parser did not complete the head");
      return false;
    }
    pos += step.consumed;
    if (step.status == Parser::Status::HeadComplete) break;
  }
  parser.bindHead(base, head);
  if (parser.feed(base, pos, pos).status != Parser::Status::MessageComplete || pos != n) {
    state.SkipWithError("the parser did not complete the message");
    return false;
  }
  return true;
}

void BM_ParseRequestHead(benchmark::State& state, std::string bytes, size_t slice) {
  Parser parser(Parser::Type::Request, proxy::http::ParserLimits{});
  MessageHead head;
  head.headers.reserve(128);
  for (auto _ : state) {
    if (!parseOne(state, parser, head, bytes, slice)) return;
    benchmark::DoNotOptimize(head.headers.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  state.counters["head_bytes"] = static_cast<double>(bytes.size());
  state.counters["headers"] = static_cast<double>(head.headers.size());
}
BENCHMARK_CAPTURE(BM_ParseRequestHead, typical_whole, typicalRequestHead(), 0);
BENCHMARK_CAPTURE(BM_ParseRequestHead, typical_7B_slices, typicalRequestHead(), 7);
BENCHMARK_CAPTURE(BM_ParseRequestHead, large60_whole, largeRequestHead(), 0);
BENCHMARK_CAPTURE(BM_ParseRequestHead, large60_7B_slices, largeRequestHead(), 7);

void BM_ParseResponseHead(benchmark::State& state) {
  const std::string bytes = typicalResponseHead(0);
  Parser parser(Parser::Type::Response, proxy::http::ParserLimits{});
  MessageHead head;
  head.headers.reserve(128);
  for (auto _ : state) {
    if (!parseOne(state, parser, head, bytes, 0)) return;
    benchmark::DoNotOptimize(head.headers.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ParseResponseHead);

// A request with a body, the body relayed as DownstreamSession::sendRequestBody does: each feed
// gets what one 16 KiB read would have buffered, and reports how many raw bytes to forward.
void relayBody(benchmark::State& state, const std::string& bytes, size_t body_bytes) {
  constexpr size_t kRead = 16 * 1024;
  Parser parser(Parser::Type::Request, proxy::http::ParserLimits{});
  MessageHead head;
  head.headers.reserve(128);
  const char* base = bytes.data();
  const size_t n = bytes.size();
  size_t relayed = 0;
  for (auto _ : state) {
    size_t pos = 0;
    auto step = parser.feed(base, 0, n);
    if (step.status != Parser::Status::HeadComplete) {
      state.SkipWithError("head not complete");
      return;
    }
    parser.bindHead(base, head);
    pos = step.consumed;
    for (;;) {
      size_t end = std::min(pos + kRead, n);
      step = parser.feed(base, pos, end);
      if (step.status == Parser::Status::Error) {
        state.SkipWithError(parser.errorReason().data());
        return;
      }
      relayed += step.consumed;
      pos += step.consumed;
      if (step.status == Parser::Status::MessageComplete) break;
      if (end == n) {
        state.SkipWithError("body not complete");
        return;
      }
    }
  }
  benchmark::DoNotOptimize(relayed);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body_bytes));
}

void BM_ChunkedBodyRelay(benchmark::State& state) {
  const size_t body = 64 * 1024;
  relayBody(state, chunkedRequest(body, static_cast<size_t>(state.range(0))), body);
}
BENCHMARK(BM_ChunkedBodyRelay)->ArgName("chunk_bytes")->Arg(64)->Arg(1024)->Arg(16 * 1024);

void BM_ContentLengthBodyRelay(benchmark::State& state) {
  const size_t body = 64 * 1024;
  relayBody(state, contentLengthRequest(body), body);
}
BENCHMARK(BM_ContentLengthBodyRelay);

// ---- header helpers -------------------------------------------------------------------------

void BM_EqualsIgnoreCase(benchmark::State& state, std::string a, std::string b) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(proxy::http::equalsIgnoreCase(a, b));
  }
}
BENCHMARK_CAPTURE(BM_EqualsIgnoreCase, equal, std::string("Content-Type"), std::string("content-type"));
BENCHMARK_CAPTURE(BM_EqualsIgnoreCase, differ_last_byte, std::string("Content-Type"), std::string("content-typf"));
BENCHMARK_CAPTURE(BM_EqualsIgnoreCase, differ_length, std::string("Content-Type"), std::string("content-length"));
BENCHMARK_CAPTURE(BM_EqualsIgnoreCase, equal_long, std::string("X-Forwarded-Client-Cert-Chain"),
                  std::string("x-forwarded-client-cert-chain"));

void BM_HasToken(benchmark::State& state, std::string list, std::string token) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(list);
    benchmark::DoNotOptimize(proxy::http::hasToken(list, token));
  }
}
BENCHMARK_CAPTURE(BM_HasToken, single_hit, std::string("keep-alive"), std::string("keep-alive"));
BENCHMARK_CAPTURE(BM_HasToken, list_hit_middle, std::string("keep-alive, Upgrade, HTTP2-Settings"),
                  std::string("upgrade"));
BENCHMARK_CAPTURE(BM_HasToken, list_miss, std::string("keep-alive, Upgrade, HTTP2-Settings"), std::string("close"));

// MessageHead::find on the typical request: the first header, the last, and an absent one
// (the session looks up "expect" on every request; routing looks up header matchers).
void BM_FindHeader(benchmark::State& state, std::string name) {
  const std::string bytes = typicalRequestHead();
  Parser parser(Parser::Type::Request, proxy::http::ParserLimits{});
  MessageHead head;
  if (!parseOne(state, parser, head, bytes, 0)) return;
  for (auto _ : state) {
    benchmark::DoNotOptimize(name);
    benchmark::DoNotOptimize(head.find(name));
  }
}
BENCHMARK_CAPTURE(BM_FindHeader, first_host, std::string("host"));
BENCHMARK_CAPTURE(BM_FindHeader, last_cookie, std::string("cookie"));
BENCHMARK_CAPTURE(BM_FindHeader, absent_expect, std::string("expect"));

}  // namespace
}  // namespace trellis::bench::micro

BENCHMARK_MAIN();
