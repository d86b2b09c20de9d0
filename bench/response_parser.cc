// llhttp callbacks and pause/resume handling behind ResponseParser (see response_parser.h).
#include "bench/response_parser.h"

namespace trellis::bench {

namespace {

llhttp_settings_t makeSettings(llhttp_cb begin, llhttp_cb headers, llhttp_cb complete) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_message_begin = begin;
  settings.on_headers_complete = headers;
  settings.on_message_complete = complete;
  return settings;
}

}  // namespace

ResponseParser::ResponseParser() {
  // One settings object for every parser: llhttp keeps a pointer to it.
  static const llhttp_settings_t settings =
      makeSettings(&ResponseParser::onMessageBegin, &ResponseParser::onHeadersComplete,
                   &ResponseParser::onMessageComplete);
  llhttp_init(&parser_, HTTP_RESPONSE, &settings);
  parser_.data = this;
}

void ResponseParser::reset() {
  llhttp_reset(&parser_);
  parser_.data = this;
  inProgress_ = false;
  expectResponse(false);
}

void ResponseParser::expectResponse(bool headRequest) {
  headRequest_ = headRequest;
  complete_ = false;
  status_ = 0;
  keepAlive_ = false;
}

int ResponseParser::onMessageBegin(llhttp_t* parser) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  self->inProgress_ = true;
  return 0;
}

int ResponseParser::onHeadersComplete(llhttp_t* parser) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  // 1 tells llhttp the message has no body.
  return self->headRequest_ ? 1 : 0;
}

int ResponseParser::onMessageComplete(llhttp_t* parser) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  self->inProgress_ = false;
  const int status = llhttp_get_status_code(parser);
  if (status >= 100 && status < 200 && status != 101) {
    ++self->interim_;  // not the answer yet: keep parsing
    return 0;
  }
  self->status_ = status;
  self->keepAlive_ = llhttp_should_keep_alive(parser) != 0;
  self->complete_ = true;
  return HPE_PAUSED;  // stop right after this response
}

ResponseParser::Result ResponseParser::feed(const char* data, size_t len, size_t& consumed) {
  consumed = 0;
  const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    consumed = len;
    return Result::kNeedMore;
  }
  if (err == HPE_PAUSED && complete_) {
    const char* pos = llhttp_get_error_pos(&parser_);
    consumed = pos == nullptr ? len : static_cast<size_t>(pos - data);
    llhttp_resume(&parser_);
    return Result::kComplete;
  }
  const char* reason = llhttp_get_error_reason(&parser_);
  error_ = reason != nullptr ? reason : llhttp_errno_name(err);
  return Result::kError;
}

ResponseParser::Result ResponseParser::finish() {
  const bool wasInProgress = inProgress_;
  const llhttp_errno_t err = llhttp_finish(&parser_);
  if ((err == HPE_OK || err == HPE_PAUSED) && complete_) {
    keepAlive_ = false;
    return Result::kComplete;
  }
  error_ = wasInProgress ? "connection closed mid-response" : "connection closed before a response";
  return Result::kError;
}

}  // namespace trellis::bench
