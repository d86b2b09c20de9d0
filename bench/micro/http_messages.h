// Request and response bytes for the parsing benchmarks, shaped like real sidecar traffic.
//
// A typical browser/API request head (about 500 bytes, 11 headers), a large one (about 60
// headers, as behind several tracing and auth layers), a typical response head, and chunked
// and Content-Length request bodies. Kept apart from the benchmarks so the smoke test and any
// future benchmark parse the same bytes.
#pragma once

#include <cstddef>
#include <string>

namespace trellis::bench::micro {

std::string typicalRequestHead();
std::string largeRequestHead();  // ~60 headers
std::string typicalResponseHead(size_t content_length);

// A POST head with Transfer-Encoding: chunked followed by `body_bytes` of body in chunks of
// `chunk_size` bytes and the last chunk.
std::string chunkedRequest(size_t body_bytes, size_t chunk_size);
// The same body with Content-Length framing.
std::string contentLengthRequest(size_t body_bytes);

}  // namespace trellis::bench::micro
