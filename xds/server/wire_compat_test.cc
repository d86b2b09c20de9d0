// "A stock xDS client would accept what we send": DiscoveryResponses from the server are received
// as raw bytes (gRPC's generic stub) and decoded with descriptors written here from Envoy's API
// (field names, numbers and types of the handful of fields involved), in a DescriptorPool that
// knows nothing of xds/api. Every field must decode to the value the control plane set, with no
// unknown fields left over.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "xds/server/ads_server.h"
#include "xds/server/snapshot_cache.h"
#include "xds/server/test_support.h"

namespace trellis::xds::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::DynamicMessageFactory;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Envoy's field numbers (envoyproxy/data-plane-api, v3), only the fields this test reads.
constexpr const char* kEnvoyFiles[] = {
    R"pb(name: "google/protobuf/any.proto" package: "google.protobuf" syntax: "proto3"
         message_type {
           name: "Any"
           field { name: "type_url" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
           field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_BYTES }
         })pb",
    R"pb(name: "google/protobuf/duration.proto" package: "google.protobuf" syntax: "proto3"
         message_type {
           name: "Duration"
           field { name: "seconds" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
           field { name: "nanos" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
         })pb",
    R"pb(name: "envoy/config/core/v3/core.proto" package: "envoy.config.core.v3" syntax: "proto3"
         message_type {
           name: "SocketAddress"
           field { name: "address" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
           field { name: "port_value" number: 3 label: LABEL_OPTIONAL type: TYPE_UINT32 }
         }
         message_type {
           name: "Address"
           field {
             name: "socket_address" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
             type_name: ".envoy.config.core.v3.SocketAddress"
           }
         }
         message_type {
           name: "Node"
           field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
         }
         message_type {
           name: "ControlPlane"
           field { name: "identifier" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
         })pb",
    R"pb(name: "envoy/config/listener/v3/listener.proto" package: "envoy.config.listener.v3" syntax: "proto3"
         dependency: "envoy/config/core/v3/core.proto"
         message_type {
           name: "Listener"
           field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
           field {
             name: "address" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
             type_name: ".envoy.config.core.v3.Address"
           }
         })pb",
    R"pb(name: "envoy/config/cluster/v3/cluster.proto" package: "envoy.config.cluster.v3" syntax: "proto3"
         dependency: "google/protobuf/duration.proto"
         message_type {
           name: "Cluster"
           field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
           field {
             name: "type" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM
             type_name: ".envoy.config.cluster.v3.Cluster.DiscoveryType"
           }
           field {
             name: "eds_cluster_config" number: 3 label: LABEL_OPTIONAL type: TYPE_MESSAGE
             type_name: ".envoy.config.cluster.v3.Cluster.EdsClusterConfig"
           }
           field {
             name: "connect_timeout" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE
             type_name: ".google.protobuf.Duration"
           }
           nested_type {
             name: "EdsClusterConfig"
             field { name: "service_name" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
           }
           enum_type {
             name: "DiscoveryType"
             value { name: "STATIC" number: 0 }
             value { name: "STRICT_DNS" number: 1 }
             value { name: "LOGICAL_DNS" number: 2 }
             value { name: "EDS" number: 3 }
             value { name: "ORIGINAL_DST" number: 4 }
           }
         })pb",
    R"pb(name: "envoy/service/discovery/v3/discovery.proto" package: "envoy.service.discovery.v3"
         syntax: "proto3"
         dependency: "google/protobuf/any.proto"
         dependency: "envoy/config/core/v3/core.proto"
         message_type {
           name: "DiscoveryRequest"
           field { name: "version_info" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
           field {
             name: "node" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
             type_name: ".envoy.config.core.v3.Node"
           }
           field { name: "resource_names" number: 3 label: LABEL_REPEATED type: TYPE_STRING }
           field { name: "type_url" number: 4 label: LABEL_OPTIONAL type: TYPE_STRING }
           field { name: "response_nonce" number: 5 label: LABEL_OPTIONAL type: TYPE_STRING }
         }
         message_type {
           name: "DiscoveryResponse"
           field { name: "version_info" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
           field {
             name: "resources" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE
             type_name: ".google.protobuf.Any"
           }
           field { name: "type_url" number: 4 label: LABEL_OPTIONAL type: TYPE_STRING }
           field { name: "nonce" number: 5 label: LABEL_OPTIONAL type: TYPE_STRING }
           field {
             name: "control_plane" number: 6 label: LABEL_OPTIONAL type: TYPE_MESSAGE
             type_name: ".envoy.config.core.v3.ControlPlane"
           }
         })pb",
};

constexpr char kMethod[] = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

class IndependentDecoder {
 public:
  IndependentDecoder() {
    for (const char* text : kEnvoyFiles) {
      google::protobuf::FileDescriptorProto file;
      EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &file)) << text;
      EXPECT_NE(pool_.BuildFile(file), nullptr) << file.name();
    }
  }
  std::unique_ptr<Message> make(const std::string& full_name) {
    const Descriptor* descriptor = pool_.FindMessageTypeByName(full_name);
    EXPECT_NE(descriptor, nullptr) << full_name;
    if (descriptor == nullptr) return nullptr;
    return std::unique_ptr<Message>(factory_.GetPrototype(descriptor)->New());
  }

 private:
  DescriptorPool pool_;  // not the generated pool: xds/api's descriptors are never consulted
  DynamicMessageFactory factory_{&pool_};
};

