// The format compiler (format string -> segments) and the line writer; see format.h.
#include "proxy/accesslog/format.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy::accesslog {

namespace {

struct OpName {
  std::string_view name;
  Op op;
  bool takes_args;
};

// Every command operator Trellis supports, in Envoy's spelling.
constexpr OpName kOps[] = {
    {"START_TIME", Op::StartTime, true},
    {"REQ", Op::Req, true},
    {"RESP", Op::Resp, true},
    {"PROTOCOL", Op::Protocol, false},
    {"RESPONSE_CODE", Op::ResponseCode, false},
    {"RESPONSE_CODE_DETAILS", Op::ResponseCodeDetails, false},
    {"RESPONSE_FLAGS", Op::ResponseFlags, false},
    {"BYTES_RECEIVED", Op::BytesReceived, false},
    {"BYTES_SENT", Op::BytesSent, false},
    {"DURATION", Op::Duration, false},
    {"REQUEST_DURATION", Op::RequestDuration, false},
    {"RESPONSE_DURATION", Op::ResponseDuration, false},
    {"UPSTREAM_SERVICE_TIME", Op::UpstreamServiceTime, false},
    {"UPSTREAM_HOST", Op::UpstreamHost, false},
    {"UPSTREAM_CLUSTER", Op::UpstreamCluster, false},
    {"UPSTREAM_LOCAL_ADDRESS", Op::UpstreamLocalAddress, false},
    {"DOWNSTREAM_REMOTE_ADDRESS", Op::DownstreamRemoteAddress, false},
    {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Op::DownstreamRemoteAddressWithoutPort, false},
    {"DOWNSTREAM_LOCAL_ADDRESS", Op::DownstreamLocalAddress, false},
    {"ROUTE_NAME", Op::RouteName, false},
    {"REQUESTED_SERVER_NAME", Op::RequestedServerName, false},
    {"HOSTNAME", Op::Hostname, false},
    {"UPSTREAM_TRANSPORT_FAILURE_REASON", Op::UpstreamTransportFailureReason, false},
};

std::string supportedList() {
  std::vector<std::string> names;
  for (const auto& o : kOps) names.emplace_back(o.name);
  return absl::StrJoin(names, ", ");
}

bool isOperatorChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

absl::StatusOr<HeaderRef> headerRef(const std::string& name, bool request, HeaderNames& names, const std::string& op) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat("%", op, "(...)% names no header"));
  const std::string lower = absl::AsciiStrToLower(name);
  HeaderRef ref;
  if (lower[0] == ':') {
    if (!request) {
      return absl::InvalidArgumentError(
          absl::StrCat("%", op, "(", name, ")%: response pseudo-headers are not supported (name a header)"));
    }
    if (lower == ":method") {
      ref.kind = HeaderRef::Kind::Method;
    } else if (lower == ":path") {
      ref.kind = HeaderRef::Kind::Path;
    } else if (lower == ":authority") {
      ref.kind = HeaderRef::Kind::Authority;
    } else if (lower == ":scheme") {
      ref.kind = HeaderRef::Kind::Scheme;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("%", op, "(", name,
                                                     ")%: unknown pseudo-header (:method, :path, :authority and "
                                                     ":scheme are supported)"));
    }
    return ref;
  }
  if (!request && lower == "x-envoy-upstream-service-time") {
    // Envoy's upstream sets this header and its default format prints it; in Trellis it is what
    // the proxy measured (the same value as %UPSTREAM_SERVICE_TIME%).
    ref.kind = HeaderRef::Kind::UpstreamServiceTime;
    return ref;
  }
  ref.kind = HeaderRef::Kind::Header;
  ref.index = names.add(request ? names.request : names.response, lower);
  return ref;
}

