// The format compiler and line writer, operator by operator, and the filters.
#include <gtest/gtest.h>

#include <chrono>

#include "proxy/accesslog/filter.h"
#include "proxy/accesslog/format.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy::accesslog {
namespace {

using namespace std::chrono;
namespace ip = boost::asio::ip;

struct Fixture {
  ip::tcp::endpoint upstream{ip::make_address("10.0.0.7"), 8080};
  ip::tcp::endpoint upstream_local{ip::make_address("10.0.0.1"), 40000};
  ip::tcp::endpoint remote{ip::make_address("192.168.1.5"), 51000};
  ip::tcp::endpoint local{ip::make_address("::1"), 15001};
  std::vector<std::string_view> req;
  std::vector<std::string_view> resp;
  LogRecord r;

  Fixture() {
    // 2016-04-15T20:17:00.310Z, as in Envoy's documentation.
    r.start_time = system_clock::time_point(seconds(1460751420) + microseconds(310123));
    r.method = "GET";
    r.path = "/colors?x=1";
    r.authority = "front.mesh";
    r.protocol = "HTTP/1.1";
    r.response_code = 200;
    r.bytes_received = 12;
    r.bytes_sent = 345;
    r.duration = microseconds(57900);
    r.request_duration = microseconds(1200);
    r.response_duration = microseconds(55100);
    r.upstream_service_time = microseconds(54000);
    r.upstream_host = &upstream;
    r.upstream_local = &upstream_local;
    r.downstream_remote = &remote;
    r.downstream_local = &local;
    r.upstream_cluster = "colorteller";
    r.route_name = "default";
    r.requested_server_name = "front.example";
    r.response_code_details = "via_upstream";
  }

