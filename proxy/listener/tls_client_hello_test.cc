// The ClientHello parser on hellos built byte by byte (SNI, ALPN, split records, every prefix),
// on non-TLS bytes, on malformed lengths, and on one hello captured from `openssl s_client`.
#include "proxy/listener/tls_client_hello.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

// Big-endian appenders.
void put8(std::string& out, size_t v) { out.push_back(static_cast<char>(v & 0xff)); }
void put16(std::string& out, size_t v) {
  put8(out, v >> 8);
  put8(out, v);
}
void put24(std::string& out, size_t v) {
  put8(out, v >> 16);
  put16(out, v);
}

std::string extension(uint16_t type, const std::string& data) {
  std::string out;
  put16(out, type);
  put16(out, data.size());
  out += data;
  return out;
}

std::string serverNameExt(const std::string& host) {
  std::string entry;
  put8(entry, 0);  // host_name
  put16(entry, host.size());
  entry += host;
  std::string list;
  put16(list, entry.size());
  list += entry;
  return extension(0, list);
}

std::string alpnExt(const std::vector<std::string>& protos) {
  std::string names;
  for (const auto& p : protos) {
    put8(names, p.size());
    names += p;
  }
  std::string list;
  put16(list, names.size());
  list += names;
  return extension(16, list);
}

// A ClientHello body; `extensions` is the concatenated extension blocks, nullopt for none at all.
std::string helloBody(const std::optional<std::string>& extensions, const std::string& session_id = "") {
  std::string body;
  put16(body, 0x0303);
  body.append(32, '\x5a');  // random
  put8(body, session_id.size());
  body += session_id;
  put16(body, 4);  // two cipher suites
  put16(body, 0x1301);
  put16(body, 0xc02f);
  put8(body, 1);  // one compression method: null
  put8(body, 0);
  if (extensions) {
    put16(body, extensions->size());
    body += *extensions;
  }
  return body;
}

std::string handshake(const std::string& body, uint8_t type = 1) {
  std::string out;
  put8(out, type);
  put24(out, body.size());
  return out + body;
}

std::string record(const std::string& payload, uint8_t type = 22, uint16_t version = 0x0301) {
  std::string out;
  put8(out, type);
  put16(out, version);
  put16(out, payload.size());
  return out + payload;
}

std::string helloRecord(const std::string& extensions) { return record(handshake(helloBody(extensions))); }

ClientHelloStatus parse(std::string_view bytes, ClientHelloInfo& info) { return parseClientHello(bytes, info); }

