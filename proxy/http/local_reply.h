// Replies the proxy writes itself (no route, upstream failures, malformed requests...).
// A short plain-text body names the cause; see docs/architecture.md for the table of cases.
#pragma once

#include <cstdint>
#include <string_view>

#include "proxy/io/buffer.h"

namespace trellis::proxy::http {

std::string_view reasonPhrase(uint16_t status);

// Appends a complete HTTP/1.1 response to `out`.
void writeLocalReply(Buffer& out, uint16_t status, std::string_view body, bool close);

}  // namespace trellis::proxy::http