absl::StatusOr<std::vector<TimePiece>> parseTimeFormat(std::string_view f) {
  std::vector<TimePiece> out;
  std::string text;
  auto flush = [&] {
    if (!text.empty()) out.push_back(TimePiece{std::move(text), 0, false});
    text.clear();
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      text += f[i];
      continue;
    }
    const char c = f[i + 1];
    if (c == 'f') {
      flush();
      out.push_back(TimePiece{"", 9, false});
      ++i;
    } else if (c >= '1' && c <= '9' && i + 2 < f.size() && f[i + 2] == 'f') {
      flush();
      out.push_back(TimePiece{"", static_cast<uint8_t>(c - '0'), false});
      i += 2;
    } else if (c == 's') {
      flush();
      out.push_back(TimePiece{"", 0, true});
      ++i;
    } else {
      text += f[i];
      text += c;
      ++i;
    }
  }
  flush();
  return out;
}

// A value an operator produced.
struct Value {
  enum class Kind : uint8_t { Absent, Text, Number } kind = Kind::Absent;
  std::string_view text;
  uint64_t number = 0;
};

Value text(std::string_view s) { return s.empty() ? Value{} : Value{Value::Kind::Text, s, 0}; }
Value number(uint64_t n) { return Value{Value::Kind::Number, {}, n}; }
Value millis(const std::optional<std::chrono::microseconds>& d) {
  if (!d) return Value{};
  return number(static_cast<uint64_t>(std::max<int64_t>(0, d->count() / 1000)));
}

// "ip:port" (IPv6 in brackets) or the address alone, into `buf` (at least 64 bytes).
std::string_view address(const boost::asio::ip::tcp::endpoint* ep, bool with_port, char* buf) {
  if (!ep) return {};
  const auto a = ep->address();
  size_t n = 0;
  if (a.is_v4()) {
    const auto bytes = a.to_v4().to_bytes();
    if (!inet_ntop(AF_INET, bytes.data(), buf, 64)) return {};
    n = std::strlen(buf);
  } else {
    const auto bytes = a.to_v6().to_bytes();
    buf[0] = '[';
    if (!inet_ntop(AF_INET6, bytes.data(), buf + 1, 62)) return {};
    n = std::strlen(buf);
    if (!with_port) return std::string_view(buf + 1, n - 1);
    buf[n++] = ']';
  }
  if (with_port) {
    buf[n++] = ':';
    auto [end, ec] = std::to_chars(buf + n, buf + 64, ep->port());
    n = static_cast<size_t>(end - buf);
  }
  return std::string_view(buf, n);
}

// The broken-down UTC time of a second, cached per thread: most lines share the last one.
const std::tm& utc(std::time_t secs) {
  thread_local std::time_t cached = -1;
  thread_local std::tm tm{};
  if (secs != cached) {
    gmtime_r(&secs, &tm);
    cached = secs;
  }
  return tm;
}

std::string_view startTime(const Segment& s, const LogRecord& r, char* buf, size_t cap) {
  using namespace std::chrono;
  const auto since = r.start_time.time_since_epoch();
  const auto secs = duration_cast<seconds>(since);
  const uint64_t nanos = static_cast<uint64_t>(duration_cast<nanoseconds>(since - secs).count());
  const std::tm& tm = utc(static_cast<std::time_t>(secs.count()));
  size_t n = 0;
  if (s.time.empty()) {
    // Envoy's default: 2016-04-15T20:17:00.310Z.
    n = std::strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    n += static_cast<size_t>(std::snprintf(buf + n, cap - n, ".%03uZ", static_cast<unsigned>(nanos / 1000000)));
    return std::string_view(buf, n);
  }
  for (const auto& p : s.time) {
    if (n >= cap) break;
    if (p.epoch_seconds) {
      auto [end, ec] = std::to_chars(buf + n, buf + cap, static_cast<int64_t>(secs.count()));
      n = static_cast<size_t>(end - buf);
    } else if (p.digits > 0) {
      char digits[10];
      std::snprintf(digits, sizeof digits, "%09llu", static_cast<unsigned long long>(nanos));
      const size_t take = std::min<size_t>(p.digits, cap - n);
      std::memcpy(buf + n, digits, take);
      n += take;
    } else {
      n += std::strftime(buf + n, cap - n, p.strftime_text.c_str(), &tm);
    }
  }
  return std::string_view(buf, std::min(n, cap));
}