TEST(TlsClientHelloTest, SniAndAlpn) {
  ClientHelloInfo info;
  const std::string bytes = helloRecord(serverNameExt("api.example.com") + alpnExt({"h2", "http/1.1"}));
  ASSERT_EQ(parse(bytes, info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "api.example.com");
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(TlsClientHelloTest, WithoutSni) {
  ClientHelloInfo info;
  ASSERT_EQ(parse(helloRecord(alpnExt({"h2"})), info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "");
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2"}));
}

TEST(TlsClientHelloTest, WithoutAnyExtensions) {
  ClientHelloInfo info;
  ASSERT_EQ(parse(record(handshake(helloBody(std::nullopt))), info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "");
  EXPECT_TRUE(info.alpn.empty());
  // An empty extensions block is fine too.
  ASSERT_EQ(parse(helloRecord(""), info), ClientHelloStatus::Done);
}

TEST(TlsClientHelloTest, SniIsLowerCased) {
  ClientHelloInfo info;
  ASSERT_EQ(parse(helloRecord(serverNameExt("WWW.Example.COM")), info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "www.example.com");
}

TEST(TlsClientHelloTest, UnknownExtensionsAreSkipped) {
  ClientHelloInfo info;
  const std::string exts = extension(43, std::string("\x02\x03\x04", 3)) + serverNameExt("a.b") +
                           extension(0xfe0d, std::string(40, 'x')) + alpnExt({"http/1.1"});
  ASSERT_EQ(parse(helloRecord(exts), info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "a.b");
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"http/1.1"}));
}

TEST(TlsClientHelloTest, SessionIdAndTls10RecordVersion) {
  ClientHelloInfo info;
  const std::string body = helloBody(serverNameExt("example.com"), std::string(32, '\x11'));
  ASSERT_EQ(parse(record(handshake(body), 22, 0x0300), info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "example.com");
  ASSERT_EQ(parse(record(handshake(body), 22, 0x0304), info), ClientHelloStatus::Done);
  // 33 bytes of session id is more than TLS allows.
  EXPECT_EQ(parse(record(handshake(helloBody(std::nullopt, std::string(33, 'x')))), info), ClientHelloStatus::Invalid);
}

TEST(TlsClientHelloTest, SplitAcrossTwoRecords) {
  ClientHelloInfo info;
  const std::string hs = handshake(helloBody(serverNameExt("split.example.com") + alpnExt({"h2"})));
  for (size_t cut : {size_t{1}, size_t{3}, size_t{4}, size_t{20}, hs.size() - 1}) {
    const std::string bytes = record(hs.substr(0, cut)) + record(hs.substr(cut));
    ASSERT_EQ(parse(bytes, info), ClientHelloStatus::Done) << "cut at " << cut;
    EXPECT_EQ(info.sni, "split.example.com");
    EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2"}));
  }
}

TEST(TlsClientHelloTest, ThreeRecords) {
  ClientHelloInfo info;
  const std::string hs = handshake(helloBody(serverNameExt("three.example.com")));
  const std::string bytes = record(hs.substr(0, 2)) + record(hs.substr(2, 50)) + record(hs.substr(52));
  ASSERT_EQ(parse(bytes, info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "three.example.com");
}

TEST(TlsClientHelloTest, EveryPrefixNeedsMoreUntilComplete) {
  const std::string hs = handshake(helloBody(serverNameExt("prefix.example.com") + alpnExt({"h2", "http/1.1"})));
  const size_t cut = 37;
  for (const std::string& bytes : {record(hs), record(hs.substr(0, cut)) + record(hs.substr(cut))}) {
    ClientHelloInfo info;
    for (size_t n = 0; n < bytes.size(); ++n) {
      ASSERT_EQ(parse(std::string_view(bytes).substr(0, n), info), ClientHelloStatus::NeedMore) << "prefix " << n;
    }
    ASSERT_EQ(parse(bytes, info), ClientHelloStatus::Done);
    EXPECT_EQ(info.sni, "prefix.example.com");
    EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  }
}

TEST(TlsClientHelloTest, BytesAfterTheHelloAreIgnored) {
  ClientHelloInfo info;
  const std::string bytes = helloRecord(serverNameExt("x.y")) + record("\x01", 20);
  ASSERT_EQ(parse(bytes, info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "x.y");
}

TEST(TlsClientHelloTest, NotTls) {
  ClientHelloInfo info;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", info), ClientHelloStatus::NotTls);
  EXPECT_EQ(parse("G", info), ClientHelloStatus::NotTls);
  EXPECT_EQ(parse("SSH-2.0-OpenSSH_9.2\r\n", info), ClientHelloStatus::NotTls);
  // An SSLv2-compatible hello (two-byte header with the high bit set).
  EXPECT_EQ(parse(std::string("\x80\x2e\x01\x03\x01", 5), info), ClientHelloStatus::NotTls);
  // Handshake content type but not version 3.x.
  EXPECT_EQ(parse(std::string("\x16\x02", 2), info), ClientHelloStatus::NotTls);
  EXPECT_EQ(parse(std::string("\x16\x04\x01\x00\x10", 5), info), ClientHelloStatus::NotTls);
  // A TLS record, but application data first: not a handshake.
  EXPECT_EQ(parse(record("hello", 23, 0x0303), info), ClientHelloStatus::NotTls);
}

TEST(TlsClientHelloTest, ShortPrefixesThatCouldBeTlsNeedMore) {
  ClientHelloInfo info;
  EXPECT_EQ(parse("", info), ClientHelloStatus::NeedMore);
  EXPECT_EQ(parse("\x16", info), ClientHelloStatus::NeedMore);
  EXPECT_EQ(parse("\x16\x03", info), ClientHelloStatus::NeedMore);
  EXPECT_EQ(parse("\x16\x03\x01", info), ClientHelloStatus::NeedMore);
  EXPECT_EQ(parse(std::string("\x16\x03\x01\x00", 4), info), ClientHelloStatus::NeedMore);
}

TEST(TlsClientHelloTest, RecordLayerErrorsAreInvalid) {
  ClientHelloInfo info;
  const std::string hs = handshake(helloBody(serverNameExt("example.com")));
  // Minor version beyond TLS 1.3's 0x0304.
  EXPECT_EQ(parse(record(hs, 22, 0x0305), info), ClientHelloStatus::Invalid);
  // A record longer than 16384 + 2048.
  std::string header;
  put8(header, 22);
  put16(header, 0x0301);
  put16(header, 18433);
  EXPECT_EQ(parse(header, info), ClientHelloStatus::Invalid);
  // An empty handshake record.
  EXPECT_EQ(parse(record(""), info), ClientHelloStatus::Invalid);
  // A non-handshake record in the middle of the hello.
  EXPECT_EQ(parse(record(hs.substr(0, 10)) + record(hs.substr(10), 23), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(record(hs.substr(0, 10)) + "\x17", info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(record(hs.substr(0, 10)) + record(hs.substr(10), 22, 0x0201), info), ClientHelloStatus::Invalid);
}

TEST(TlsClientHelloTest, HandshakeErrorsAreInvalid) {
  ClientHelloInfo info;
  const std::string body = helloBody(serverNameExt("example.com"));
  // A ServerHello (type 2), seen as soon as its header is in.
  EXPECT_EQ(parse(record(handshake(body, 2)), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(record(handshake(body, 2)).substr(0, 9), info), ClientHelloStatus::Invalid);
  // The same with the handshake header split over two records: known once its 4 bytes are in,
  // before the second record is complete.
  const std::string server_hello = handshake(body, 2);
  const std::string split = record(server_hello.substr(0, 2)) + record(server_hello.substr(2));
  EXPECT_EQ(parse(split, info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(std::string_view(split).substr(0, 7 + 5 + 2), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(std::string_view(split).substr(0, 7 + 5 + 1), info), ClientHelloStatus::NeedMore);
  // A handshake longer than its record goes on in the next record: NeedMore, not Invalid.
  std::string short_hs;
  put8(short_hs, 1);
  put24(short_hs, body.size() + 10);
  EXPECT_EQ(parse(record(short_hs + body), info), ClientHelloStatus::NeedMore);
  // The handshake length is shorter than the body: the body's lengths overrun it.
  std::string cut_hs;
  put8(cut_hs, 1);
  put24(cut_hs, body.size() - 3);
  EXPECT_EQ(parse(record(cut_hs + body), info), ClientHelloStatus::Invalid);
}

TEST(TlsClientHelloTest, OversizeHandshakeIsInvalid) {
  ClientHelloInfo info;
  std::string hs;
  put8(hs, 1);
  put24(hs, kMaxClientHelloBytes);  // + 4 header bytes is over the limit
  EXPECT_EQ(parse(record(hs), info), ClientHelloStatus::Invalid);
  // Exactly at the limit is accepted as far as its length goes (more records needed).
  std::string at_limit;
  put8(at_limit, 1);
  put24(at_limit, kMaxClientHelloBytes - 4);
  EXPECT_EQ(parse(record(at_limit), info), ClientHelloStatus::NeedMore);
}

TEST(TlsClientHelloTest, BodyErrorsAreInvalid) {
  ClientHelloInfo info;
  auto bodyWith = [](auto mutate) {
    std::string body = helloBody(serverNameExt("example.com"));
    mutate(body);
    return record(handshake(body));
  };
  // Offsets: version 0, random 2, session id length 34, cipher suites length 35, suites 37,
  // compression length 41, compression 42, extensions length 43.
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b[34] = 40; }), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b[36] = 3; }), info), ClientHelloStatus::Invalid);  // odd
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b[35] = 0x7f; }), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b[41] = 0; }), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b[44] = static_cast<char>(b[44] + 1); }), info),
            ClientHelloStatus::Invalid);  // extensions overrun the body
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b[44] = static_cast<char>(b[44] - 1); }), info),
            ClientHelloStatus::Invalid);  // the last extension overruns the block
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b.push_back('\0'); }), info),
            ClientHelloStatus::Invalid);  // a byte after the extensions
  EXPECT_EQ(parse(bodyWith([](std::string& b) { b.resize(20); }), info), ClientHelloStatus::Invalid);
  // No cipher suites.
  std::string body;
  put16(body, 0x0303);
  body.append(32, 'r');
  put8(body, 0);
  put16(body, 0);
  put8(body, 1);
  put8(body, 0);
  EXPECT_EQ(parse(record(handshake(body)), info), ClientHelloStatus::Invalid);
}

