// ResponseParser: incremental HTTP/1.1 response parsing for trellis-load's connections.
//
// A load generator needs little from a response: where it ends (Content-Length, chunked or
// end-of-connection framing), its status and whether the connection stays open. Bytes arrive
// in arbitrary fragments, and the parser stops at the end of each response so that the caller
// notices bytes the server sent without being asked. It wraps llhttp in strict mode; bodies are
// skipped without being copied. Interim 1xx responses (100 Continue, 103 Early Hints) are
// counted and skipped: the response that completes a request is the final one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "llhttp.h"

namespace trellis::bench {

class ResponseParser {
 public:
  enum class Result {
    kNeedMore,  // every byte was consumed and the response is not complete yet
    kComplete,  // a final response ended; `consumed` says how many bytes it used
    kError,     // malformed response; errorReason() says why
  };

  ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Forgets everything, for a new connection.
  void reset();
  // Prepares for the response to the next request. A response to HEAD has no body whatever
  // its headers say.
  void expectResponse(bool headRequest);
  // Parses up to `len` bytes. On kComplete, `consumed` is the number of bytes that belonged to
  // the response; the rest (if any) follows it on the wire.
  Result feed(const char* data, size_t len, size_t& consumed);
  // The peer closed the connection. Completes a response whose body runs to the end of the
  // connection (kComplete); kError if a response was cut short or none had begun (kNeedMore
  // is never returned).
  Result finish();

  // True between the first byte of a response and its end.
  bool inProgress() const { return inProgress_; }
  // Valid after kComplete.
  int status() const { return status_; }
  bool keepAlive() const { return keepAlive_; }
  uint64_t interimResponses() const { return interim_; }
  // Why the last kError happened.
  const char* errorReason() const { return error_; }

 private:
  static int onMessageBegin(llhttp_t* parser);
  static int onHeadersComplete(llhttp_t* parser);
  static int onMessageComplete(llhttp_t* parser);

  llhttp_t parser_;
  bool headRequest_ = false;
  bool inProgress_ = false;
  bool complete_ = false;
  bool keepAlive_ = false;
  int status_ = 0;
  uint64_t interim_ = 0;
  const char* error_ = "";
};

}  // namespace trellis::bench
