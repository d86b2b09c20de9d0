// What the compile_*.cc files share: the field-path error helpers that keep every rejection in
// one shape ("<path>: <what>"), and the per-resource compilers compile.cc calls.
//
// Private to the compile target (listed in its srcs, not its hdrs): nothing outside
// proxy/snapshot should depend on how compilation is cut into files.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "absl/container/flat_hash_map.h"
#include "proxy/accesslog/access_log.h"
#include "proxy/accesslog/log_files.h"
#include "proxy/snapshot/compile.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy::compile_internal {

std::string join(const std::string& path, const std::string& field);
absl::Status invalid(const std::string& path, const std::string& what);

// Every field set on `m` must be one of `allowed`: the rest is config Trellis does not
// implement, and ignoring it would change behaviour.
absl::Status onlyFields(const google::protobuf::Message& m, const std::string& path,
                        std::initializer_list<const char*> allowed);

// Truncates to milliseconds (the fields that predate the checked conversions below).
Duration toDuration(const google::protobuf::Duration& d);

// Checked conversions for durations whose range Envoy constrains. A positive value below 1 ms
// rounds up to 1 ms, so "greater than 0" still holds after the conversion to milliseconds.
absl::StatusOr<Duration> positiveDuration(const google::protobuf::Duration& d, const std::string& path);
absl::StatusOr<Duration> nonNegativeDuration(const google::protobuf::Duration& d, const std::string& path);

// A uint32 percentage (Envoy's UInt32Value percent fields): 0-100.
absl::Status checkPercent(uint32_t value, const std::string& path);

absl::StatusOr<boost::asio::ip::tcp::endpoint> toEndpoint(const envoy::config::core::v3::Address& a,
                                                          const std::string& path);

// compile_cluster.cc. `eds` is the cluster's delivered ClusterLoadAssignment (EDS clusters
// only; nullptr when it has not arrived) and `eds_path` the path naming it in errors.
absl::StatusOr<std::shared_ptr<const Cluster>> compileCluster(
    const envoy::config::cluster::v3::Cluster& c, const std::string& path, uint32_t index,
    const envoy::config::endpoint::v3::ClusterLoadAssignment* eds, const std::string& eds_path, StatsStore& stats);

// compile_listener.cc. `rds` holds the delivered route configurations by name; a listener whose
// RDS configuration has not arrived gets an empty table (404 until it does). `connection_limit`
// is the listener's runtime connection limit (0: unlimited).
absl::StatusOr<std::shared_ptr<const Listener>> compileListener(
    const envoy::config::listener::v3::Listener& l, const std::string& path,
    const absl::flat_hash_map<std::string, const Sourced<envoy::config::route::v3::RouteConfiguration>*>& rds,
    const std::vector<std::shared_ptr<const Cluster>>& clusters, bool require_known_clusters, StatsStore& stats,
    accesslog::LogFiles* log_files, int64_t connection_limit = 0);

// compile_access_log.cc. An HTTP connection manager's access_log entries; the request headers
// their formats read are added to `headers`. `log_files` opens the files (null: the config is
// only checked, nothing is opened or written).
absl::StatusOr<std::vector<std::shared_ptr<const accesslog::AccessLog>>> compileAccessLogs(
    const google::protobuf::RepeatedPtrField<envoy::config::accesslog::v3::AccessLog>& logs, const std::string& path,
    accesslog::HeaderNames& headers, accesslog::LogFiles* log_files);

}  // namespace trellis::proxy::compile_internal
