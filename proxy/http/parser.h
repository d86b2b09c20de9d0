// HTTP/1.x message framing with llhttp in strict mode.
//
// The parser is fed slices of one contiguous connection buffer. It stops (pauses) at two
// points the session cares about: the end of a head and the end of a message. Body bytes are
// not copied: the caller learns how many raw bytes of the buffer belong to the current
// message and relays them as they are (content-length or chunked framing alike), so framing
// the proxy forwards is exactly framing llhttp validated. When the receiver cannot take
// chunked framing (an HTTP/1.0 client), `setDecodeBody(true)` makes the parser compact the
// decoded body bytes in place instead.
//
// Beyond llhttp's strict mode the parser rejects what llhttp tolerates but a proxy must not
// relay: obs-fold, control characters and NUL in values, and heads over the configured limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "llhttp.h"
#include "proxy/http/message_head.h"

namespace trellis::proxy::http {

struct ParserLimits {
  uint32_t max_head_bytes = 60 * 1024;
  uint32_t max_headers = 100;
};

class Parser {
 public:
  enum class Type { Request, Response };
  enum class Status { NeedMore, HeadComplete, MessageComplete, Error };
  struct Step {
    Status status;
    size_t consumed;  // bytes of [begin, end) that belong to what was reported
    bool message_complete;  // also true with HeadComplete for a head-only response
  };

  Parser(Type type, ParserLimits limits);
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Feeds buffer[begin, end), where `base` is the start of the connection's buffer (spans are
  // kept relative to it, so the buffer may move between calls while a head is incomplete).
  Step feed(const char* base, size_t begin, size_t end);

  // The connection reached EOF: completes a read-until-close body, or reports truncation.
  Status finish();

  // After HeadComplete: fills `head` with views into the buffer at `base`.
  void bindHead(const char* base, MessageHead& head) const;

  // Response parsers only: the next response answers a HEAD request (no body follows).
  void setSkipBody(bool skip) { skip_body_ = skip; }
  // Compact decoded body bytes at the start of each fed slice (see above). The decoded bytes
  // of the last feed are buffer[begin, begin + decodedLength()).
  void setDecodeBody(bool decode) { decode_ = decode; }
  size_t decodedLength() const { return decoded_; }

  // Whether the message body, if any, ends only at EOF.
  bool bodyEndsAtEof() const;

  // After Error: the status to answer (400 or 431) and a short cause.
  uint16_t errorStatus() const { return error_status_; }
  std::string_view errorReason() const { return error_reason_; }

  // Starts a fresh connection (after an error the parser must be reset before reuse).
  void reset();
  // Between messages: frees the header table's capacity (an idle connection keeps none; the
  // next message regrows it).
  void releaseMemory();

 private:
  static const llhttp_settings_t& settings();
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onStatus(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);

  void extend(Span& span, const char* at, size_t len);
  int fail(uint16_t status, const char* reason);

  llhttp_t parser_;
  Type type_;
  ParserLimits limits_;

  // Per-message state.
  const char* base_ = nullptr;
  uint32_t head_bytes_ = 0;
  bool in_head_ = true;
  Span target_;
  Span reason_;
  struct FieldSpans {
    Span name;
    Span value;
  };
  std::vector<FieldSpans> fields_;
  enum class Last { None, Field, Value } last_ = Last::None;
  bool head_done_ = false;
  bool message_done_ = false;
  bool skip_body_ = false;
  bool decode_ = false;
  size_t decode_begin_ = 0;
  size_t decoded_ = 0;

  uint16_t error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace trellis::proxy::http