  std::string text(std::string_view f, HeaderNames& names, bool omit = false) {
    auto fmt = Formatter::text(f, names, omit);
    EXPECT_TRUE(fmt.ok()) << fmt.status();
    std::string out;
    if (fmt.ok()) fmt->format(r, out);
    return out;
  }
};

TEST(FormatTest, DefaultFormatPrintsEnvoysLine) {
  Fixture fx;
  HeaderNames names;
  auto fmt = Formatter::text(kDefaultFormat, names);
  ASSERT_TRUE(fmt.ok()) << fmt.status();
  ASSERT_EQ(names.request, (std::vector<std::string>{"x-envoy-original-path", "x-forwarded-for", "user-agent", "x-request-id"}));
  EXPECT_TRUE(names.response.empty());  // x-envoy-upstream-service-time is the measured time
  fx.req = {"", "10.1.1.1", "curl/8.0", "abc-123"};
  fx.r.request_headers = &fx.req;
  fx.r.response_flags = 1u << static_cast<unsigned>(ResponseFlag::UF) | 1u << static_cast<unsigned>(ResponseFlag::URX);
  std::string out;
  fmt->format(fx.r, out);
  EXPECT_EQ(out,
            "[2016-04-15T20:17:00.310Z] \"GET /colors?x=1 HTTP/1.1\" 200 UF,URX 12 345 57 54 \"10.1.1.1\" "
            "\"curl/8.0\" \"abc-123\" \"front.mesh\" \"10.0.0.7:8080\"\n");
}

TEST(FormatTest, MissingValuesPrintADash) {
  Fixture fx;
  fx.r = LogRecord{};
  HeaderNames names;
  EXPECT_EQ(fx.text("%REQ(:METHOD)% %RESPONSE_FLAGS% %DURATION% %UPSTREAM_HOST% %REQ(X-NONE)% %ROUTE_NAME% "
                    "%UPSTREAM_TRANSPORT_FAILURE_REASON% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESPONSE_CODE%",
                    names),
            "- - - - - - - - 0");
  EXPECT_EQ(fx.text("[%REQ(X-NONE)%][%DURATION%]", names, true), "[][]");
}

TEST(FormatTest, EveryOperator) {
  Fixture fx;
  HeaderNames names;
  EXPECT_EQ(fx.text("%PROTOCOL%|%RESPONSE_CODE%|%RESPONSE_CODE_DETAILS%|%BYTES_RECEIVED%|%BYTES_SENT%", names),
            "HTTP/1.1|200|via_upstream|12|345");
  EXPECT_EQ(fx.text("%DURATION%|%REQUEST_DURATION%|%RESPONSE_DURATION%|%UPSTREAM_SERVICE_TIME%", names), "57|1|55|54");
  EXPECT_EQ(fx.text("%UPSTREAM_HOST%|%UPSTREAM_CLUSTER%|%UPSTREAM_LOCAL_ADDRESS%", names),
            "10.0.0.7:8080|colorteller|10.0.0.1:40000");
  EXPECT_EQ(fx.text("%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_LOCAL_ADDRESS%",
                    names),
            "192.168.1.5:51000|192.168.1.5|[::1]:15001");
  EXPECT_EQ(fx.text("%ROUTE_NAME%|%REQUESTED_SERVER_NAME%|%REQ(:SCHEME)%|%REQ(:authority)%", names),
            "default|front.example|http|front.mesh");
  EXPECT_FALSE(fx.text("%HOSTNAME%", names).empty());
  EXPECT_NE(fx.text("%HOSTNAME%", names), "-");
}

TEST(FormatTest, StartTimeFormats) {
  Fixture fx;
  HeaderNames names;
  EXPECT_EQ(fx.text("%START_TIME(%Y/%m/%d %H:%M:%S)%", names), "2016/04/15 20:17:00");
  EXPECT_EQ(fx.text("%START_TIME(%s.%3f)%", names), "1460751420.310");
  EXPECT_EQ(fx.text("%START_TIME(%6f)%|%START_TIME(%9f)%|%START_TIME(%f)%", names), "310123|310123000|310123000");
}

TEST(FormatTest, RequestHeaderFallbackAndLength) {
  Fixture fx;
  HeaderNames names;
  auto fmt = Formatter::text("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(USER-AGENT):4% %RESP(Content-Type)%", names);
  ASSERT_TRUE(fmt.ok()) << fmt.status();
  fx.req = {"", "curl/8.0"};
  fx.resp = {"text/plain"};
  fx.r.request_headers = &fx.req;
  fx.r.response_headers = &fx.resp;
  std::string out;
  fmt->format(fx.r, out);
  EXPECT_EQ(out, "/colors?x=1 curl text/plain");
  fx.req[0] = "/original";
  out.clear();
  fmt->format(fx.r, out);
  EXPECT_EQ(out, "/original curl text/plain");
}

TEST(FormatTest, ErrorsNameTheOperator) {
  HeaderNames names;
  auto bad = Formatter::text("x %NOPE% y", names);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown command operator %NOPE%"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("START_TIME"), std::string::npos);
  EXPECT_FALSE(Formatter::text("%REQ%", names).ok());
  EXPECT_FALSE(Formatter::text("%PROTOCOL(x)%", names).ok());
  EXPECT_FALSE(Formatter::text("%PROTOCOL", names).ok());
  EXPECT_FALSE(Formatter::text("100%", names).ok());
  EXPECT_FALSE(Formatter::text("%REQ(:bogus)%", names).ok());
  EXPECT_FALSE(Formatter::text("%TRAILER(grpc-status)%", names).ok());
}

TEST(FormatTest, JsonTypedValuesAndEscaping) {
  Fixture fx;
  HeaderNames names;
  std::vector<JsonTemplate> t(6);
  t[0].key = "code";
  t[0].text = "%RESPONSE_CODE%";
  t[1].key = "ua";
  t[1].text = "%REQ(USER-AGENT)%";
  t[2].key = "missing";
  t[2].text = "%REQ(X-NONE)%";
  t[3].key = "mixed";
  t[3].text = "%RESPONSE_CODE% in %DURATION%ms";
  t[4].key = "nested";
  t[4].kind = JsonTemplate::Kind::Object;
  t[4].children.resize(1);
  t[4].children[0].key = "host";
  t[4].children[0].text = "%UPSTREAM_HOST%";
  t[5].key = "n";
  t[5].kind = JsonTemplate::Kind::Number;
  t[5].number = 3;
  fx.req = {"a \"quoted\"\\ agent\n\x01", ""};
  fx.r.request_headers = &fx.req;
  auto typed = Formatter::json(t, names, true);
  ASSERT_TRUE(typed.ok()) << typed.status();
  std::string out;
  typed->format(fx.r, out);
  EXPECT_EQ(out,
            "{\"code\":200,\"ua\":\"a \\\"quoted\\\"\\\\ agent\\n\\u0001\",\"missing\":null,\"mixed\":\"200 in 57ms\","
            "\"nested\":{\"host\":\"10.0.0.7:8080\"},\"n\":3}\n");
  auto untyped = Formatter::json(t, names, false);
  ASSERT_TRUE(untyped.ok());
  out.clear();
  untyped->format(fx.r, out);
  EXPECT_NE(out.find("\"code\":\"200\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"missing\":\"-\""), std::string::npos) << out;
  auto omit = Formatter::json(t, names, true, true);
  ASSERT_TRUE(omit.ok());
  out.clear();
  omit->format(fx.r, out);
  EXPECT_EQ(out.find("missing"), std::string::npos) << out;
  EXPECT_NE(out.find("\"ua\":"), std::string::npos) << out;
  std::vector<JsonTemplate> bad(1);
  bad[0].key = "k";
  bad[0].text = "%WHAT%";
  auto err = Formatter::json(bad, names, true);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("key 'k'"), std::string::npos) << err.status();
}