TEST(TlsClientHelloTest, ExtensionErrorsAreInvalid) {
  ClientHelloInfo info;
  // Extension length overruns the block.
  std::string bad = extension(0, "abc");
  bad[3] = 9;
  EXPECT_EQ(parse(helloRecord(bad), info), ClientHelloStatus::Invalid);
  // server_name list length disagrees with the extension.
  std::string sn = serverNameExt("example.com");
  sn[5] = static_cast<char>(sn[5] + 1);
  EXPECT_EQ(parse(helloRecord(sn), info), ClientHelloStatus::Invalid);
  // Host name length overruns the list.
  sn = serverNameExt("example.com");
  sn[8] = static_cast<char>(sn[8] + 1);
  EXPECT_EQ(parse(helloRecord(sn), info), ClientHelloStatus::Invalid);
  // Empty, non-printable, or spaced names.
  EXPECT_EQ(parse(helloRecord(serverNameExt("")), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(helloRecord(serverNameExt(std::string("a\0b", 3))), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(helloRecord(serverNameExt("a\x7f")), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(helloRecord(serverNameExt("\xc3\xa9.com")), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(helloRecord(serverNameExt("a b")), info), ClientHelloStatus::Invalid);
  // Two server_name extensions.
  EXPECT_EQ(parse(helloRecord(serverNameExt("a.com") + serverNameExt("b.com")), info), ClientHelloStatus::Invalid);
  // ALPN: an empty protocol name, a name overrunning the list, an empty list.
  EXPECT_EQ(parse(helloRecord(alpnExt({"h2", ""})), info), ClientHelloStatus::Invalid);
  std::string alpn = alpnExt({"h2"});
  alpn[6] = 5;
  EXPECT_EQ(parse(helloRecord(alpn), info), ClientHelloStatus::Invalid);
  EXPECT_EQ(parse(helloRecord(alpnExt({})), info), ClientHelloStatus::Invalid);
  EXPECT_TRUE(info.alpn.empty());  // nothing is reported from an invalid hello
}

TEST(TlsClientHelloTest, FirstHostNameWins) {
  std::string entries;
  put8(entries, 7);  // an unknown name type, skipped
  put16(entries, 3);
  entries += "xyz";
  for (const char* host : {"First.example", "second.example"}) {
    put8(entries, 0);
    put16(entries, std::string_view(host).size());
    entries += host;
  }
  std::string list;
  put16(list, entries.size());
  list += entries;
  ClientHelloInfo info;
  ASSERT_EQ(parse(helloRecord(extension(0, list)), info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "first.example");
}

// Every byte of a split hello replaced by a few values, every prefix parsed: whatever the
// answer, it must not read out of bounds (run under ASan to make that visible).
TEST(TlsClientHelloTest, MutatedBytesNeverOverrun) {
  const std::string hs = handshake(helloBody(serverNameExt("m.example.com") + alpnExt({"h2", "http/1.1"})));
  const std::string good = record(hs.substr(0, 30)) + record(hs.substr(30));
  ClientHelloInfo info;
  size_t done = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t v : {0x00, 0x01, 0x03, 0x16, 0x7f, 0x80, 0xff}) {
      std::string bytes = good;
      bytes[i] = static_cast<char>(v);
      for (size_t n = 0; n <= bytes.size(); n += 7) parse(std::string_view(bytes).substr(0, n), info);
      if (parse(bytes, info) == ClientHelloStatus::Done) ++done;
    }
  }
  EXPECT_GT(done, 0u);  // e.g. changes inside the random
}

// Captured once with `openssl s_client -connect 127.0.0.1:PORT -servername Example.COM
// -alpn h2,http/1.1` (OpenSSL 3.0) against a socket that recorded the first record.
TEST(TlsClientHelloTest, OpensslCapture) {
  std::ifstream in("proxy/listener/testdata/client_hello_openssl.bin", std::ios::binary);
  ASSERT_TRUE(in) << "testdata missing";
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ClientHelloInfo info;
  ASSERT_EQ(parse(bytes, info), ClientHelloStatus::Done);
  EXPECT_EQ(info.sni, "example.com");
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_EQ(parse(std::string_view(bytes).substr(0, n), info), ClientHelloStatus::NeedMore) << n;
  }
}

}  // namespace
}  // namespace trellis::proxy
