// The CloudFormation front-end: see cloudformation.h. One TemplateReader per template: it checks
// the template's sections and each resource's attributes, evaluates the properties of the
// AWS::AppMesh::* resources and rewrites them as CLI input; as the intrinsics' ResourceValues it
// answers Ref and Fn::GetAtt with what CloudFormation would return.
#include "config/appmesh/cloudformation.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/cloudformation_intrinsics.h"

namespace trellis::config::appmesh {

namespace {

// How CloudFormation and the API name each App Mesh resource type.
struct AppMeshType {
  const char* type;            // "AWS::AppMesh::VirtualNode"
  const char* nameProperty;    // "VirtualNodeName"; "MeshName" for a Mesh
  const char* parentProperty;  // "VirtualRouterName" for a Route, or ""
  const char* nameKey;         // CLI input: "virtualNodeName"
  const char* parentKey;       // CLI input: "virtualRouterName", or ""
  const char* arnSegment;      // ARN: mesh/M/<arnSegment>/NAME ("" for a Mesh)
  const char* parentSegment;   // ARN: mesh/M/<parentSegment>/PARENT/<arnSegment>/NAME
};

constexpr AppMeshType kAppMeshTypes[] = {
    {"AWS::AppMesh::Mesh", "MeshName", "", "meshName", "", "", ""},
    {"AWS::AppMesh::VirtualNode", "VirtualNodeName", "", "virtualNodeName", "", "virtualNode", ""},
    {"AWS::AppMesh::VirtualService", "VirtualServiceName", "", "virtualServiceName", "",
     "virtualService", ""},
    {"AWS::AppMesh::VirtualRouter", "VirtualRouterName", "", "virtualRouterName", "",
     "virtualRouter", ""},
    {"AWS::AppMesh::Route", "RouteName", "VirtualRouterName", "routeName", "virtualRouterName",
     "route", "virtualRouter"},
    {"AWS::AppMesh::VirtualGateway", "VirtualGatewayName", "", "virtualGatewayName", "",
     "virtualGateway", ""},
    {"AWS::AppMesh::GatewayRoute", "GatewayRouteName", "VirtualGatewayName", "gatewayRouteName",
     "virtualGatewayName", "gatewayRoute", "virtualGateway"},
};

const AppMeshType* appMeshType(const std::string& type) {
  for (const AppMeshType& info : kAppMeshTypes) {
    if (type == info.type) return &info;
  }
  return nullptr;
}

bool isMesh(const AppMeshType& info) { return std::string(info.arnSegment).empty(); }

// CloudFormation property names whose API name is not the first letter lowered.
const std::map<std::string, std::string>& propertyExceptions() {
  static const auto* table = new std::map<std::string, std::string>{
      {"ACM", "acm"},   {"AWSCloudMap", "awsCloudMap"}, {"DNS", "dns"},     {"GRPC", "grpc"},
      {"HTTP", "http"}, {"HTTP2", "http2"},             {"SDS", "sds"},     {"TCP", "tcp"},
      {"TLS", "tls"},
  };
  return *table;
}

constexpr const char* kTemplateSections[] = {
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
    "Mappings",                 "Conditions",  "Transform", "Resources", "Outputs"};

// Resource attributes CloudFormation defines; all but Type, Properties and Condition concern the
// stack's lifecycle and mean nothing to a mesh read offline.
constexpr const char* kResourceAttributes[] = {
    "Type",     "Properties",          "Condition",      "DependsOn",   "DeletionPolicy",
    "Metadata", "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy"};

template <size_t N>
bool contains(const char* const (&list)[N], const std::string& name) {
  return std::find_if(std::begin(list), std::end(list),
                      [&](const char* item) { return name == item; }) != std::end(list);
}

template <size_t N>
std::string joined(const char* const (&list)[N]) {
  return absl::StrJoin(std::begin(list), std::end(list), ", ");
}

std::string scalarOr(const YAML::Node& node, const std::string& fallback) {
  if (node.IsDefined() && node.IsScalar()) return node.Scalar();
  return fallback;
}

YAML::Node get(const YAML::Node& map, const std::string& key) {
  if (!map.IsDefined() || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return map[key];
}

class TemplateReader : public cfn::ResourceValues {
 public:
  TemplateReader(const InputFile& file, const YAML::Node& root, const LoadOptions& options)
      // resources_ is copy-constructed: assigning a missing key's node to a Node throws, as do
      // type tests on it (IsDefined first).
      : file_(file),
        root_(root),
        options_(options),
        resources_(get(root, "Resources")),
        evaluator_(root, options, *this) {
    // yaml-cpp looks keys up linearly; references look resources up by id many times.
    if (resources_.IsDefined() && resources_.IsMap()) {
      for (const auto& entry : resources_) byId_.emplace(scalarOr(entry.first, "?"), entry.second);
    }
  }

  FrontendResult read() {
    result_.format = InputFormat::kCloudFormation;
    for (const auto& entry : root_) {
      const std::string section = scalarOr(entry.first, "?");
      if (!contains(kTemplateSections, section)) {
        fileError(section, absl::StrCat("unknown template section (allowed: ",
                                        joined(kTemplateSections), ")"));
      }
    }
    if (const YAML::Node transform = get(root_, "Transform"); transform.IsDefined()) {
      result_.warnings.push_back(absl::StrCat(
          file_.name, ": Transform: macros (", describeTransform(transform),
          ") are not expanded offline; the resources are read as written"));
    }
    if (!resources_.IsDefined() || !resources_.IsMap() || resources_.size() == 0) {
      fileError("Resources", "required: a map of at least one resource");
      return std::move(result_);
    }
    std::map<std::string, int> skippedTypes;
    size_t skipped = 0;
    for (const auto& entry : resources_) {
      const std::string id = scalarOr(entry.first, "?");
      const YAML::Node resource = entry.second;
      if (!checkResource(id, resource)) continue;
      const std::string type = resource["Type"].Scalar();
      const AppMeshType* info = appMeshType(type);
      if (info == nullptr) {
        if (absl::StartsWith(type, "AWS::AppMesh::")) {
          resourceError(id, absl::StrCat("Resources.", id, ".Type"),
                        absl::StrCat("\"", type, "\" is not an App Mesh resource type (allowed: ",
                                     appMeshTypeList(), ")"));
        } else {
          ++skippedTypes[type];
          ++skipped;
        }
        continue;
      }
      std::vector<std::string> errors;
      std::optional<bool> created = createdHere(id, errors);
      if (!created) {
        for (const std::string& error : errors) resourceError(id, error);
        continue;
      }
      if (!*created) {
        result_.notes.push_back(absl::StrCat(
            file_.name, ": resource ", id, " skipped: its Condition ",
            resource["Condition"].Scalar(), " is false"));
        continue;
      }
      readAppMesh(id, resource, *info);
    }
    if (skipped > 0) {
      std::vector<std::string> counts;
      for (const auto& [type, count] : skippedTypes) counts.push_back(absl::StrCat(type, " ", count));
      result_.notes.push_back(absl::StrCat(file_.name, ": ", skipped, " resource",
                                           skipped == 1 ? "" : "s",
                                           " of other types skipped (", absl::StrJoin(counts, ", "),
                                           ")"));
    }
    return std::move(result_);
  }

  // const: lookups must never add keys to the shared parse (ParseCache).
  YAML::Node resource(const std::string& id) const {
    auto it = byId_.find(id);
    return it == byId_.end() ? YAML::Node(YAML::NodeType::Undefined) : it->second;
  }

  bool has(const std::string& logicalId) const override { return byId_.count(logicalId) > 0; }

  std::optional<std::string> value(const std::string& id, const std::string& attribute,
                                   std::string* error) override {
    const YAML::Node resource = this->resource(id);
    const std::string type = scalarOr(get(resource, "Type"), "");
    std::vector<std::string> errors;
    std::optional<bool> created = createdHere(id, errors);
    if (!created) {
      *error = errors.front();
      return std::nullopt;
    }
    if (!*created) {
      *error = absl::StrCat("resource ", id, " is not created (its Condition ",
                            resource["Condition"].Scalar(), " is false)");
      return std::nullopt;
    }
    if (const AppMeshType* info = appMeshType(type)) return appMeshValue(id, *info, attribute, error);
    const std::string what = attribute.empty() ? std::string("Ref")
                                               : absl::StrCat("attribute ", attribute);
    if (type == "AWS::ServiceDiscovery::Service") {
      if (attribute == "Name") return property(id, "Name", error);
      if (attribute.empty() || attribute == "Id" || attribute == "Arn") {
        *error = absl::StrCat("the ", what, " of ", type, " ", id,
                              " is assigned by Cloud Map when the stack is created and cannot be "
                              "known offline; write the value instead");
        return std::nullopt;
      }
      *error = absl::StrCat(type, " has no attribute ", attribute, " (attributes: Arn, Id, Name)");
      return std::nullopt;
    }
    if (absl::StartsWith(type, "AWS::ServiceDiscovery::") && absl::EndsWith(type, "Namespace")) {
      if (attribute == "Name") {
        std::string ignored;
        std::optional<std::string> name = property(id, "Name", &ignored);
        *error = absl::StrCat(type, " has no attribute Name in CloudFormation (attributes: Arn, ",
                              type == "AWS::ServiceDiscovery::HttpNamespace" ? "" : "HostedZoneId, ",
                              "Id); write the namespace's name",
                              name ? absl::StrCat(" (\"", *name, "\")") : std::string(),
                              " instead");
        return std::nullopt;
      }
      *error = absl::StrCat("the ", what, " of ", type, " ", id,
                            " is assigned by Cloud Map when the stack is created and cannot be "
                            "known offline; write the value instead");
      return std::nullopt;
    }
    *error = absl::StrCat("the ", what, " of ", type, " ", id,
                          " is known only once AWS creates it; Trellis resolves App Mesh "
                          "resources and the Name of an AWS::ServiceDiscovery::Service");
    return std::nullopt;
  }

 private:
  static std::string describeTransform(const YAML::Node& transform) {
    if (transform.IsScalar()) return transform.Scalar();
    std::vector<std::string> names;
    if (transform.IsSequence()) {
      for (const auto& item : transform) names.push_back(scalarOr(item, "a macro"));
    }
    return names.empty() ? std::string("a macro") : absl::StrJoin(names, ", ");
  }

  static std::string appMeshTypeList() {
    std::vector<std::string> names;
    for (const AppMeshType& info : kAppMeshTypes) names.push_back(info.type);
    return absl::StrJoin(names, ", ");
  }

  void fileError(const std::string& path, const std::string& message) {
    result_.errors.push_back(absl::StrCat(file_.name, ": ", path, ": ", message));
  }

  void resourceError(const std::string& id, const std::string& path, const std::string& message) {
    result_.errors.push_back(absl::StrCat(file_.name, " (resource ", id, "): ", path, ": ", message));
  }

  // An error that already names its path ("Resources.X...: FUNCTION: message").
  void resourceError(const std::string& id, const std::string& message) {
    result_.errors.push_back(absl::StrCat(file_.name, " (resource ", id, "): ", message));
  }

  // The resource's shape: a map with a Type and known attributes.
  bool checkResource(const std::string& id, const YAML::Node& resource) {
    const std::string base = absl::StrCat("Resources.", id);
    if (!resource.IsMap()) {
      resourceError(id, base, "a resource must be a map with Type and Properties");
      return false;
    }
    bool ok = true;
    for (const auto& entry : resource) {
      const std::string key = scalarOr(entry.first, "?");
      if (!contains(kResourceAttributes, key)) {
        resourceError(id, absl::StrCat(base, ".", key),
                      absl::StrCat("unknown resource attribute (allowed: ",
                                   joined(kResourceAttributes), ")"));
        ok = false;
      }
    }
    const YAML::Node type = resource["Type"];
    if (!type.IsDefined() || !type.IsScalar() || type.Scalar().empty()) {
      resourceError(id, absl::StrCat(base, ".Type"), "required: the resource type, e.g. "
                                                     "AWS::AppMesh::VirtualNode");
      ok = false;
    }
    const YAML::Node condition = resource["Condition"];
    if (condition.IsDefined() && !condition.IsScalar()) {
      resourceError(id, absl::StrCat(base, ".Condition"), "must be the name of a condition");
      ok = false;
    }
    return ok;
  }

  // Whether CloudFormation creates the resource: its Condition, if it has one.
  std::optional<bool> createdHere(const std::string& id, std::vector<std::string>& errors) {
    const YAML::Node condition = get(resource(id), "Condition");
    if (!condition.IsDefined()) return true;
    if (!condition.IsScalar()) {
      errors.push_back(absl::StrCat("Resources.", id, ".Condition: must be a condition name"));
      return std::nullopt;
    }
    return evaluator_.condition(condition.Scalar(), absl::StrCat("Resources.", id, ".Condition"),
                                errors);
  }

  // A string property of a resource, evaluated; *error explains a missing or unresolvable one.
  std::optional<std::string> property(const std::string& id, const std::string& name,
                                      std::string* error) {
    const std::string path = absl::StrCat("Resources.", id, ".Properties.", name);
    const YAML::Node node = get(get(resource(id), "Properties"), name);
    if (!node.IsDefined()) {
      *error = absl::StrCat(path, " is not set");
      return std::nullopt;
    }
    const std::string key = absl::StrCat(id, "/", name);
    if (!evaluating_.insert(key).second) {
      *error = absl::StrCat(path, " refers back to itself");
      return std::nullopt;
    }
    std::vector<std::string> errors;
    std::optional<cfn::Evaluated> out = evaluator_.evaluate(node, path, errors);
    evaluating_.erase(key);
    if (!out) {
      *error = errors.empty() ? absl::StrCat(path, ": cannot be resolved") : errors.front();
      return std::nullopt;
    }
    if (out->noValue || !out->value.IsScalar()) {
      *error = absl::StrCat(path, ": must be a string");
      return std::nullopt;
    }
    return out->value.Scalar();
  }

  static std::string generatedName(const std::string& id, const std::string& property) {
    return absl::StrCat("Resources.", id, ".Properties.", property,
                        ": not set, so CloudFormation would generate a name when it creates the "
                        "stack, which cannot be known offline; set ",
                        property, " in the template");
  }

  // A name property: the resource's own name must be set (CloudFormation would generate one).
  std::optional<std::string> nameProperty(const std::string& id, const std::string& name,
                                          bool generated, std::string* error) {
    const YAML::Node node = get(get(resource(id), "Properties"), name);
    if (!node.IsDefined()) {
      *error = generated ? generatedName(id, name)
                         : absl::StrCat("Resources.", id, ".Properties.", name,
                                        ": required property missing");
      return std::nullopt;
    }
    return property(id, name, error);
  }

  std::optional<std::string> appMeshValue(const std::string& id, const AppMeshType& info,
                                          const std::string& attribute, std::string* error) {
    const bool mesh = isMesh(info);
    auto meshName = [&] { return nameProperty(id, "MeshName", mesh, error); };
    auto ownName = [&] { return nameProperty(id, info.nameProperty, true, error); };
    auto parentName = [&] { return nameProperty(id, info.parentProperty, false, error); };
    auto account = [&]() -> std::optional<std::string> {
      return cfn::pseudoParameter("AWS::AccountId", options_, error);
    };
    auto meshOwner = [&]() -> std::optional<std::string> {
      if (!mesh && get(get(resource(id), "Properties"), "MeshOwner").IsDefined()) {
        return property(id, "MeshOwner", error);
      }
      return account();
    };
    if (attribute.empty() || attribute == "Arn") {
      std::optional<std::string> meshValue = meshName();
      if (!meshValue) return std::nullopt;
      std::string resourcePath = absl::StrCat("mesh/", *meshValue);
      if (!mesh) {
        std::optional<std::string> name = ownName();
        if (!name) return std::nullopt;
        if (!std::string(info.parentProperty).empty()) {
          std::optional<std::string> parent = parentName();
          if (!parent) return std::nullopt;
          absl::StrAppend(&resourcePath, "/", info.parentSegment, "/", *parent);
        }
        absl::StrAppend(&resourcePath, "/", info.arnSegment, "/", *name);
      }
      std::optional<std::string> owner = meshOwner();
      if (!owner) return std::nullopt;
      std::optional<std::string> partition =
          cfn::pseudoParameter("AWS::Partition", options_, error);
      if (!partition) return std::nullopt;
      std::optional<std::string> region = cfn::pseudoParameter("AWS::Region", options_, error);
      if (!region) return std::nullopt;
      return absl::StrCat("arn:", *partition, ":appmesh:", *region, ":", *owner, ":",
                          resourcePath);
    }
    if (attribute == "MeshName") return meshName();
    if (attribute == info.nameProperty) return ownName();
    if (!std::string(info.parentProperty).empty() && attribute == info.parentProperty) {
      return parentName();
    }
    if (attribute == "MeshOwner") return meshOwner();
    if (attribute == "ResourceOwner") return account();
    if (attribute == "Uid") {
      *error = absl::StrCat("the Uid of ", info.type, " ", id,
                            " is assigned by App Mesh when it creates the resource and cannot be "
                            "known offline");
      return std::nullopt;
    }
    std::vector<std::string> attributes = {"Arn", "MeshName", "MeshOwner", "ResourceOwner", "Uid"};
    if (!mesh) attributes.push_back(info.nameProperty);
    if (!std::string(info.parentProperty).empty()) attributes.push_back(info.parentProperty);
    *error = absl::StrCat(info.type, " has no attribute ", attribute, " (attributes: ",
                          absl::StrJoin(attributes, ", "), ")");
    return std::nullopt;
  }

  // One App Mesh resource as CLI input.
  void readAppMesh(const std::string& id, const YAML::Node& resource, const AppMeshType& info) {
    const std::string base = absl::StrCat("Resources.", id, ".Properties");
    const bool mesh = isMesh(info);
    std::vector<std::string> allowed = {"MeshName"};
    if (!mesh) allowed.insert(allowed.end(), {"MeshOwner", info.nameProperty});
    if (!std::string(info.parentProperty).empty()) allowed.push_back(info.parentProperty);
    allowed.insert(allowed.end(), {"Spec", "Tags"});

    const YAML::Node given = resource["Properties"];
    const YAML::Node properties =
        given.IsDefined() && !given.IsNull() ? given : YAML::Node(YAML::NodeType::Map);
    if (!properties.IsMap()) {
      resourceError(id, base, "must be a map of the resource's properties");
      return;
    }
    bool ok = true;
    for (const auto& entry : properties) {
      const std::string key = scalarOr(entry.first, "?");
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        resourceError(id, absl::StrCat(base, ".", key),
                      absl::StrCat("unknown property of ", info.type, " (allowed: ",
                                   absl::StrJoin(allowed, ", "), ")"));
        ok = false;
      }
    }
    if (!ok) return;

    YAML::Node out(YAML::NodeType::Map);
    std::vector<std::string> errors;
    auto name = [&](const std::string& property, bool generated) -> std::optional<std::string> {
      std::string error;
      std::optional<std::string> value = nameProperty(id, property, generated, &error);
      if (!value) errors.push_back(error);
      return value;
    };
    if (std::optional<std::string> meshValue = name("MeshName", mesh)) out["meshName"] = *meshValue;
    if (!mesh) {
      if (std::optional<std::string> own = name(info.nameProperty, true)) out[info.nameKey] = *own;
    }
    if (!std::string(info.parentProperty).empty()) {
      if (std::optional<std::string> parent = name(info.parentProperty, false)) {
        out[info.parentKey] = *parent;
      }
    }
    if (!mesh && properties["MeshOwner"].IsDefined()) {
      std::string error;
      if (std::optional<std::string> owner = property(id, "MeshOwner", &error)) {
        out["meshOwner"] = *owner;
      } else {
        errors.push_back(error);
      }
    }
    if (const YAML::Node spec = properties["Spec"]; spec.IsDefined()) {
      const std::string path = absl::StrCat(base, ".Spec");
      if (std::optional<cfn::Evaluated> value = evaluator_.evaluate(spec, path, errors)) {
        if (!value->noValue) out["spec"] = toApiNames(value->value, path, errors);
      }
    }
    if (const YAML::Node tags = properties["Tags"]; tags.IsDefined()) {
      const std::string path = absl::StrCat(base, ".Tags");
      if (std::optional<cfn::Evaluated> value = evaluator_.evaluate(tags, path, errors)) {
        if (!value->noValue) readTags(value->value, path, out, errors);
      }
    }
    for (const std::string& error : errors) resourceError(id, error);
    if (!errors.empty()) return;
    result_.documents.push_back({out, id});
  }

  // CloudFormation's [{Key, Value}] tags as the API's [{key, value}].
  static void readTags(const YAML::Node& tags, const std::string& path, YAML::Node& out,
                       std::vector<std::string>& errors) {
    if (!tags.IsSequence()) {
      errors.push_back(absl::StrCat(path, ": must be a list of {Key, Value}"));
      return;
    }
    YAML::Node list(YAML::NodeType::Sequence);
    for (size_t i = 0; i < tags.size(); ++i) {
      const YAML::Node tag = tags[i];
      const std::string itemPath = absl::StrCat(path, "[", i, "]");
      if (!tag.IsMap()) {
        errors.push_back(absl::StrCat(itemPath, ": must be a map {Key, Value}"));
        continue;
      }
      YAML::Node item(YAML::NodeType::Map);
      for (const auto& entry : tag) {
        const std::string key = scalarOr(entry.first, "?");
        if (key == "Key" || key == "Value") {
          item[key == "Key" ? "key" : "value"] = entry.second;
        } else {
          errors.push_back(absl::StrCat(itemPath, ".", key, ": unknown (allowed: Key, Value)"));
        }
      }
      list.push_back(item);
    }
    out["tags"] = list;
  }

  // An evaluated Spec with the API's property names; properties written in the API's camelCase
  // are an error (CloudFormation would reject them).
  static YAML::Node toApiNames(const YAML::Node& node, const std::string& path,
                               std::vector<std::string>& errors) {
    if (node.IsSequence()) {
      YAML::Node out(YAML::NodeType::Sequence);
      for (size_t i = 0; i < node.size(); ++i) {
        out.push_back(toApiNames(node[i], absl::StrCat(path, "[", i, "]"), errors));
      }
      return out;
    }
    if (!node.IsMap()) return node;
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& entry : node) {
      const std::string key = scalarOr(entry.first, "?");
      const std::string keyPath = absl::StrCat(path, ".", key);
      if (!key.empty() && std::islower(static_cast<unsigned char>(key[0]))) {
        std::string pascal = key;
        pascal[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(pascal[0])));
        for (const auto& [cfnName, apiName] : propertyExceptions()) {
          if (apiName == key) pascal = cfnName;
        }
        errors.push_back(absl::StrCat(keyPath, ": CloudFormation spells this property ", pascal,
                                      " (property names are PascalCase in a template)"));
        continue;
      }
      out[apiPropertyName(key)] = toApiNames(entry.second, keyPath, errors);
    }
    return out;
  }

