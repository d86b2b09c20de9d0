// Loads a folder of App Mesh specs: see loader.h. Three steps: split every file into YAML
// documents; index the Kubernetes objects and mesh names (so references resolve whatever file
// defines their target); then read each document in its format. A document with any error
// contributes nothing to the MeshSet.
#include "config/appmesh/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/k8s_crd_schema.h"
#include "config/appmesh/k8s_index.h"
#include "config/appmesh/spec_parser.h"
#include "config/appmesh/yaml_reader.h"

namespace trellis::config::appmesh {

namespace {

using internal::av;
using internal::DocContext;
using internal::Fields;
using internal::K8sIndex;
using internal::Need;
using internal::SpecContext;
using Keys = std::vector<std::string_view>;

constexpr std::string_view kK8sApiVersion = "appmesh.k8s.aws/v1beta2";
constexpr std::string_view kTrellisApiVersion = "trellis.dev/v1";

enum class Kind {
  kMesh,
  kVirtualNode,
  kVirtualService,
  kVirtualRouter,
  kRoute,
  kVirtualGateway,
  kGatewayRoute,
};

// How each kind is spelled in the three formats.
struct KindInfo {
  Kind kind;
  std::string_view k8sKind;    // Kubernetes kind; empty for Route (routes live in routers)
  std::string_view wrapper;    // describe output's top-level key
  std::string_view nameKey;    // CLI / describe name field
  std::string_view parentKey;  // CLI / describe parent name field, for routes
};

constexpr KindInfo kKinds[] = {
    {Kind::kMesh, "Mesh", "mesh", "meshName", ""},
    {Kind::kVirtualNode, "VirtualNode", "virtualNode", "virtualNodeName", ""},
    {Kind::kVirtualService, "VirtualService", "virtualService", "virtualServiceName", ""},
    {Kind::kVirtualRouter, "VirtualRouter", "virtualRouter", "virtualRouterName", ""},
    {Kind::kRoute, "", "route", "routeName", "virtualRouterName"},
    {Kind::kVirtualGateway, "VirtualGateway", "virtualGateway", "virtualGatewayName", ""},
    {Kind::kGatewayRoute, "GatewayRoute", "gatewayRoute", "gatewayRouteName", "virtualGatewayName"},
};

const KindInfo& infoOf(Kind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];
}

// One YAML document (or one item of a Kubernetes List) to read.
struct Document {
  std::string file;
  int index = 1;
  YAML::Node node;
  std::string root;  // path of `node` within the document: "" or "items[3]"
  // Set for a resource a front-end rewrote as CLI input: its format and name there.
  std::optional<InputFormat> frontend;
  std::string resource;

  std::string label() const {
    if (frontend) return absl::StrCat(file, " (resource ", resource, ")");
    return absl::StrCat(file, " (document ", index, ")");
  }
};

// ---- raw, error-free reads for the indexing pass (the full pass reports what is wrong).

// yaml-cpp throws when asked the type of a missing key's node, so check IsDefined first.
YAML::Node child(const YAML::Node& node, const char* key) {
  if (!node.IsDefined() || !node.IsMap()) return YAML::Node();
  return node[key];
}

std::string scalarOr(const YAML::Node& node, std::string fallback) {
  if (node.IsDefined() && node.IsScalar() && !node.Scalar().empty()) return node.Scalar();
  return fallback;
}

bool isK8sNamespace(const YAML::Node& node) {
  return node.IsMap() && scalarOr(child(node, "apiVersion"), "") == "v1" &&
         scalarOr(child(node, "kind"), "") == "Namespace";
}

bool isK8sList(const YAML::Node& node) {
  return node.IsMap() && scalarOr(child(node, "apiVersion"), "") == "v1" &&
         scalarOr(child(node, "kind"), "") == "List";
}

// What the controller names a Kubernetes object in App Mesh.
std::string defaultAwsName(std::string_view kind, const std::string& name, const std::string& ns) {
  if (kind == "Mesh" || kind == "VirtualService") return name;
  return absl::StrCat(name, "_", ns);
}

std::string namespaceOf(std::string_view kind, const YAML::Node& metadata) {
  if (kind == "Mesh") return "";  // cluster-scoped
  return scalarOr(child(metadata, "namespace"), "default");
}

// The describe wrapper key of a document such as {"virtualNode": {...}}, if it is one.
const KindInfo* describeKind(const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1) return nullptr;
  const std::string key = node.begin()->first.Scalar();
  for (const KindInfo& info : kKinds) {
    if (info.wrapper == key) return &info;
  }
  return nullptr;
}

// The kind of a CLI input document, from which name keys it has.
std::optional<Kind> cliKind(const YAML::Node& node) {
  auto has = [&](const char* key) { return child(node, key).IsDefined(); };
  if (has("gatewayRouteName")) return Kind::kGatewayRoute;
  if (has("routeName")) return Kind::kRoute;
  if (has("virtualGatewayName")) return Kind::kVirtualGateway;
  if (has("virtualNodeName")) return Kind::kVirtualNode;
  if (has("virtualServiceName")) return Kind::kVirtualService;
  if (has("virtualRouterName")) return Kind::kVirtualRouter;
  if (has("meshName")) return Kind::kMesh;
  return std::nullopt;
}

// ---- the pass that reads documents.