// Reflection shortcuts.
std::string str(const Message& m, const char* field) {
  return m.GetReflection()->GetString(m, m.GetDescriptor()->FindFieldByName(field));
}
const Message& sub(const Message& m, const char* field) {
  return m.GetReflection()->GetMessage(m, m.GetDescriptor()->FindFieldByName(field));
}
bool noUnknownFields(const Message& m) { return m.GetReflection()->GetUnknownFields(m).empty(); }

// One raw ADS stream over gRPC's generic API: bytes in, bytes out.
class RawAdsStream {
 public:
  explicit RawAdsStream(int port)
      : channel_(grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials())),
        stub_(channel_) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call_ = stub_.PrepareCall(&context_, kMethod, &cq_);
    call_->StartCall(tag(1));
    EXPECT_TRUE(await(1));
  }
  ~RawAdsStream() {
    context_.TryCancel();
    grpc::Status status;
    call_->Finish(&status, tag(9));
    await(9);
    cq_.Shutdown();
    void* t;
    bool ok;
    while (cq_.Next(&t, &ok)) {
    }
  }
  void write(const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    call_->Write(buffer, tag(2));
    EXPECT_TRUE(await(2));
  }
  std::string read() {
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, tag(3));
    EXPECT_TRUE(await(3));
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(buffer.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return bytes;
  }

 private:
  static void* tag(intptr_t n) { return reinterpret_cast<void*>(n); }
  bool await(intptr_t n) {
    void* got = nullptr;
    bool ok = false;
    if (!cq_.Next(&got, &ok)) return false;
    EXPECT_EQ(got, tag(n));
    return ok;
  }

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  grpc::CompletionQueue cq_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
};

TEST(WireCompatTest, ListenerAndClusterDecodeWithEnvoysFieldNumbers) {
  spdlog::set_level(spdlog::level::warn);
  SnapshotCache cache;
  NodeResources resources;
  resources.by_type[std::string(kListenerType)]["ingress"] = testing::listenerAny("ingress", 15000);
  resources.by_type[std::string(kClusterType)]["colorteller"] = testing::clusterAny("colorteller", 3);
  cache.setResources("proxy-1", resources);
  auto server = AdsServer::start(cache, "127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();

  IndependentDecoder decoder;
  {
    RawAdsStream stream((*server)->port());
    for (const std::string& type_url : {std::string(kListenerType), std::string(kClusterType)}) {
      auto request = decoder.make("envoy.service.discovery.v3.DiscoveryRequest");
      ASSERT_NE(request, nullptr);
      const auto* rd = request->GetDescriptor();
      auto* rr = request->GetReflection();
      Message* node = rr->MutableMessage(request.get(), rd->FindFieldByName("node"));
      node->GetReflection()->SetString(node, node->GetDescriptor()->FindFieldByName("id"), "proxy-1");
      rr->SetString(request.get(), rd->FindFieldByName("type_url"), type_url);
      stream.write(request->SerializeAsString());

      auto response = decoder.make("envoy.service.discovery.v3.DiscoveryResponse");
      ASSERT_TRUE(response->ParseFromString(stream.read()));
      EXPECT_TRUE(noUnknownFields(*response));
      EXPECT_EQ(str(*response, "type_url"), type_url);
      EXPECT_EQ(str(*response, "version_info").size(), 24u);
      EXPECT_FALSE(str(*response, "nonce").empty());
      EXPECT_EQ(str(sub(*response, "control_plane"), "identifier"), "trellis-cp");
      const FieldDescriptor* resources_field = response->GetDescriptor()->FindFieldByName("resources");
      ASSERT_EQ(response->GetReflection()->FieldSize(*response, resources_field), 1);
      const Message& any = response->GetReflection()->GetRepeatedMessage(*response, resources_field, 0);
      EXPECT_EQ(str(any, "type_url"), type_url);

      // The resource, decoded by the name its type URL gives.
      const std::string message_name = type_url.substr(type_url.find('/') + 1);
      auto resource = decoder.make(message_name);
      ASSERT_NE(resource, nullptr);
      ASSERT_TRUE(resource->ParseFromString(str(any, "value")));
      EXPECT_TRUE(noUnknownFields(*resource));
      if (type_url == kListenerType) {
        EXPECT_EQ(str(*resource, "name"), "ingress");
        const Message& socket = sub(sub(*resource, "address"), "socket_address");
        EXPECT_EQ(str(socket, "address"), "0.0.0.0");
        EXPECT_EQ(socket.GetReflection()->GetUInt32(socket, socket.GetDescriptor()->FindFieldByName("port_value")),
                  15000u);
      } else {
        EXPECT_EQ(str(*resource, "name"), "colorteller");
        const auto* type_field = resource->GetDescriptor()->FindFieldByName("type");
        EXPECT_EQ(resource->GetReflection()->GetEnum(*resource, type_field)->name(), "EDS");
        const Message& timeout = sub(*resource, "connect_timeout");
        EXPECT_EQ(timeout.GetReflection()->GetInt64(timeout, timeout.GetDescriptor()->FindFieldByName("seconds")), 3);
        EXPECT_EQ(str(sub(*resource, "eds_cluster_config"), "service_name"), "colorteller");
      }
    }
  }
  (*server)->shutdown();
}

}  // namespace
}  // namespace trellis::xds::server
