// The error helpers and checked conversions every compile_*.cc file uses.
#include "proxy/snapshot/compile_internal.h"

#include <algorithm>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace trellis::proxy::compile_internal {

namespace pb = google::protobuf;

std::string join(const std::string& path, const std::string& field) {
  return path.empty() ? field : path + "." + field;
}

absl::Status invalid(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(path + ": " + what);
}

absl::Status onlyFields(const pb::Message& m, const std::string& path, std::initializer_list<const char*> allowed) {
  std::vector<const pb::FieldDescriptor*> set;
  m.GetReflection()->ListFields(m, &set);
  for (const auto* f : set) {
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return f->name() == a; }) != allowed.end()) {
      continue;
    }
    std::string list = absl::StrJoin(allowed, ", ");
    return invalid(join(path, f->name()),
                   absl::StrCat("is not supported yet (supported fields of ", m.GetDescriptor()->full_name(), ": ",
                                list.empty() ? "none" : list, ")"));
  }
  return absl::OkStatus();
}

Duration toDuration(const pb::Duration& d) {
  return Duration(d.seconds() * 1000 + d.nanos() / 1000000);
}

namespace {

bool isNegative(const pb::Duration& d) { return d.seconds() < 0 || (d.seconds() == 0 && d.nanos() < 0); }
bool isZero(const pb::Duration& d) { return d.seconds() == 0 && d.nanos() == 0; }

// Milliseconds, rounding a sub-millisecond remainder up (the value is known to be >= 0).
Duration ceilMillis(const pb::Duration& d) {
  int64_t ms = d.seconds() * 1000 + d.nanos() / 1000000;
  if (d.nanos() % 1000000 != 0) ++ms;
  return Duration(ms);
}

}  // namespace

absl::StatusOr<Duration> positiveDuration(const pb::Duration& d, const std::string& path) {
  if (isNegative(d) || isZero(d)) {
    return invalid(path, absl::StrCat(pb::util::TimeUtil::ToString(d), " must be greater than 0"));
  }
  return ceilMillis(d);
}

absl::StatusOr<Duration> nonNegativeDuration(const pb::Duration& d, const std::string& path) {
  if (isNegative(d)) return invalid(path, absl::StrCat(pb::util::TimeUtil::ToString(d), " must not be negative"));
  return ceilMillis(d);
}

absl::Status checkPercent(uint32_t value, const std::string& path) {
  if (value > 100) return invalid(path, absl::StrCat(value, " is not a percentage (0-100)"));
  return absl::OkStatus();
}

absl::StatusOr<boost::asio::ip::tcp::endpoint> toEndpoint(const envoy::config::core::v3::Address& a,
                                                          const std::string& path) {
  if (!a.has_socket_address()) return invalid(path, "only socket_address is supported");
  const auto& sa = a.socket_address();
  std::string sp = join(path, "socket_address");
  if (auto st = onlyFields(sa, sp, {"address", "port_value", "protocol", "ipv4_compat"}); !st.ok()) return st;
  if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) return invalid(join(sp, "protocol"), "only TCP is supported");
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(sa.address(), ec);
  if (ec) {
    return invalid(join(sp, "address"),
                   absl::StrCat("'", sa.address(), "' is not an IP address (STATIC endpoints and listeners take literal IPv4/IPv6 addresses)"));
  }
  if (sa.port_value() > 65535) return invalid(join(sp, "port_value"), absl::StrCat(sa.port_value(), " is not a port (0-65535)"));
  return boost::asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(sa.port_value()));
}

}  // namespace trellis::proxy::compile_internal