struct Sizes {
  size_t meshes, nodes, services, routers, routes, gateways, gatewayRoutes, endpoints, sidecars;
};

Sizes sizesOf(const MeshSet& set) {
  return {set.meshes.size(),         set.virtualNodes.size(), set.virtualServices.size(),
          set.virtualRouters.size(), set.routes.size(),       set.virtualGateways.size(),
          set.gatewayRoutes.size(),  set.endpoints.size(),    set.sidecars.size()};
}

void truncateTo(MeshSet& set, const Sizes& sizes) {
  set.meshes.resize(sizes.meshes);
  set.virtualNodes.resize(sizes.nodes);
  set.virtualServices.resize(sizes.services);
  set.virtualRouters.resize(sizes.routers);
  set.routes.resize(sizes.routes);
  set.virtualGateways.resize(sizes.gateways);
  set.gatewayRoutes.resize(sizes.gatewayRoutes);
  set.endpoints.resize(sizes.endpoints);
  set.sidecars.resize(sizes.sidecars);
}

// Reads one document at a time into the MeshSet, with the folder-wide index at hand.
class DocumentReader {
 public:
  DocumentReader(const K8sIndex& index, std::vector<std::string> meshNames, MeshSet& set,
                 const LoadOptions& options)
      : index_(index), meshNames_(std::move(meshNames)), set_(set), options_(options) {}

  void read(const Document& document, DocContext& doc) {
    Fields top(document.node, document.root, doc);
    if (!top.valid()) return;
    Source source;
    source.file = document.file;
    source.document = document.index;
    if (document.frontend) {
      // A front-end wrote this document in the CLI input shape.
      std::optional<Kind> kind = cliKind(document.node);
      if (!kind) {
        doc.error(document.root, "the front-end produced no recognisable App Mesh resource");
        return;
      }
      source.format = *document.frontend;
      source.resource = document.resource;
      source.specPath = internal::joinPath(document.root, "spec");
      readAwsResource(top, infoOf(*kind), /*describe=*/false, source, doc);
      return;
    }
    if (top.has("apiVersion")) {
      const std::string apiVersion = top.str("apiVersion").value_or("");
      if (isK8sNamespace(document.node)) {
        readNamespace(top);
      } else if (apiVersion == kK8sApiVersion) {
        readKubernetes(top, source, doc);
      } else if (apiVersion == kTrellisApiVersion) {
        readTrellis(top, source);
      } else if (absl::StartsWith(apiVersion, "appmesh.k8s.aws/")) {
        top.error("apiVersion", absl::StrCat("\"", apiVersion, "\" is not supported (allowed: ",
                                             av(kK8sApiVersion), ")"));
      } else {
        top.error("apiVersion", absl::StrCat("\"", apiVersion, "\" is not supported (allowed: ",
                                             av(kK8sApiVersion), ", ", av(kTrellisApiVersion),
                                             ", a v1 Namespace, or a v1 List of those)"));
      }
      return;
    }
    if (const KindInfo* info = describeKind(document.node)) {
      std::optional<Fields> data = top.object(info->wrapper, Need::kRequired);
      if (!data) return;
      source.format = InputFormat::kDescribe;
      source.specPath = internal::joinPath(data->path(), "spec");
      readAwsResource(*data, *info, /*describe=*/true, source, doc);
      return;
    }
    std::optional<Kind> kind = cliKind(document.node);
    if (!kind) {
      doc.error(document.root,
                "cannot tell what this document is: expected aws appmesh CLI input (meshName, "
                "virtualNodeName, ...), describe output ({\"virtualNode\": {...}}), an "
                "appmesh.k8s.aws/v1beta2 object or a trellis.dev/v1 document");
      return;
    }
    source.format = InputFormat::kCliInput;
    source.specPath = internal::joinPath(document.root, "spec");
    readAwsResource(top, infoOf(*kind), /*describe=*/false, source, doc);
  }

 private:
  // CLI input and describe output: the same names and spec, different envelopes.
  void readAwsResource(Fields& f, const KindInfo& info, bool describe, const Source& source,
                       DocContext& doc) {
    Keys keys{"meshName", "spec"};
    if (info.kind != Kind::kMesh) keys.push_back(info.nameKey);
    if (!info.parentKey.empty()) keys.push_back(info.parentKey);
    if (describe) {
      keys.insert(keys.end(), {"metadata", "status"});
    } else {
      keys.insert(keys.end(), {"tags", "clientToken"});
      if (info.kind != Kind::kMesh) keys.push_back("meshOwner");
    }
    f.allowOnly(keys);

    ResourceHeader header;
    header.source = source;
    header.mesh = f.str("meshName", Need::kRequired).value_or("");
    header.name =
        info.kind == Kind::kMesh ? header.mesh : f.str(info.nameKey, Need::kRequired).value_or("");
    std::string parent;
    if (!info.parentKey.empty()) parent = f.str(info.parentKey, Need::kRequired).value_or("");
    if (describe) {
      readDescribeMetadata(f, header);
    } else {
      header.meshOwner = f.str("meshOwner");
      readTags(f, header);
    }
    std::optional<Fields> spec =
        f.object("spec", info.kind == Kind::kMesh ? Need::kOptional : Need::kRequired);
    SpecContext ctx{doc, nullptr, "", header.mesh};
    addResource(info.kind, std::move(header), parent, spec, {}, ctx);
  }