  const InputFile& file_;
  YAML::Node root_;
  const LoadOptions& options_;
  YAML::Node resources_;
  std::map<std::string, YAML::Node> byId_;  // resources_ by logical id
  cfn::TemplateEvaluator evaluator_;
  std::set<std::string> evaluating_;  // "Resource/Property" being evaluated (cycles)
  FrontendResult result_;
};

bool isTemplate(const YAML::Node& node) {
  return node.IsMap() &&
         (get(node, "Resources").IsDefined() || get(node, "AWSTemplateFormatVersion").IsDefined());
}

}  // namespace

std::string apiPropertyName(const std::string& cloudFormationName) {
  auto it = propertyExceptions().find(cloudFormationName);
  if (it != propertyExceptions().end()) return it->second;
  std::string out = cloudFormationName;
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::optional<FrontendResult> readCloudFormation(const InputFile& file,
                                                 const std::vector<YAML::Node>* documents,
                                                 const LoadOptions& options) {
  if (documents == nullptr) return std::nullopt;
  size_t first = 0;
  while (first < documents->size() && (*documents)[first].IsNull()) ++first;
  if (first == documents->size() || !isTemplate((*documents)[first])) return std::nullopt;
  TemplateReader reader(file, (*documents)[first], options);
  FrontendResult result = reader.read();
  for (size_t i = first + 1; i < documents->size(); ++i) {
    if ((*documents)[i].IsNull()) continue;
    result.errors.push_back(absl::StrCat(file.name, " (document ", i + 1,
                                         "): a CloudFormation template is one document; move "
                                         "this one to a file of its own"));
  }
  return result;
}

}  // namespace trellis::config::appmesh