std::string_view header(const HeaderRef& ref, const LogRecord& r, bool request) {
  switch (ref.kind) {
    case HeaderRef::Kind::None:
    case HeaderRef::Kind::UpstreamServiceTime:
      return {};
    case HeaderRef::Kind::Method:
      return r.method;
    case HeaderRef::Kind::Path:
      return r.path;
    case HeaderRef::Kind::Authority:
      return r.authority;
    case HeaderRef::Kind::Scheme:
      return r.protocol.empty() ? std::string_view() : std::string_view("http");
    case HeaderRef::Kind::Header: {
      const auto* list = request ? r.request_headers : r.response_headers;
      return list && ref.index < list->size() ? (*list)[ref.index] : std::string_view();
    }
  }
  return {};
}

Value headerValue(const HeaderRef& ref, const LogRecord& r, bool request) {
  if (ref.kind == HeaderRef::Kind::UpstreamServiceTime) return millis(r.upstream_service_time);
  return text(header(ref, r, request));
}

// Scratch space for one value: long enough for any address, number, flag list or time.
constexpr size_t kScratch = 256;

Value evaluate(const Segment& s, const LogRecord& r, char* buf) {
  switch (s.op) {
    case Op::Literal:
      return text(s.text);
    case Op::StartTime:
      return text(startTime(s, r, buf, kScratch));
    case Op::Req:
    case Op::Resp: {
      const bool request = s.op == Op::Req;
      Value v = headerValue(s.main, r, request);
      if (v.kind == Value::Kind::Absent && s.alt.kind != HeaderRef::Kind::None) v = headerValue(s.alt, r, request);
      if (v.kind == Value::Kind::Text && s.max_length > 0 && v.text.size() > s.max_length) {
        v.text = v.text.substr(0, s.max_length);
      }
      return v;
    }
    case Op::Protocol:
      return text(r.protocol);
    case Op::ResponseCode:
      return number(r.response_code);
    case Op::ResponseCodeDetails:
      return text(r.response_code_details);
    case Op::ResponseFlags: {
      size_t n = 0;
      for (size_t f = 0; f < kResponseFlagCount; ++f) {
        if (!(r.response_flags & (1u << f))) continue;
        const auto name = responseFlagName(static_cast<ResponseFlag>(f));
        if (n > 0) buf[n++] = ',';
        std::memcpy(buf + n, name.data(), name.size());
        n += name.size();
      }
      return text(std::string_view(buf, n));
    }
    case Op::BytesReceived:
      return number(r.bytes_received);
    case Op::BytesSent:
      return number(r.bytes_sent);
    case Op::Duration:
      return millis(r.duration);
    case Op::RequestDuration:
      return millis(r.request_duration);
    case Op::ResponseDuration:
      return millis(r.response_duration);
    case Op::UpstreamServiceTime:
      return millis(r.upstream_service_time);
    case Op::UpstreamHost:
      return text(address(r.upstream_host, true, buf));
    case Op::UpstreamCluster:
      return text(r.upstream_cluster);
    case Op::UpstreamLocalAddress:
      return text(address(r.upstream_local, true, buf));
    case Op::DownstreamRemoteAddress:
      return text(address(r.downstream_remote, true, buf));
    case Op::DownstreamRemoteAddressWithoutPort:
      return text(address(r.downstream_remote, false, buf));
    case Op::DownstreamLocalAddress:
      return text(address(r.downstream_local, true, buf));
    case Op::RouteName:
      return text(r.route_name);
    case Op::RequestedServerName:
      return text(r.requested_server_name);
    case Op::Hostname:
      return text(s.text);
    case Op::UpstreamTransportFailureReason:
      return text(r.upstream_transport_failure_reason);
  }
  return {};
}

void appendNumber(uint64_t n, std::string& out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, static_cast<size_t>(end - digits));
}