  void readDescribeMetadata(Fields& f, ResourceHeader& header) {
    if (std::optional<Fields> metadata = f.object("metadata")) {
      metadata->allowOnly(
          {"arn", "createdAt", "lastUpdatedAt", "meshOwner", "resourceOwner", "uid", "version"});
      header.arn = metadata->str("arn");
      header.meshOwner = metadata->str("meshOwner");
    }
    if (std::optional<Fields> status = f.object("status")) {
      status->allowOnly({"status"});
      const internal::EnumTable<std::string_view> kStatuses = {
          {"ACTIVE", "ACTIVE"}, {"INACTIVE", "INACTIVE"}, {"DELETED", "DELETED"}};
      std::optional<std::string_view> value = status->oneOf("status", kStatuses);
      if (value && *value == "DELETED") {
        status->error("status", "the resource was DELETED; remove this document");
      }
    }
  }

  void readTags(Fields& f, ResourceHeader& header) {
    f.list("tags", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
      Fields tag = internal::itemFields(item, path, f.doc());
      if (!tag.valid()) return;
      tag.allowOnly({"key", "value"});
      Tag value;
      value.key = tag.str("key", Need::kRequired).value_or("");
      value.value = tag.str("value", Need::kRequired).value_or("");
      header.tags.push_back(std::move(value));
    });
  }

  // Reads the spec of any kind and appends the resource.
  void addResource(Kind kind, ResourceHeader header, const std::string& parent,
                   std::optional<Fields>& spec, const Keys& extraKeys, SpecContext& ctx) {
    switch (kind) {
      case Kind::kMesh: {
        Mesh mesh;
        static_cast<ResourceHeader&>(mesh) = std::move(header);
        if (spec) internal::parseMeshSpec(*spec, extraKeys, mesh.spec, ctx);
        set_.meshes.push_back(std::move(mesh));
        break;
      }
      case Kind::kVirtualNode: {
        VirtualNode node;
        static_cast<ResourceHeader&>(node) = std::move(header);
        if (spec) internal::parseVirtualNodeSpec(*spec, extraKeys, node.spec, ctx);
        set_.virtualNodes.push_back(std::move(node));
        break;
      }
      case Kind::kVirtualService: {
        VirtualService service;
        static_cast<ResourceHeader&>(service) = std::move(header);
        if (spec) internal::parseVirtualServiceSpec(*spec, extraKeys, service.spec, ctx);
        set_.virtualServices.push_back(std::move(service));
        break;
      }
      case Kind::kVirtualRouter: {
        VirtualRouter router;
        static_cast<ResourceHeader&>(router) = std::move(header);
        if (spec) internal::parseVirtualRouterSpec(*spec, extraKeys, router.spec, ctx);
        set_.virtualRouters.push_back(std::move(router));
        break;
      }
      case Kind::kRoute: {
        Route route;
        static_cast<ResourceHeader&>(route) = std::move(header);
        route.virtualRouter = parent;
        if (spec) internal::parseRouteSpec(*spec, extraKeys, route.spec, ctx);
        set_.routes.push_back(std::move(route));
        break;
      }
      case Kind::kVirtualGateway: {
        VirtualGateway gateway;
        static_cast<ResourceHeader&>(gateway) = std::move(header);
        if (spec) internal::parseVirtualGatewaySpec(*spec, extraKeys, gateway.spec, ctx);
        set_.virtualGateways.push_back(std::move(gateway));
        break;
      }
      case Kind::kGatewayRoute: {
        GatewayRoute route;
        static_cast<ResourceHeader&>(route) = std::move(header);
        route.virtualGateway = parent;
        if (spec) internal::parseGatewayRouteSpec(*spec, extraKeys, route.spec, ctx);
        set_.gatewayRoutes.push_back(std::move(route));
        break;
      }
    }
  }

  // appmesh.k8s.aws/v1beta2 objects.
  void readKubernetes(Fields& top, Source source, DocContext& doc) {
    const std::string kindName = top.str("kind", Need::kRequired).value_or("");
    const KindInfo* info = nullptr;
    for (const KindInfo& candidate : kKinds) {
      if (!candidate.k8sKind.empty() && candidate.k8sKind == kindName) info = &candidate;
    }
    // The API server pruned what the CRD does not define before App Mesh saw it.
    if (info != nullptr) {
      doc.setPruning({std::string(info->k8sKind), top.path(), options_.strict, &internal::crdDefines});
    }
    top.allowOnly({"apiVersion", "kind", "metadata", "spec", "status"});
    if (info == nullptr) {
      if (!kindName.empty()) {
        top.error("kind", absl::StrCat("\"", kindName,
                                       "\" is not supported (allowed: Mesh, VirtualNode, "
                                       "VirtualService, VirtualRouter, VirtualGateway, "
                                       "GatewayRoute)"));
      }
      return;
    }
    // metadata is Kubernetes's business (labels, annotations, uid...); only the name matters.
    std::optional<Fields> metadata = top.object("metadata", Need::kRequired);
    if (!metadata) return;
    metadata->allowOnly({"name", "namespace", "labels", "annotations", "ownerReferences", "finalizers", "uid",
                         "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                         "deletionGracePeriodSeconds", "generateName", "managedFields", "selfLink"});
    const std::string name = metadata->str("name", Need::kRequired).value_or("");
    const std::string ns = namespaceOf(info->k8sKind, top.raw("metadata"));
    std::optional<Fields> spec =
        top.object("spec", info->kind == Kind::kMesh ? Need::kOptional : Need::kRequired);
    if (info->kind != Kind::kMesh && !spec) return;

    source.format = InputFormat::kKubernetes;
    source.specPath = internal::joinPath(top.path(), "spec");
    source.k8sNamespace = ns;
    source.k8sName = name;

    ResourceHeader header;
    header.source = source;
    std::string awsName;
    if (spec) awsName = spec->str("awsName").value_or("");
    header.name = awsName.empty() ? defaultAwsName(info->k8sKind, name, ns) : awsName;
    if (info->kind == Kind::kMesh) {
      header.mesh = header.name;
      if (spec) header.meshOwner = spec->str("meshOwner");
    } else {
      header.mesh = meshOf(*spec, ns, doc);
    }
    if (spec && (info->kind == Kind::kMesh || info->kind == Kind::kVirtualGateway)) {
      checkSelector(*spec, "namespaceSelector");
    }
    if (spec && info->kind == Kind::kVirtualGateway) {
      checkSelector(*spec, "gatewayRouteSelector");
      checkSelector(*spec, "podSelector");
    }
    if (spec && info->kind == Kind::kVirtualNode) checkSelector(*spec, "podSelector");
    SpecContext ctx{doc, &index_, ns, header.mesh};

    switch (info->kind) {
      case Kind::kMesh:
        addResource(Kind::kMesh, std::move(header), "", spec,
                    {"awsName", "namespaceSelector", "meshOwner"}, ctx);
        break;
      case Kind::kVirtualNode:
        if (spec->has("backendGroups")) {
          spec->error("backendGroups",
                      "not supported: list the virtual services under backends (backend groups "
                      "select services by labels, which a folder does not have)");
        }
        addResource(Kind::kVirtualNode, std::move(header), "", spec,
                    {"awsName", "podSelector", "meshRef", "backendGroups"}, ctx);
        break;
      case Kind::kVirtualService:
        addResource(Kind::kVirtualService, std::move(header), "", spec, {"awsName", "meshRef"},
                    ctx);
        break;
      case Kind::kVirtualRouter: {
        const std::string routerName = header.name;
        addResource(Kind::kVirtualRouter, std::move(header), "", spec,
                    {"awsName", "meshRef", "routes"}, ctx);
        readInlineRoutes(*spec, source, routerName, ctx);
        break;
      }
      case Kind::kVirtualGateway:
        addResource(
            Kind::kVirtualGateway, std::move(header), "", spec,
            {"awsName", "namespaceSelector", "podSelector", "gatewayRouteSelector", "meshRef"},
            ctx);
        break;
      case Kind::kGatewayRoute: {
        const std::string gateway =
            gatewayOf(*spec, internal::labelsFromYaml(child(top.raw("metadata"), "labels")), ctx);
        addResource(Kind::kGatewayRoute, std::move(header), gateway, spec,
                    {"awsName", "virtualGatewayRef", "meshRef"}, ctx);
        break;
      }
      case Kind::kRoute:
        break;
    }
  }

  // A Kubernetes VirtualRouter carries its routes: spec.routes[] = {name, <route spec>}.
  void readInlineRoutes(Fields& spec, const Source& routerSource, const std::string& router,
                        SpecContext& ctx) {
    spec.list("routes", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
      std::optional<Fields> route = internal::itemFields(item, path, ctx.doc);
      if (!route->valid()) return;
      ResourceHeader header;
      header.source = routerSource;
      header.source.specPath = path;
      header.mesh = ctx.mesh;
      header.name = route->str("name", Need::kRequired).value_or("");
      addResource(Kind::kRoute, std::move(header), router, route, {"name"}, ctx);
    });
  }

  // The App Mesh mesh of a Kubernetes object: spec.meshRef; with Namespace objects in the folder,
  // the Mesh whose namespaceSelector selects the object's namespace (as the controller's
  // membership webhook did); otherwise the folder's only mesh.
  std::string meshOf(Fields& spec, const std::string& ns, DocContext& doc) {
    if (spec.has("meshRef")) {
      std::optional<Fields> ref = spec.object("meshRef");
      if (!ref) return "";
      ref->allowOnly({"name", "uid"});
      const std::string name = ref->str("name", Need::kRequired).value_or("");
      if (const K8sIndex::Entry* mesh = index_.find("Mesh", "", name)) return mesh->awsName;
      return name;  // a mesh defined in CLI or describe form, named by its App Mesh name
    }
    const std::vector<const K8sIndex::Entry*> meshes = index_.ofKind("Mesh");
    if (index_.hasNamespaces() && !meshes.empty()) {
      bool defined = false;
      const internal::Labels labels = index_.namespaceLabels(ns, &defined);
      std::vector<std::string> matches;
      std::vector<std::string> selectors;
      for (const K8sIndex::Entry* mesh : meshes) {
        selectors.push_back(absl::StrCat(mesh->name, ": ", av(selectorText(mesh->namespaceSelector))));
        if (mesh->namespaceSelector && mesh->namespaceSelector->matches(labels)) matches.push_back(mesh->name);
      }
      if (matches.size() == 1) return index_.find("Mesh", "", matches.front())->awsName;
      const std::string nsText = absl::StrCat("namespace ", ns, " (labels ", av(internal::labelsToString(labels)),
                                              defined ? "" : "; no Namespace object in this folder", ")");
      if (matches.empty()) {
        doc.error(spec.pathOf("meshRef"),
                  absl::StrCat("no Mesh selects ", nsText, "; Mesh namespaceSelectors: ",
                               absl::StrJoin(selectors, "; "),
                               " (label the Namespace to match one, or name the mesh with spec.meshRef.name)"));
      } else {
        doc.error(spec.pathOf("meshRef"),
                  absl::StrCat(nsText, " is selected by ", matches.size(), " meshes (", absl::StrJoin(matches, ", "),
                               "); the App Mesh controller requires exactly one: narrow their namespaceSelectors "
                               "or name the mesh with spec.meshRef.name"));
      }
      return "";
    }
    if (meshNames_.size() == 1) return meshNames_.front();
    const std::string found = meshNames_.empty()
                                  ? std::string("no mesh is defined in this folder")
                                  : absl::StrCat("this folder defines ", meshNames_.size(),
                                                 " meshes (", absl::StrJoin(meshNames_, ", "), ")");
    doc.error(spec.pathOf("meshRef"),
              absl::StrCat("required field missing: ", found,
                           "; name the mesh with spec.meshRef.name, or add the v1 Namespace objects (with "
                           "their labels) so the Meshes' namespaceSelector decides, as the controller did"));
    return "";
  }

  static std::string selectorText(const std::optional<internal::LabelSelector>& selector) {
    return selector ? selector->toString() : "absent (selects no namespace)";
  }

  // The App Mesh virtual gateway of a Kubernetes GatewayRoute: spec.virtualGatewayRef; else, as
  // the controller did, the VirtualGateway whose namespaceSelector selects the route's namespace
  // (when the folder has Namespace objects) and whose gatewayRouteSelector (absent: all) selects
  // the route's labels; without Namespace objects a folder's only VirtualGateway.
  std::string gatewayOf(Fields& spec, const internal::Labels& routeLabels, SpecContext& ctx) {
    if (spec.has("virtualGatewayRef")) {
      std::optional<Fields> ref = spec.object("virtualGatewayRef");
      if (!ref) return "";
      ref->allowOnly({"name", "namespace", "uid"});
      return internal::resolveK8sRef(*ref, "VirtualGateway", ctx).value_or("");
    }
    std::vector<const K8sIndex::Entry*> gateways = index_.ofKind("VirtualGateway");
    if (!index_.hasNamespaces() && gateways.size() == 1) return gateways.front()->awsName;
    const std::string path = spec.pathOf("virtualGatewayRef");
    if (gateways.empty()) {
      ctx.doc.error(path, "required field missing: this folder has no VirtualGateway objects; name the "
                          "gateway with spec.virtualGatewayRef.name");
      return "";
    }
    std::vector<const K8sIndex::Entry*> candidates;
    std::vector<std::string> nsSelectors;
    bool defined = false;
    const internal::Labels nsLabels = index_.namespaceLabels(ctx.k8sNamespace, &defined);
    for (const K8sIndex::Entry* gateway : gateways) {
      if (!index_.hasNamespaces()) {
        candidates.push_back(gateway);
        continue;
      }
      nsSelectors.push_back(absl::StrCat(gateway->name, ": ", av(selectorText(gateway->namespaceSelector))));
      if (gateway->namespaceSelector && gateway->namespaceSelector->matches(nsLabels)) candidates.push_back(gateway);
    }
    if (candidates.empty()) {
      ctx.doc.error(path, absl::StrCat("no VirtualGateway selects namespace ", ctx.k8sNamespace, " (labels ",
                                       av(internal::labelsToString(nsLabels)),
                                       defined ? "" : "; no Namespace object in this folder",
                                       "); VirtualGateway namespaceSelectors: ", absl::StrJoin(nsSelectors, "; "),
                                       " (or name the gateway with spec.virtualGatewayRef.name)"));
      return "";
    }
    std::vector<const K8sIndex::Entry*> matches;
    std::vector<std::string> routeSelectors;
    for (const K8sIndex::Entry* gateway : candidates) {
      routeSelectors.push_back(absl::StrCat(
          gateway->name, ": ",
          gateway->gatewayRouteSelector ? av(gateway->gatewayRouteSelector->toString()) : "absent (selects all)"));
      if (!gateway->gatewayRouteSelector || gateway->gatewayRouteSelector->matches(routeLabels)) {
        matches.push_back(gateway);
      }
    }
    if (matches.size() == 1) return matches.front()->awsName;
    if (matches.empty()) {
      ctx.doc.error(path, absl::StrCat("no VirtualGateway's gatewayRouteSelector selects this GatewayRoute (labels ",
                                       av(internal::labelsToString(routeLabels)), "); gatewayRouteSelectors: ",
                                       absl::StrJoin(routeSelectors, "; "),
                                       " (or name the gateway with spec.virtualGatewayRef.name)"));
    } else {
      std::vector<std::string> names;
      for (const K8sIndex::Entry* gateway : matches) names.push_back(gateway->name);
      ctx.doc.error(path, absl::StrCat("this GatewayRoute is selected by ", matches.size(), " VirtualGateways (",
                                       absl::StrJoin(names, ", "),
                                       "); the App Mesh controller requires exactly one: narrow their "
                                       "gatewayRouteSelectors or name the gateway with spec.virtualGatewayRef.name"));
    }
    return "";
  }

  // The shape of a metav1.LabelSelector (the values are read in the indexing pass).
  void checkSelector(Fields& spec, std::string_view key) {
    std::optional<Fields> selector = spec.object(key);
    if (!selector) return;
    selector->allowOnly({"matchLabels", "matchExpressions"});
    if (std::optional<Fields> labels = selector->object("matchLabels")) {
      for (const auto& entry : selector->raw("matchLabels")) {
        const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "?";
        internal::readString(entry.second, labels->pathOf(name), spec.doc());
      }
    }
    selector->list("matchExpressions", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
      Fields requirement = internal::itemFields(item, path, spec.doc());
      if (!requirement.valid()) return;
      requirement.allowOnly({"key", "operator", "values"});
      requirement.str("key", Need::kRequired);
      const internal::EnumTable<bool> kOperators = {
          {"In", true}, {"NotIn", true}, {"Exists", false}, {"DoesNotExist", false}};
      std::optional<bool> needsValues = requirement.oneOf("operator", kOperators, Need::kRequired);
      std::optional<std::vector<std::string>> values = requirement.strings("values");
      if (needsValues && *needsValues && (!values || values->empty())) {
        requirement.error("values", "required field missing: In and NotIn need at least one value");
      } else if (needsValues && !*needsValues && values && !values->empty()) {
        requirement.error("values", "must be empty for Exists and DoesNotExist");
      }
    });
  }

  // v1 Namespace objects give their labels to namespaceSelector (read in the indexing pass).
  void readNamespace(Fields& top) {
    top.allowOnly({"apiVersion", "kind", "metadata", "spec", "status"});
    std::optional<Fields> metadata = top.object("metadata", Need::kRequired);
    if (!metadata) return;
    metadata->str("name", Need::kRequired);
    if (std::optional<Fields> labels = metadata->object("labels")) {
      for (const auto& entry : metadata->raw("labels")) {
        const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "?";
        internal::readString(entry.second, labels->pathOf(name), top.doc());
      }
    }
  }

  // trellis.dev/v1 documents: Endpoints or Sidecar.
  void readTrellis(Fields& top, Source source) {
    const std::string kind = top.str("kind", Need::kRequired).value_or("");
    source.format = InputFormat::kTrellis;
    source.specPath = top.path();
    if (kind == "Endpoints") {
      readEndpoints(top, source);
    } else if (kind == "Sidecar") {
      readSidecar(top, source);
    } else if (!kind.empty()) {
      top.error("kind",
                absl::StrCat("\"", kind, "\" is not supported (allowed: Endpoints, Sidecar)"));
    }
  }

  void readEndpoints(Fields& top, const Source& source) {
    top.allowOnly({"apiVersion", "kind", "mesh", "virtualNode", "endpoints"});
    Endpoints endpoints;
    endpoints.source = source;
    endpoints.mesh = top.str("mesh", Need::kRequired).value_or("");
    endpoints.virtualNode = top.str("virtualNode", Need::kRequired).value_or("");
    top.list("endpoints", Need::kRequired, [&](const YAML::Node& item, const std::string& path) {
      Fields f = internal::itemFields(item, path, top.doc());
      if (!f.valid()) return;
      f.allowOnly({"address", "port", "weight"});
      Endpoint endpoint;
      endpoint.address = f.str("address", Need::kRequired).value_or("");
      endpoint.port = f.int64("port");
      endpoint.weight = f.int64("weight").value_or(1);
      endpoints.endpoints.push_back(std::move(endpoint));
    });
    set_.endpoints.push_back(std::move(endpoints));
  }

  void readSidecar(Fields& top, const Source& source) {
    top.allowOnly({"apiVersion", "kind", "mesh", "virtualNode", "inbound", "outbound", "app"});
    Sidecar sidecar;
    sidecar.source = source;
    sidecar.mesh = top.str("mesh", Need::kRequired).value_or("");
    sidecar.virtualNode = top.str("virtualNode", Need::kRequired).value_or("");
    sidecar.inbound = hostPort(top, "inbound");
    sidecar.outbound = hostPort(top, "outbound");
    if (std::optional<Fields> app = top.object("app")) {
      app->allowOnly({"address", "ports"});
      sidecar.appAddress = app->str("address");
      if (std::optional<Fields> ports = app->object("ports")) {
        const YAML::Node map = app->raw("ports");
        for (auto it = map.begin(); it != map.end(); ++it) {
          const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
          const std::string path = ports->pathOf(key);
          int64_t listenerPort = 0;
          if (!absl::SimpleAtoi(key, &listenerPort)) {
            top.doc().error(path, absl::StrCat("key ", internal::describeNode(it->first),
                                               " is not a port number (expected LISTENER_PORT: "
                                               "APP_PORT, e.g. 9080: 9081)"));
            continue;
          }
          std::optional<int64_t> appPort = internal::readInt64(it->second, path, top.doc());
          if (appPort) sidecar.appPorts.push_back({listenerPort, *appPort});
        }
      }
    }
    set_.sidecars.push_back(std::move(sidecar));
  }

  // "ADDRESS:PORT" or "[IPV6]:PORT". The address and the port's range are validation's business.
  static std::optional<HostPort> hostPort(Fields& f, std::string_view key) {
    std::optional<std::string> text = f.str(key);
    if (!text) return std::nullopt;
    std::string_view view = *text;
    const size_t colon = view.rfind(':');
    HostPort out;
    bool ok = colon != std::string_view::npos && colon > 0 &&
              absl::SimpleAtoi(internal::av(view.substr(colon + 1)), &out.port);
    if (ok) {
      std::string_view address = view.substr(0, colon);
      if (address.front() == '[' && address.size() > 2 && address.back() == ']') {
        address = address.substr(1, address.size() - 2);
      } else if (address.find(':') != std::string_view::npos || address.front() == '[') {
        ok = false;  // an IPv6 address needs brackets to tell it from the port
      }
      out.address = std::string(address);
    }
    if (!ok) {
      f.error(key, absl::StrCat("\"", *text,
                                "\" is not ADDRESS:PORT (e.g. 127.0.0.1:15100 or [::1]:15100)"));
      return std::nullopt;
    }
    return out;
  }

  const K8sIndex& index_;
  std::vector<std::string> meshNames_;
  MeshSet& set_;
  const LoadOptions& options_;
};

