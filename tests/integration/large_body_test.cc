// 100 MiB up and 100 MiB down through the proxy with flat memory: bodies are streamed with
// bounded buffers, never held whole. The proxy, the fake upstream and the client share this
// process, and all three stream, so the process's peak resident size may grow by far less
// than one body.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/byte_pattern.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/process_memory.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

constexpr uint64_t kBodyBytes = 100ull << 20;
constexpr int64_t kAllowedGrowth = 32ll << 20;
constexpr size_t kBlock = 64 * 1024;

// Reads the request body (checking its pattern), then streams a pattern body with
// Content-Length, or chunked in 64 KiB chunks: 100 MiB for /big, 1000 bytes otherwise.
FakeUpstream::Handler sinkThenStream(std::atomic<uint64_t>& received, std::atomic<uint64_t>& mismatches,
                                     bool chunked) {
  return [&received, &mismatches, chunked](FakeUpstream::Exchange& ex) {
    PatternCheck check;
    if (!ex.readBody([&](std::string_view s) { check.feed(s); })) return false;
    const bool big = ex.request().target == "/big";
    const uint64_t response_bytes = big ? kBodyBytes : 1000;
    if (big) {
      received = check.bytes();
      mismatches = check.mismatches();
    }
    HeaderList headers;
    if (chunked) {
      headers.emplace_back("transfer-encoding", "chunked");
    } else {
      headers.emplace_back("content-length", std::to_string(response_bytes));
    }
    if (!ex.write(responseHead(200, headers))) return false;
    std::vector<char> block(kBlock);
    for (uint64_t off = 0; off < response_bytes; off += kBlock) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, response_bytes - off));
      fillPattern(block.data(), n, off);
      if (chunked) {
        char size_line[32];
        int len = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
        if (!ex.write(std::string_view(size_line, static_cast<size_t>(len)))) return false;
      }
      if (!ex.write(std::string_view(block.data(), n))) return false;
      if (chunked && !ex.write("\r\n")) return false;
    }
    if (chunked && !ex.write("0\r\n\r\n")) return false;
    return true;
  };
}

// Sends `bytes` of pattern body after `head`, 64 KiB per write (or per chunk).
bool sendPatternBody(RawClient& client, uint64_t bytes, bool chunked) {
  std::vector<char> block(kBlock);
  for (uint64_t off = 0; off < bytes; off += kBlock) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, bytes - off));
    fillPattern(block.data(), n, off);
    if (chunked) {
      char size_line[32];
      int len = std::snprintf(size_line, sizeof(size_line), "%zx;part=%llu\r\n", n,
                              static_cast<unsigned long long>(off / kBlock));
      if (!client.send(std::string_view(size_line, static_cast<size_t>(len)))) return false;
    }
    if (!client.send(std::string_view(block.data(), n))) return false;
    if (chunked && !client.send("\r\n")) return false;
  }
  return !chunked || client.send("0\r\n\r\n");
}

class LargeBodyTest : public ::testing::TestWithParam<bool> {};

TEST_P(LargeBodyTest, HundredMebibytesEachWayWithFlatMemory) {
  const bool chunked = GetParam();
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> mismatches{0};
  FakeUpstream upstream(sinkThenStream(received, mismatches, chunked));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a", "timeout: 120s"), {{"a", {upstream.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port(), std::chrono::seconds(20));
  ASSERT_NE(client, nullptr);

  // Warm up: threads, pools and first buffers exist before the baseline.
  {
    ASSERT_TRUE(client->send(makeRequest("POST", "/warm", "svc", {}, std::string(1000, 'a'))));
    PatternCheck ignored;
    auto warm = client->readResponse(false, [&](std::string_view s) { ignored.feed(s); });
    ASSERT_TRUE(warm) << client->error();
  }
  const bool peak_resettable = resetPeakResident();
  ASSERT_TRUE(peak_resettable) << "cannot reset VmHWM through /proc/self/clear_refs";
  const int64_t baseline = residentBytes();
  ASSERT_GT(baseline, 0);

  std::string head = "POST /big HTTP/1.1\r\nhost: svc\r\n";
  head += chunked ? "transfer-encoding: chunked\r\n" : "content-length: " + std::to_string(kBodyBytes) + "\r\n";
  head += "\r\n";
  ASSERT_TRUE(client->send(head));
  ASSERT_TRUE(sendPatternBody(*client, kBodyBytes, chunked));
  PatternCheck check;
  auto resp = client->readResponse(false, [&](std::string_view s) { check.feed(s); });
  ASSERT_TRUE(resp) << client->error();
  const int64_t peak = peakResidentBytes();

  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->chunked, chunked);
  EXPECT_EQ(received.load(), kBodyBytes);
  EXPECT_EQ(mismatches.load(), 0u);
  EXPECT_EQ(check.bytes(), kBodyBytes);
  EXPECT_EQ(check.mismatches(), 0u);
  EXPECT_LT(peak - baseline, kAllowedGrowth) << "peak RSS grew by " << (peak - baseline) / (1 << 20)
                                             << " MiB while 200 MiB passed through";
  // Still a healthy keep-alive connection afterwards.
  ASSERT_TRUE(client->send(makeRequest("POST", "/after", "svc", {}, "x")));
  PatternCheck ignored;
  auto after = client->readResponse(false, [&](std::string_view s) { ignored.feed(s); });
  ASSERT_TRUE(after) << client->error();
  EXPECT_EQ(after->status, 200);
}

INSTANTIATE_TEST_SUITE_P(Framing, LargeBodyTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Chunked" : "ContentLength"; });

}  // namespace
}  // namespace trellis::tests