void appendText(const Value& v, bool omit_empty, std::string& out) {
  switch (v.kind) {
    case Value::Kind::Absent:
      if (!omit_empty) out += '-';
      break;
    case Value::Kind::Text:
      out.append(v.text);
      break;
    case Value::Kind::Number:
      appendNumber(v.number, out);
      break;
  }
}

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

}  // namespace

uint32_t HeaderNames::add(std::vector<std::string>& list, std::string_view name) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == name) return static_cast<uint32_t>(i);
  }
  list.emplace_back(name);
  return static_cast<uint32_t>(list.size() - 1);
}

absl::StatusOr<std::vector<Segment>> parseFormat(std::string_view f, HeaderNames& names) {
  std::vector<Segment> out;
  std::string literal;
  auto flushLiteral = [&] {
    if (literal.empty()) return;
    Segment s;
    s.text = std::move(literal);
    out.push_back(std::move(s));
    literal.clear();
  };
  size_t i = 0;
  while (i < f.size()) {
    if (f[i] != '%') {
      literal += f[i++];
      continue;
    }
    size_t j = i + 1;
    while (j < f.size() && isOperatorChar(f[j])) ++j;
    const std::string name(f.substr(i + 1, j - i - 1));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'%' at offset ", i, " begins no command operator (operators are %NAME%, e.g. %RESPONSE_CODE%)"));
    }
    const OpName* known = nullptr;
    for (const auto& o : kOps) {
      if (o.name == name) known = &o;
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown command operator %", name, "% (supported: ", supportedList(), ")"));
    }
    std::string_view args;
    bool has_args = false;
    if (j < f.size() && f[j] == '(') {
      const size_t close = f.find(')', j);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("%", name, "(: the '(' is not closed"));
      }
      args = f.substr(j + 1, close - j - 1);
      has_args = true;
      j = close + 1;
    }
    size_t max_length = 0;
    if (j < f.size() && f[j] == ':') {
      size_t k = j + 1;
      while (k < f.size() && std::isdigit(static_cast<unsigned char>(f[k]))) ++k;
      if (k == j + 1) return absl::InvalidArgumentError(absl::StrCat("%", name, "%: ':' must be followed by a length"));
      std::from_chars(f.data() + j + 1, f.data() + k, max_length);
      j = k;
    }
    if (j >= f.size() || f[j] != '%') {
      return absl::InvalidArgumentError(absl::StrCat("command operator %", name, " at offset ", i, " is not closed by '%'"));
    }
    Segment s;
    s.op = known->op;
    s.max_length = max_length;
    if (has_args && !known->takes_args) {
      return absl::InvalidArgumentError(absl::StrCat("%", name, "% takes no arguments"));
    }
    if (known->op == Op::Req || known->op == Op::Resp) {
      if (!has_args) return absl::InvalidArgumentError(absl::StrCat("%", name, "% needs a header: %", name, "(X?Y):Z%"));
      const bool request = known->op == Op::Req;
      const size_t q = args.find('?');
      auto m = headerRef(std::string(args.substr(0, q)), request, names, name);
      if (!m.ok()) return m.status();
      s.main = *m;
      if (q != std::string_view::npos) {
        auto a = headerRef(std::string(args.substr(q + 1)), request, names, name);
        if (!a.ok()) return a.status();
        s.alt = *a;
      }
    } else if (known->op == Op::StartTime && has_args && !args.empty()) {
      auto t = parseTimeFormat(args);
      if (!t.ok()) return t.status();
      s.time = std::move(*t);
    } else if (known->op == Op::Hostname) {
      s.text = hostName();
    }
    flushLiteral();
    out.push_back(std::move(s));
    i = j + 1;
  }
  flushLiteral();
  return out;
}

void appendJsonEscaped(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
}

absl::StatusOr<Formatter> Formatter::text(std::string_view format, HeaderNames& names, bool omit_empty) {
  auto segs = parseFormat(format, names);
  if (!segs.ok()) return segs.status();
  Formatter f;
  f.segments_ = std::move(*segs);
  f.omit_empty_ = omit_empty;
  return f;
}