// Splits files into documents; a Kubernetes List becomes one document per item.
// Appends what a front-end read from one file.
void addFrontendResult(const InputFile& file, FrontendResult result, std::vector<Document>& documents,
                       internal::Diagnostics& diagnostics, LoadResult& load) {
  for (std::string& error : result.errors) diagnostics.add(std::move(error));
  for (std::string& warning : result.warnings) load.warnings.push_back(std::move(warning));
  for (std::string& note : result.notes) load.notes.push_back(std::move(note));
  int index = 0;
  for (FrontendDocument& resource : result.documents) {
    documents.push_back(
        {file.name, ++index, std::move(resource.node), "", result.format, std::move(resource.resource)});
  }
}

std::vector<Document> splitDocuments(const std::vector<InputFile>& files,
                                     internal::Diagnostics& diagnostics, ParseCache* cache,
                                     const LoadOptions& options, LoadResult& load) {
  std::vector<Document> documents;
  ParseCache local;
  ParseCache& parses = cache ? *cache : local;
  for (const InputFile& listed : files) {
    InputFile file{listed.name, listed.content, &files};  // front-ends see the whole folder
    if (isRawTextFile(file.name)) {
      if (std::optional<FrontendResult> read = readWithFrontend(file, nullptr, options)) {
        addFrontendResult(file, *std::move(read), documents, diagnostics, load);
      } else {
        diagnostics.add(absl::StrCat(file.name, ": no front-end read this file"));
      }
      continue;
    }
    const ParseCache::Entry& parsed = parses.parse(file.name, file.content);
    if (!parsed.error.empty()) {
      diagnostics.add(parsed.error);
      continue;
    }
    const std::vector<YAML::Node>& nodes = parsed.documents;
    if (const std::optional<FrontendResult>& read = parses.frontend(file, options)) {
      addFrontendResult(file, *read, documents, diagnostics, load);
      continue;
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      const YAML::Node& node = nodes[i];
      if (node.IsNull()) continue;  // an empty document, e.g. after a trailing "---"
      const int index = static_cast<int>(i) + 1;
      if (!isK8sList(node)) {
        documents.push_back({file.name, index, node, "", std::nullopt, ""});
        continue;
      }
      const YAML::Node items = child(node, "items");
      if (!items.IsDefined() || !items.IsSequence()) {
        diagnostics.add(
            absl::StrCat(file.name, " (document ", index, "): items: expected a list of objects"));
        continue;
      }
      for (size_t j = 0; j < items.size(); ++j) {
        documents.push_back({file.name, index, items[j], internal::indexPath("items", j), std::nullopt, ""});
      }
    }
  }
  return documents;
}

