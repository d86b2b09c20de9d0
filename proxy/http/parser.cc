// llhttp callbacks, pausing at head and message ends, and the extra strictness a proxy needs.
#include "proxy/http/parser.h"

#include <cstring>

namespace trellis::proxy::http {

namespace {
Parser* self(llhttp_t* p) { return static_cast<Parser*>(p->data); }

// Header values may carry HTAB and visible characters and obs-text (RFC 9110 §5.5); never CR,
// LF (obs-fold shows up here as CR LF inside a value), NUL or other controls.
bool validFieldValue(const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}
}  // namespace

// The callbacks are the same for every parser: one table for the process, not one per
// connection (it is ~200 bytes).
const llhttp_settings_t& Parser::settings() {
  static const llhttp_settings_t table = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &Parser::onMessageBegin;
    s.on_url = &Parser::onUrl;
    s.on_status = &Parser::onStatus;
    s.on_header_field = &Parser::onHeaderField;
    s.on_header_value = &Parser::onHeaderValue;
    s.on_headers_complete = &Parser::onHeadersComplete;
    s.on_body = &Parser::onBody;
    s.on_message_complete = &Parser::onMessageComplete;
    return s;
  }();
  return table;
}

void Parser::releaseMemory() { std::vector<FieldSpans>().swap(fields_); }

Parser::Parser(Type type, ParserLimits limits) : type_(type), limits_(limits) {
  reset();
}

void Parser::reset() {
  llhttp_init(&parser_, type_ == Type::Request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
  parser_.data = this;
  in_head_ = true;
  head_done_ = message_done_ = false;
  head_bytes_ = 0;
  fields_.clear();
  last_ = Last::None;
  error_status_ = 0;
  error_reason_ = "";
}

int Parser::fail(uint16_t status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  return -1;
}

void Parser::extend(Span& span, const char* at, size_t len) {
  uint32_t off = static_cast<uint32_t>(at - base_);
  span.length = off + static_cast<uint32_t>(len) - span.offset;
}

int Parser::onMessageBegin(llhttp_t* p) {
  auto* s = self(p);
  s->in_head_ = true;
  s->head_done_ = s->message_done_ = false;
  s->head_bytes_ = 0;
  s->fields_.clear();
  s->last_ = Last::None;
  s->target_ = s->reason_ = Span{};
  return 0;
}

int Parser::onUrl(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->target_.length == 0) s->target_.offset = static_cast<uint32_t>(at - s->base_);
  s->extend(s->target_, at, len);
  return 0;
}

int Parser::onStatus(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->reason_.length == 0) s->reason_.offset = static_cast<uint32_t>(at - s->base_);
  s->extend(s->reason_, at, len);
  return 0;
}

int Parser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->last_ != Last::Field) {
    if (s->fields_.size() >= s->limits_.max_headers) return s->fail(431, "too many request headers");
    s->fields_.push_back({Span{static_cast<uint32_t>(at - s->base_), 0}, Span{}});
    s->last_ = Last::Field;
  }
  s->extend(s->fields_.back().name, at, len);
  return 0;
}

int Parser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!validFieldValue(at, len)) return s->fail(400, "invalid character in header value (or obs-fold)");
  auto& value = s->fields_.back().value;
  const auto offset = static_cast<uint32_t>(at - s->base_);
  if (s->last_ != Last::Value) {
    value.offset = offset;
    s->last_ = Last::Value;
  } else if (offset != value.offset + value.length) {
    // llhttp reports a folded continuation line as more value bytes after a gap (CRLF SP).
    return s->fail(400, "obs-fold (line folding) in a header value");
  }
  s->extend(value, at, len);
  return 0;
}

int Parser::onHeadersComplete(llhttp_t* p) {
  auto* s = self(p);
  s->head_done_ = true;
  if (s->type_ == Type::Response) {
    // A response to HEAD, and a 1xx (other than 101), 204 or 304 response, ends with its head
    // whatever Content-Length or Transfer-Encoding say (RFC 9112 section 6.3). llhttp 8 leaves
    // that to this callback: returning 1 skips the body (message complete pauses next).
    const int status = p->status_code;
    if (s->skip_body_ || status == 204 || status == 304 || (status / 100 == 1 && status != 101)) return 1;
  }
  return HPE_PAUSED;
}

int Parser::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->decode_) {
    char* dst = const_cast<char*>(s->base_) + s->decode_begin_ + s->decoded_;
    if (dst != at) std::memmove(dst, at, len);
    s->decoded_ += len;
  }
  return 0;
}

int Parser::onMessageComplete(llhttp_t* p) {
  self(p)->message_done_ = true;
  return HPE_PAUSED;
}

Parser::Step Parser::feed(const char* base, size_t begin, size_t end) {
  base_ = base;
  decode_begin_ = begin;
  decoded_ = 0;
  // Fields that began in an earlier slice keep their offsets even if the buffer moved.
  bool was_in_head = in_head_ && !head_done_;
  const char* start = base + begin;
  llhttp_errno_t err = llhttp_execute(&parser_, start, end - begin);
  size_t consumed = end - begin;
  if (err == HPE_PAUSED) {
    consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - start);
    llhttp_resume(&parser_);
  } else if (err == HPE_PAUSED_UPGRADE) {
    consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - start);
    llhttp_resume_after_upgrade(&parser_);
  } else if (err != HPE_OK) {
    if (error_status_ == 0) {
      error_status_ = 400;
      error_reason_ = llhttp_get_error_reason(&parser_);
      if (error_reason_ == nullptr) error_reason_ = llhttp_errno_name(err);
    }
    return {Status::Error, 0, false};
  }
  if (was_in_head) {
    head_bytes_ += static_cast<uint32_t>(consumed);
    if (head_bytes_ > limits_.max_head_bytes) {
      fail(431, type_ == Type::Request ? "request headers too large" : "response headers too large");
      return {Status::Error, 0, false};
    }
    if (head_done_) {
      // A head-only response (to HEAD) pauses once, at its end: report both.
      bool done = message_done_;
      in_head_ = done;
      head_done_ = !done;
      return {Status::HeadComplete, consumed, done};
    }
    return {Status::NeedMore, consumed, false};
  }
  if (message_done_) {
    in_head_ = true;
    head_done_ = false;
    return {Status::MessageComplete, consumed, true};
  }
  return {Status::NeedMore, consumed, false};
}

Parser::Status Parser::finish() {
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_OK || err == HPE_PAUSED) {
    if (message_done_) return Status::MessageComplete;
    return Status::NeedMore;
  }
  error_status_ = 502;
  error_reason_ = "connection closed before the message was complete";
  return Status::Error;
}

bool Parser::bodyEndsAtEof() const { return llhttp_message_needs_eof(&parser_) != 0; }

void Parser::bindHead(const char* base, MessageHead& head) const {
  head.clear();
  auto view = [base](Span s) { return std::string_view(base + s.offset, s.length); };
  if (type_ == Type::Request) {
    head.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    head.target = view(target_);
  } else {
    head.status = static_cast<uint16_t>(parser_.status_code);
    head.reason = view(reason_);
  }
  head.version_major = parser_.http_major;
  head.version_minor = parser_.http_minor;
  for (const auto& f : fields_) head.headers.push_back({view(f.name), view(f.value)});
  head.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  head.chunked = (parser_.flags & F_CHUNKED) != 0;
  head.has_content_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  head.content_length = head.has_content_length ? parser_.content_length : 0;
  head.upgrade = parser_.upgrade != 0;
}

}  // namespace trellis::proxy::http