absl::StatusOr<std::vector<Formatter::Field>> Formatter::compileFields(const std::vector<JsonTemplate>& fields,
                                                                      HeaderNames& names) {
  std::vector<Field> out;
  for (const auto& t : fields) {
    Field f;
    f.key_json = "\"";
    appendJsonEscaped(t.key, f.key_json);
    f.key_json += "\":";
    f.kind = t.kind;
    switch (t.kind) {
      case JsonTemplate::Kind::Format: {
        auto segs = parseFormat(t.text, names);
        if (!segs.ok()) return absl::InvalidArgumentError(absl::StrCat("key '", t.key, "': ", std::string(segs.status().message())));
        f.segments = std::move(*segs);
        break;
      }
      case JsonTemplate::Kind::Object: {
        auto c = compileFields(t.children, names);
        if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat("key '", t.key, "': ", std::string(c.status().message())));
        f.children = std::move(*c);
        break;
      }
      case JsonTemplate::Kind::Number: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", t.number);
        f.constant = buf;
        break;
      }
      case JsonTemplate::Kind::Bool:
        f.constant = t.boolean ? "true" : "false";
        break;
      case JsonTemplate::Kind::Null:
        f.constant = "null";
        break;
    }
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<Formatter> Formatter::json(const std::vector<JsonTemplate>& fields, HeaderNames& names, bool typed,
                                          bool omit_empty) {
  auto compiled = compileFields(fields, names);
  if (!compiled.ok()) return compiled.status();
  Formatter f;
  f.json_ = true;
  f.typed_ = typed;
  f.omit_empty_ = omit_empty;
  f.fields_ = std::move(*compiled);
  return f;
}

void Formatter::formatObject(const std::vector<Field>& fields, const LogRecord& r, std::string& out) const {
  char buf[kScratch];
  out += '{';
  bool first = true;
  for (const auto& f : fields) {
    const size_t mark = out.size();
    if (!first) out += ',';
    out += f.key_json;
    bool omit = false;
    switch (f.kind) {
      case JsonTemplate::Kind::Object:
        formatObject(f.children, r, out);
        break;
      case JsonTemplate::Kind::Number:
      case JsonTemplate::Kind::Bool:
      case JsonTemplate::Kind::Null:
        out += f.constant;
        break;
      case JsonTemplate::Kind::Format: {
        if (f.segments.size() == 1 && f.segments[0].op != Op::Literal) {
          // One operator: its value keeps its type (typed), or is "-" / null when missing.
          const Value v = evaluate(f.segments[0], r, buf);
          if (v.kind == Value::Kind::Absent) {
            if (omit_empty_) {
              omit = true;
            } else {
              out += typed_ ? "null" : "\"-\"";
            }
          } else if (v.kind == Value::Kind::Number && typed_) {
            appendNumber(v.number, out);
          } else {
            out += '"';
            if (v.kind == Value::Kind::Number) {
              appendNumber(v.number, out);
            } else {
              appendJsonEscaped(v.text, out);
            }
            out += '"';
          }
          break;
        }
        out += '"';
        for (const auto& s : f.segments) {
          const Value v = evaluate(s, r, buf);
          if (v.kind == Value::Kind::Number) {
            appendNumber(v.number, out);
          } else if (v.kind == Value::Kind::Text) {
            appendJsonEscaped(v.text, out);
          } else if (!omit_empty_) {
            out += '-';
          }
        }
        out += '"';
        break;
      }
    }
    if (omit) {
      out.resize(mark);
    } else {
      first = false;
    }
  }
  out += '}';
}

void Formatter::format(const LogRecord& r, std::string& out) const {
  if (json_) {
    formatObject(fields_, r, out);
    out += '\n';
    return;
  }
  char buf[kScratch];
  for (const auto& s : segments_) {
    if (s.op == Op::Literal) {
      out += s.text;
      continue;
    }
    appendText(evaluate(s, r, buf), omit_empty_, out);
  }
}

}  // namespace trellis::proxy::accesslog