LogFilter make(LogFilter::Kind kind, LogFilter::Op op = LogFilter::Op::Eq, uint64_t value = 0) {
  LogFilter f;
  f.kind = kind;
  f.op = op;
  f.value = value;
  return f;
}

TEST(FilterTest, StatusDurationFlagsAndOr) {
  Fixture fx;
  LogFilter status = make(LogFilter::Kind::StatusCode, LogFilter::Op::Ge, 500);
  EXPECT_FALSE(status.matches(fx.r));
  fx.r.response_code = 503;
  EXPECT_TRUE(status.matches(fx.r));
  LogFilter eq = make(LogFilter::Kind::StatusCode, LogFilter::Op::Eq, 503);
  LogFilter le = make(LogFilter::Kind::StatusCode, LogFilter::Op::Le, 400);
  EXPECT_TRUE(eq.matches(fx.r));
  EXPECT_FALSE(le.matches(fx.r));
  LogFilter slow = make(LogFilter::Kind::Duration, LogFilter::Op::Ge, 100);
  EXPECT_FALSE(slow.matches(fx.r));  // 57 ms
  fx.r.duration = milliseconds(150);
  EXPECT_TRUE(slow.matches(fx.r));

  LogFilter any = make(LogFilter::Kind::ResponseFlag);
  any.any_flag = true;
  LogFilter uf = make(LogFilter::Kind::ResponseFlag);
  uf.flag_mask = 1u << static_cast<unsigned>(ResponseFlag::UF);
  EXPECT_FALSE(any.matches(fx.r));
  fx.r.response_flags = 1u << static_cast<unsigned>(ResponseFlag::NR);
  EXPECT_TRUE(any.matches(fx.r));
  EXPECT_FALSE(uf.matches(fx.r));
  fx.r.response_flags |= 1u << static_cast<unsigned>(ResponseFlag::UF);
  EXPECT_TRUE(uf.matches(fx.r));

  LogFilter both = make(LogFilter::Kind::And);
  both.children = {eq, slow};
  EXPECT_TRUE(both.matches(fx.r));
  fx.r.duration = milliseconds(10);
  EXPECT_FALSE(both.matches(fx.r));
  LogFilter either = make(LogFilter::Kind::Or);
  either.children = {le, slow};
  EXPECT_FALSE(either.matches(fx.r));
  fx.r.response_code = 200;
  EXPECT_TRUE(either.matches(fx.r));
  LogFilter not_hc = make(LogFilter::Kind::NotHealthCheck);
  EXPECT_TRUE(not_hc.matches(fx.r));
}

}  // namespace
}  // namespace trellis::proxy::accesslog