// Indexes Kubernetes objects and collects every mesh name, whatever the format.
void indexDocuments(const std::vector<Document>& documents, K8sIndex& index,
                    std::vector<std::string>& meshNames) {
  auto addMesh = [&](const std::string& name) {
    if (!name.empty() && std::find(meshNames.begin(), meshNames.end(), name) == meshNames.end()) {
      meshNames.push_back(name);
    }
  };
  for (const Document& document : documents) {
    const YAML::Node& node = document.node;
    if (!node.IsMap()) continue;
    if (child(node, "apiVersion").IsDefined()) {
      if (isK8sNamespace(node)) {
        const YAML::Node metadata = child(node, "metadata");
        const std::string name = scalarOr(child(metadata, "name"), "");
        if (!name.empty()) index.addNamespace(name, internal::labelsFromYaml(child(metadata, "labels")));
        continue;
      }
      if (scalarOr(child(node, "apiVersion"), "") != kK8sApiVersion) continue;
      const std::string kind = scalarOr(child(node, "kind"), "");
      const YAML::Node metadata = child(node, "metadata");
      const std::string name = scalarOr(child(metadata, "name"), "");
      if (kind.empty() || name.empty()) continue;
      const std::string ns = namespaceOf(kind, metadata);
      const YAML::Node spec = child(node, "spec");
      const std::string awsName = scalarOr(child(spec, "awsName"), defaultAwsName(kind, name, ns));
      K8sIndex::Entry entry{kind, ns, name, awsName, internal::labelsFromYaml(child(metadata, "labels")),
                            std::nullopt, std::nullopt};
      if (kind == "Mesh" || kind == "VirtualGateway") {
        entry.namespaceSelector = internal::selectorFromYaml(child(spec, "namespaceSelector"));
      }
      if (kind == "VirtualGateway") {
        entry.gatewayRouteSelector = internal::selectorFromYaml(child(spec, "gatewayRouteSelector"));
      }
      index.add(std::move(entry));
      if (kind == "Mesh") addMesh(awsName);
      continue;
    }
    if (const KindInfo* info = describeKind(node)) {
      if (info->kind == Kind::kMesh) {
        addMesh(scalarOr(child(child(node, "mesh"), "meshName"), ""));
      }
      continue;
    }
    if (cliKind(node) == Kind::kMesh) addMesh(scalarOr(child(node, "meshName"), ""));
  }
}

