// Envoy's access log format strings and dictionaries, compiled once per config into segments.
//
// A text format ("[%START_TIME%] \"%REQ(:METHOD)% ...\"\n") becomes a list of literals and
// command operators; a JSON format (a dictionary whose values are format strings) becomes one
// such list per key. Formatting a line appends to a caller's string and allocates nothing once
// that string has grown to its working size: addresses, numbers and times are printed into
// stack buffers. An operator the compiler does not know is an error naming it and listing the
// supported ones; a value that is missing prints "-" (null in a typed JSON format), as in Envoy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/accesslog/log_record.h"

namespace trellis::proxy::accesslog {

// The header names the formats of one HTTP connection manager read, lower-case, each once:
// the request flow captures exactly these (LogRecord::request_headers is indexed like
// `request`, response_headers like `response`).
struct HeaderNames {
  std::vector<std::string> request;
  std::vector<std::string> response;
  uint32_t add(std::vector<std::string>& list, std::string_view name);
};

// Envoy's default format, used when a file logger names none.
inline constexpr std::string_view kDefaultFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
    "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
    "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
    "\"%UPSTREAM_HOST%\"\n";

enum class Op : uint8_t {
  Literal,
  StartTime,
  Req,
  Resp,
  Protocol,
  ResponseCode,
  ResponseCodeDetails,
  ResponseFlags,
  BytesReceived,
  BytesSent,
  Duration,
  RequestDuration,
  ResponseDuration,
  UpstreamServiceTime,
  UpstreamHost,
  UpstreamCluster,
  UpstreamLocalAddress,
  DownstreamRemoteAddress,
  DownstreamRemoteAddressWithoutPort,
  DownstreamLocalAddress,
  RouteName,
  RequestedServerName,
  Hostname,
  UpstreamTransportFailureReason,
};

// One header reference of %REQ(X?Y)% / %RESP(X?Y)%.
struct HeaderRef {
  enum class Kind : uint8_t { None, Method, Path, Authority, Scheme, Header, UpstreamServiceTime };
  Kind kind = Kind::None;
  uint32_t index = 0;  // into HeaderNames, for Kind::Header
};

// A piece of a custom %START_TIME(...)% format: strftime text, or fractional seconds.
struct TimePiece {
  std::string strftime_text;  // empty: a fraction of `digits` digits
  uint8_t digits = 0;
  bool epoch_seconds = false;  // %s
};

struct Segment {
  Op op = Op::Literal;
  std::string text;                 // a literal, or the host name (%HOSTNAME%)
  HeaderRef main, alt;              // %REQ / %RESP
  std::vector<TimePiece> time;      // %START_TIME(...)%; empty: Envoy's default form
  size_t max_length = 0;            // the ":Z" of an operator; 0: unlimited
};

// One JSON format field: a key and either a format string, a nested dictionary or a constant.
struct JsonTemplate {
  enum class Kind : uint8_t { Format, Object, Number, Bool, Null };
  std::string key;
  Kind kind = Kind::Format;
  std::string text;                   // Format
  double number = 0;                  // Number
  bool boolean = false;               // Bool
  std::vector<JsonTemplate> children; // Object
};

class Formatter {
 public:
  // A format string. `omit_empty`: a missing value prints nothing instead of "-".
  static absl::StatusOr<Formatter> text(std::string_view format, HeaderNames& names, bool omit_empty = false);
  // A format dictionary; one line of JSON per request. `typed`: a value that is one numeric
  // operator stays a number and a missing one is null (log_format.json_format); untyped (the
  // older FileAccessLog.json_format) renders every value as a string.
  static absl::StatusOr<Formatter> json(const std::vector<JsonTemplate>& fields, HeaderNames& names, bool typed,
                                        bool omit_empty = false);

  // Appends the line for `r` to `out`.
  void format(const LogRecord& r, std::string& out) const;

  bool isJson() const { return json_; }

 private:
  struct Field {
    std::string key_json;  // "\"key\":" already escaped; empty for a text format's one field
    JsonTemplate::Kind kind = JsonTemplate::Kind::Format;
    std::string constant;  // a constant's JSON text
    std::vector<Segment> segments;
    std::vector<Field> children;
  };
  static absl::StatusOr<std::vector<Field>> compileFields(const std::vector<JsonTemplate>& fields, HeaderNames& names);
  void formatObject(const std::vector<Field>& fields, const LogRecord& r, std::string& out) const;

  bool json_ = false;
  bool typed_ = false;
  bool omit_empty_ = false;
  std::vector<Segment> segments_;  // text
  std::vector<Field> fields_;      // json
};

// Compiles one format string into segments (exposed for tests).
absl::StatusOr<std::vector<Segment>> parseFormat(std::string_view format, HeaderNames& names);

// Appends `s` as the inside of a JSON string (quotes, backslashes and control characters escaped).
void appendJsonEscaped(std::string_view s, std::string& out);

}  // namespace trellis::proxy::accesslog
