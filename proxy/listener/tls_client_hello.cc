// The TLS inspector's parser: walks the record layer, then the ClientHello body, with every read
// bounds-checked, and keeps only the server name and the ALPN list.
#include "proxy/listener/tls_client_hello.h"

#include <algorithm>
#include <optional>

namespace trellis::proxy {
namespace {

constexpr uint8_t kContentTypeHandshake = 22;
constexpr uint8_t kHandshakeClientHello = 1;
constexpr size_t kRecordHeaderBytes = 5;
constexpr size_t kHandshakeHeaderBytes = 4;
// 2^14 of plaintext plus the 2048 bytes RFC 8446 lets a record grow by; more is not TLS.
constexpr size_t kMaxRecordPayload = 16384 + 2048;
constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtAlpn = 16;
constexpr uint8_t kNameTypeHostName = 0;
constexpr size_t kMaxSessionId = 32;

// A cursor over a byte range: every read says whether the bytes were there.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }

  bool u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = byte(pos_);
    pos_ += 1;
    return true;
  }
  bool u16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>((byte(pos_) << 8) | byte(pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool u24(uint32_t& out) {
    if (remaining() < 3) return false;
    out = (uint32_t{byte(pos_)} << 16) | (uint32_t{byte(pos_ + 1)} << 8) | uint32_t{byte(pos_ + 2)};
    pos_ += 3;
    return true;
  }
  bool bytes(size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    std::string_view ignored;
    return bytes(n, ignored);
  }

 private:
  uint8_t byte(size_t i) const { return static_cast<uint8_t>(data_[i]); }

  std::string_view data_;
  size_t pos_ = 0;
};

// server_name extension data (RFC 6066 3): the first host_name, lower-cased.
bool parseServerName(std::string_view data, std::string& sni) {
  Reader r(data);
  uint16_t list_len = 0;
  if (!r.u16(list_len) || list_len != r.remaining() || list_len == 0) return false;
  while (!r.empty()) {
    uint8_t name_type = 0;
    uint16_t name_len = 0;
    std::string_view name;
    if (!r.u8(name_type) || !r.u16(name_len) || !r.bytes(name_len, name)) return false;
    if (name_type != kNameTypeHostName || !sni.empty()) continue;
    if (name.empty()) return false;
    std::string lowered;
    lowered.reserve(name.size());
    for (char c : name) {
      const auto b = static_cast<uint8_t>(c);
      if (b < 0x21 || b > 0x7e) return false;  // printable ASCII, no space
      lowered.push_back(b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : c);
    }
    sni = std::move(lowered);
  }
  return true;
}

// application_layer_protocol_negotiation extension data (RFC 7301 3.1).
bool parseAlpn(std::string_view data, std::vector<std::string>& alpn) {
  Reader r(data);
  uint16_t list_len = 0;
  if (!r.u16(list_len) || list_len != r.remaining() || list_len == 0) return false;
  while (!r.empty()) {
    uint8_t len = 0;
    std::string_view proto;
    if (!r.u8(len) || len == 0 || !r.bytes(len, proto)) return false;
    alpn.emplace_back(proto);
  }
  return true;
}

// The ClientHello body (after the 4-byte handshake header), RFC 8446 4.1.2.
bool parseClientHelloBody(std::string_view body, ClientHelloInfo& info) {
  Reader r(body);
  uint8_t session_id_len = 0;
  uint16_t cipher_suites_len = 0;
  uint8_t compression_len = 0;
  if (!r.skip(2) || !r.skip(32)) return false;  // legacy_version, random
  if (!r.u8(session_id_len) || session_id_len > kMaxSessionId || !r.skip(session_id_len)) return false;
  if (!r.u16(cipher_suites_len) || cipher_suites_len < 2 || cipher_suites_len % 2 != 0 ||
      !r.skip(cipher_suites_len)) {
    return false;
  }
  if (!r.u8(compression_len) || compression_len < 1 || !r.skip(compression_len)) return false;
  if (r.empty()) return true;  // no extensions (a pre-TLS 1.2 client)

  uint16_t extensions_len = 0;
  std::string_view extensions;
  if (!r.u16(extensions_len) || !r.bytes(extensions_len, extensions) || !r.empty()) return false;
  Reader ext(extensions);
  bool seen_server_name = false;
  bool seen_alpn = false;
  while (!ext.empty()) {
    uint16_t type = 0;
    uint16_t len = 0;
    std::string_view data;
    if (!ext.u16(type) || !ext.u16(len) || !ext.bytes(len, data)) return false;
    if (type == kExtServerName) {
      if (seen_server_name || !parseServerName(data, info.sni)) return false;
      seen_server_name = true;
    } else if (type == kExtAlpn) {
      if (seen_alpn || !parseAlpn(data, info.alpn)) return false;
      seen_alpn = true;
    }
  }
  return true;
}

// What a (possibly partial) record header says, given the bytes present.
enum class HeaderCheck : uint8_t { Ok, Incomplete, NotTls, Invalid };

HeaderCheck checkRecordHeader(std::string_view rec, bool first, size_t& payload_len) {
  const auto at = [&](size_t i) { return static_cast<uint8_t>(rec[i]); };
  // In the first record a wrong type or major version means another protocol; later on it means
  // a broken TLS stream.
  const HeaderCheck mismatch = first ? HeaderCheck::NotTls : HeaderCheck::Invalid;
  if (rec.size() >= 1 && at(0) != kContentTypeHandshake) return mismatch;
  if (rec.size() >= 2 && at(1) != 3) return mismatch;
  if (rec.size() >= 3 && at(2) > 4) return HeaderCheck::Invalid;
  if (rec.size() < kRecordHeaderBytes) return HeaderCheck::Incomplete;
  payload_len = (size_t{at(3)} << 8) | size_t{at(4)};
  // Zero-length handshake fragments are forbidden (RFC 8446 5.1).
  if (payload_len == 0 || payload_len > kMaxRecordPayload) return HeaderCheck::Invalid;
  return HeaderCheck::Ok;
}

// The handshake header, once its 4 bytes are in: the message's total size, or nullopt if it
// cannot be a ClientHello the inspector accepts.
std::optional<size_t> handshakeSize(std::string_view hs) {
  Reader r(hs);
  uint8_t type = 0;
  uint32_t len = 0;
  if (!r.u8(type) || !r.u24(len)) return std::nullopt;
  if (type != kHandshakeClientHello) return std::nullopt;
  const size_t total = kHandshakeHeaderBytes + size_t{len};
  if (total > kMaxClientHelloBytes) return std::nullopt;
  return total;
}

}  // namespace

ClientHelloStatus parseClientHello(std::string_view bytes, ClientHelloInfo& info) {
  info = ClientHelloInfo{};
  if (bytes.empty()) return ClientHelloStatus::NeedMore;

  // The handshake stream: a view into the first record while the message fits in it, a copy of
  // the concatenated payloads once it spans records.
  std::string_view handshake;
  std::string joined;
  size_t pos = 0;
  for (bool first = true;; first = false) {
    const std::string_view rec = bytes.substr(pos);
    size_t payload_len = 0;
    switch (checkRecordHeader(rec, first, payload_len)) {
      case HeaderCheck::Ok: break;
      case HeaderCheck::Incomplete: return ClientHelloStatus::NeedMore;
      case HeaderCheck::NotTls: return ClientHelloStatus::NotTls;
      case HeaderCheck::Invalid: return ClientHelloStatus::Invalid;
    }
    const std::string_view available =
        rec.substr(kRecordHeaderBytes, std::min(payload_len, rec.size() - kRecordHeaderBytes));
    const bool record_complete = available.size() == payload_len;

    // The handshake header can be checked before the record is complete: a wrong type or an
    // oversize length fails at once rather than after waiting for bytes.
    std::string_view so_far;
    std::string prefix;
    if (first) {
      so_far = available;
    } else {
      prefix = joined.substr(0, kHandshakeHeaderBytes);
      prefix.append(available.substr(0, kHandshakeHeaderBytes));
      so_far = prefix;
    }
    std::optional<size_t> total;
    if (so_far.size() >= kHandshakeHeaderBytes) {
      total = handshakeSize(so_far);
      if (!total) return ClientHelloStatus::Invalid;
    }
    if (!record_complete) return ClientHelloStatus::NeedMore;

    if (first) {
      handshake = available;
    } else {
      joined.append(available);
      handshake = joined;
    }
    pos += kRecordHeaderBytes + payload_len;

    if (total && handshake.size() >= *total) {
      // Whatever follows the ClientHello in the stream is not the inspector's business.
      ClientHelloInfo parsed;
      if (!parseClientHelloBody(handshake.substr(kHandshakeHeaderBytes, *total - kHandshakeHeaderBytes), parsed)) {
        return ClientHelloStatus::Invalid;
      }
      info = std::move(parsed);
      return ClientHelloStatus::Done;
    }
    if (first) joined.assign(handshake);
  }
}

}  // namespace trellis::proxy