bool hasSpecExtension(const std::string& name) {
  return absl::EndsWith(name, ".json") || absl::EndsWith(name, ".yaml") ||
         absl::EndsWith(name, ".yml") || isRawTextFile(name);
}

// Lists and reads the spec files of `dir`. Returns false if the folder itself cannot be read.
bool readFolder(const std::string& dir, std::vector<InputFile>& files,
                std::vector<std::string>& errors) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    errors.push_back(absl::StrCat(dir, ": cannot read folder: ", ec.message()));
    return false;
  }
  std::vector<std::string> names;
  for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !hasSpecExtension(name)) continue;
    std::error_code typeError;
    if (!it->is_regular_file(typeError)) continue;
    names.push_back(name);
  }
  if (ec) {
    errors.push_back(absl::StrCat(dir, ": cannot list folder: ", ec.message()));
    return false;
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::ifstream in(std::filesystem::path(dir) / name, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) {
      errors.push_back(absl::StrCat(name, ": cannot read file"));
      continue;
    }
    files.push_back({name, content.str()});
  }
  return true;
}

}  // namespace

const ParseCache::Entry& ParseCache::parse(const std::string& name, const std::string& content) {
  auto it = entries_.find(name);
  if (it != entries_.end() && it->second.content == content) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  Entry entry;
  entry.content = content;
  try {
    entry.documents = YAML::LoadAll(content);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports syntax errors by exception; they stop here and become messages.
    entry.error = absl::StrCat(name, ": not valid YAML or JSON at line ", e.mark.line + 1, ", column ",
                               e.mark.column + 1, ": ", e.msg);
  }
  auto& slot = entries_[name];
  slot = std::move(entry);
  return slot;
}

namespace {

bool sameOptions(const LoadOptions& a, const LoadOptions& b) {
  return a.parameters == b.parameters && a.importValues == b.importValues &&
         a.variables == b.variables && a.strict == b.strict;
}

}  // namespace

const std::optional<FrontendResult>& ParseCache::frontend(const InputFile& file,
                                                          const LoadOptions& options) {
  Entry& entry = entries_[file.name];
  const bool reusable = entry.frontend && sameOptions(entry.frontendOptions, options) &&
                        (!*entry.frontend || (*entry.frontend)->cacheable);
  if (!reusable) {
    entry.frontend = readWithFrontend(file, &entry.documents, options);
    entry.frontendOptions = options;
  }
  return *entry.frontend;
}

void ParseCache::retainOnly(const std::vector<std::string>& names) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (std::find(names.begin(), names.end(), it->first) == names.end()) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

LoadResult loadMeshFiles(const std::vector<InputFile>& files, ParseCache* cache,
                         const LoadOptions& options) {
  internal::Diagnostics diagnostics;
  if (cache) {
    std::vector<std::string> names;
    for (const auto& f : files) names.push_back(f.name);
    cache->retainOnly(names);
  }
  LoadResult result;
  const std::vector<Document> documents = splitDocuments(files, diagnostics, cache, options, result);
  K8sIndex index;
  std::vector<std::string> meshNames;
  indexDocuments(documents, index, meshNames);

  DocumentReader reader(index, meshNames, result.mesh, options);
  for (const Document& document : documents) {
    DocContext doc(document.label(), diagnostics);
    const Sizes before = sizesOf(result.mesh);
    reader.read(document, doc);
    if (doc.errorCount() > 0) truncateTo(result.mesh, before);
  }
  result.errors = diagnostics.take();
  for (std::string& warning : diagnostics.takeWarnings()) result.warnings.push_back(std::move(warning));
  return result;
}

LoadResult loadMeshDirWithErrors(const std::string& dir, ParseCache* cache,
                                 const LoadOptions& options) {
  std::vector<InputFile> files;
  std::vector<std::string> readErrors;
  if (!readFolder(dir, files, readErrors)) {
    LoadResult failed;
    failed.errors = std::move(readErrors);
    return failed;
  }
  LoadResult result = loadMeshFiles(files, cache, options);
  result.errors.insert(result.errors.begin(), readErrors.begin(), readErrors.end());
  return result;
}

absl::StatusOr<MeshSet> loadMeshDir(const std::string& dir, const LoadOptions& options) {
  std::vector<InputFile> files;
  std::vector<std::string> errors;
  if (!readFolder(dir, files, errors)) return absl::NotFoundError(absl::StrJoin(errors, "\n"));
  LoadResult result = loadMeshFiles(files, nullptr, options);
  errors.insert(errors.end(), result.errors.begin(), result.errors.end());
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return std::move(result.mesh);
}

}  // namespace trellis::config::appmesh
