// Reads Terraform configuration and state into App Mesh CLI input documents: see terraform.h.
// Configuration (.tf through the converter, .tf.json directly) is one module per folder: every
// string is evaluated as a template against variables, locals and the other resources; the
// evaluated arguments are then mapped from the provider's snake_case blocks to the API's
// camelCase spec. State and plan output (terraform show -json) hold evaluated values already
// and go straight to the mapping.
#include "config/appmesh/terraform.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/terraform_expressions.h"
#include "config/appmesh/terraform_hcl.h"

namespace trellis::config::appmesh::terraform {

namespace {

// Debian's Abseil has its own string_view type; StrCat and friends take that one.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ---- the provider's resources and how each maps to CLI input.

struct ResourceKind {
  std::string_view type;       // aws_appmesh_virtual_node
  std::string_view nameKey;    // virtualNodeName
  std::string_view parentArg;  // virtual_router_name (routes and gateway routes)
  std::string_view parentKey;  // virtualRouterName
};

constexpr ResourceKind kKinds[] = {
    {"aws_appmesh_mesh", "meshName", "", ""},
    {"aws_appmesh_virtual_node", "virtualNodeName", "", ""},
    {"aws_appmesh_virtual_service", "virtualServiceName", "", ""},
    {"aws_appmesh_virtual_router", "virtualRouterName", "", ""},
    {"aws_appmesh_route", "routeName", "virtual_router_name", "virtualRouterName"},
    {"aws_appmesh_virtual_gateway", "virtualGatewayName", "", ""},
    {"aws_appmesh_gateway_route", "gatewayRouteName", "virtual_gateway_name", "virtualGatewayName"},
};

const ResourceKind* kindOf(std::string_view type) {
  for (const ResourceKind& kind : kKinds) {
    if (kind.type == type) return &kind;
  }
  return nullptr;
}

// Repeated blocks that are lists in the API, with the API's (plural) name. Every other block is
// a single nested object in the API (port_mapping, health_check, timeout, ...).
const std::map<std::string_view, std::string_view>& listBlocks() {
  static const auto* blocks = new std::map<std::string_view, std::string_view>{
      {"listener", "listeners"},     {"backend", "backends"},
      {"weighted_target", "weightedTargets"}, {"header", "headers"},
      {"query_parameter", "queryParameters"}, {"metadata", "metadata"},
      {"json", "json"},
  };
  return *blocks;
}

// Map attributes whose API form is a list of {key, value}.
bool isKeyValueMap(std::string_view key) { return key == "attributes"; }

// Arguments a state holds that App Mesh computed; none is part of the resource as configured.
bool isComputedAttribute(std::string_view key) {
  return key == "id" || key == "arn" || key == "created_date" || key == "last_updated_date" ||
         key == "resource_owner" || key == "tags_all" || key == "mesh_owner";
}

// Terraform meta-arguments: not the provider's.
bool isMetaArgument(std::string_view key) {
  return key == "count" || key == "depends_on" || key == "provider" || key == "lifecycle" ||
         key == "//" || key == "provisioner" || key == "connection";
}

std::string camelCase(std::string_view snake) {
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? absl::ascii_toupper(c) : c;
    upper = false;
  }
  return out;
}

// node[key] for reading: yaml-cpp throws on the type of a missing key's node, so a missing key
// (or a node that is not a map) gives an Undefined node here, which IsMap() etc. answer safely.
YAML::Node at(const YAML::Node& node, const std::string& key) {
  if (!node.IsDefined() || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node value = node[key];
  if (!value.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return value;
}

bool isEmptyValue(const YAML::Node& node) {
  return !node.IsDefined() || node.IsNull() || (node.IsSequence() && node.size() == 0) ||
         (node.IsMap() && node.size() == 0);
}

YAML::Node keyValueList(const YAML::Node& map) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (auto it = map.begin(); it != map.end(); ++it) {
    YAML::Node tag;
    tag["key"] = it->first.Scalar();
    tag["value"] = it->second;
    list.push_back(tag);
  }
  return list;
}

// Collects messages for one resource: "main.tf (resource aws_appmesh_virtual_node.front): ...".
struct Messages {
  std::string prefix;
  std::vector<std::string>* errors;
  void error(const std::string& path, absl::string_view message) const {
    errors->push_back(absl::StrCat(prefix, path.empty() ? "" : " ", path, path.empty() ? "" : ":",
                                   " ", message));
  }
};

std::string joinPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", av(key));
}

// The provider's spec blocks (evaluated values) as the API's camelCase spec. `fromState` drops
// what a state writes for unset arguments: empty strings and the zero of ports and
// max_pending_requests (never valid App Mesh values).
YAML::Node toApi(const YAML::Node& value, const std::string& path, bool fromState,
                 const Messages& messages) {
  if (!value.IsMap()) return value;
  YAML::Node out(YAML::NodeType::Map);
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node item = it->second;
    if (key == "//" || isEmptyValue(item)) continue;
    if (fromState && item.IsScalar()) {
      if (item.Scalar().empty()) continue;
      if ((key == "port" || key == "max_pending_requests") && item.Scalar() == "0") continue;
    }
    const std::string itemPath = joinPath(path, key);
    if (isKeyValueMap(key) && item.IsMap()) {
      out[camelCase(key)] = keyValueList(item);
      continue;
    }
    auto list = listBlocks().find(key);
    if (list != listBlocks().end()) {
      YAML::Node items(YAML::NodeType::Sequence);
      if (item.IsSequence()) {
        for (size_t i = 0; i < item.size(); ++i) {
          items.push_back(toApi(item[i], absl::StrCat(itemPath, "[", i, "]"), fromState, messages));
        }
      } else {
        items.push_back(toApi(item, itemPath, fromState, messages));
      }
      out[std::string(list->second)] = items;
      continue;
    }
    if (item.IsSequence() && item[0].IsMap()) {
      // A nested block: one object in the API.
      if (item.size() > 1) {
        messages.error(itemPath,
                       absl::StrCat("block \"", key, "\" appears ", item.size(),
                                    " times; App Mesh's ", camelCase(key),
                                    " is a single object, so give the block once"));
        continue;
      }
      out[camelCase(key)] = toApi(item[0], itemPath, fromState, messages);
      continue;
    }
    out[camelCase(key)] = item.IsMap() ? toApi(item, itemPath, fromState, messages) : item;
  }
  return out;
}

// One aws_appmesh_* resource with evaluated top-level arguments, as CLI input.
std::optional<YAML::Node> toCliInput(const ResourceKind& kind, const YAML::Node& arguments,
                                     bool fromState, const Messages& messages) {
  std::vector<std::string> allowed = {"name", "spec", "tags"};
  if (kind.type != "aws_appmesh_mesh") allowed.insert(allowed.end(), {"mesh_name", "mesh_owner"});
  if (!kind.parentArg.empty()) allowed.push_back(std::string(kind.parentArg));
  YAML::Node out(YAML::NodeType::Map);
  bool ok = true;
  for (auto it = arguments.begin(); it != arguments.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (isMetaArgument(key) || (fromState && isComputedAttribute(key))) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      messages.error(key, absl::StrCat("unknown argument of ", av(kind.type), " (allowed: ",
                                       absl::StrJoin(allowed, ", "), ")"));
      ok = false;
    }
  }
  auto scalar = [&](std::string_view key, bool required) -> std::optional<std::string> {
    const YAML::Node value = at(arguments, std::string(key));
    if (isEmptyValue(value)) {
      if (required) {
        messages.error(std::string(key), "required argument missing");
        ok = false;
      }
      return std::nullopt;
    }
    if (!value.IsScalar()) {
      messages.error(std::string(key), "expected a string");
      ok = false;
      return std::nullopt;
    }
    return value.Scalar();
  };
  const std::optional<std::string> name = scalar("name", true);
  if (kind.type == "aws_appmesh_mesh") {
    if (name) out["meshName"] = *name;
  } else {
    if (std::optional<std::string> mesh = scalar("mesh_name", true)) out["meshName"] = *mesh;
    if (name) out[std::string(kind.nameKey)] = *name;
    if (!kind.parentArg.empty()) {
      if (std::optional<std::string> parent = scalar(kind.parentArg, true)) {
        out[std::string(kind.parentKey)] = *parent;
      }
    }
    if (!fromState) {
      if (std::optional<std::string> owner = scalar("mesh_owner", false)) out["meshOwner"] = *owner;
    }
  }
  const YAML::Node tags = at(arguments, "tags");
  if (!isEmptyValue(tags)) {
    if (tags.IsMap()) {
      out["tags"] = keyValueList(tags);
    } else {
      messages.error("tags", "expected a map of strings (tags = { key = \"value\" })");
      ok = false;
    }
  }
  YAML::Node spec = at(arguments, "spec");
  if (spec.IsDefined() && spec.IsSequence()) {
    if (spec.size() > 1) {
      messages.error("spec", "block \"spec\" appears more than once");
      ok = false;
    }
    spec.reset(spec.size() > 0 ? spec[0] : YAML::Node());  // rebinds, leaves the input alone
  }
  if (!isEmptyValue(spec)) {
    const size_t before = messages.errors->size();
    out["spec"] = toApi(spec, "spec", fromState, messages);
    if (messages.errors->size() != before) ok = false;
  } else if (kind.type != "aws_appmesh_mesh") {
    messages.error("spec", "required block missing");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

// ---- summary notes.

struct Skipped {
  std::map<std::string, int> blocks;     // provider, terraform, output, data, module
  std::map<std::string, int> resources;  // resource types other than aws_appmesh_*

  void note(const std::string& file, std::vector<std::string>& notes) const {
    std::vector<std::string> parts;
    auto list = [](const std::map<std::string, int>& counts) {
      int total = 0;
      std::vector<std::string> items;
      for (const auto& [name, count] : counts) {
        total += count;
        items.push_back(absl::StrCat(name, " ", count));
      }
      return std::make_pair(total, absl::StrJoin(items, ", "));
    };
    if (!blocks.empty()) {
      auto [total, items] = list(blocks);
      parts.push_back(absl::StrCat(total, " block", total == 1 ? "" : "s", " skipped (", items, ")"));
    }
    if (!resources.empty()) {
      auto [total, items] = list(resources);
      parts.push_back(absl::StrCat(total, " resource", total == 1 ? "" : "s",
                                   " of other types skipped (", items, ")"));
    }
    if (!parts.empty()) notes.push_back(absl::StrCat(file, ": ", absl::StrJoin(parts, "; ")));
  }
};

// ---- configuration: one module per folder.

bool isConfigFile(const std::string& name) {
  return absl::EndsWith(name, ".tf") || absl::EndsWith(name, ".tf.json");
}

bool isVariablesFile(const std::string& name) {
  return name == "terraform.tfvars" || name == "terraform.tfvars.json" ||
         absl::EndsWith(name, ".auto.tfvars") || absl::EndsWith(name, ".auto.tfvars.json");
}

// A block's bodies in the JSON syntax: an object, or a list of objects.
std::vector<YAML::Node> bodiesOf(const YAML::Node& node) {
  std::vector<YAML::Node> bodies;
  if (node.IsMap()) bodies.push_back(node);
  if (node.IsSequence()) {
    for (const YAML::Node& body : node) {
      if (body.IsMap()) bodies.push_back(body);
    }
  }
  return bodies;
}

struct Declared {
  std::string file;
  YAML::Node value;
};

struct ResourceBlock {
  std::string file;
  std::string type;
  std::string name;
  YAML::Node body;
};

// Parsed configuration files by name and content: every file of a module is read for every
// other (and again on each rebuild), and parsing a thousand resources' JSON costs more than
// evaluating them. The trees are only read (evaluation copies what it uses).
struct ParsedConfigs {
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, YAML::Node> trees;
};
ParsedConfigs& parsedConfigs() {
  static auto* configs = new ParsedConfigs();
  return *configs;
}
constexpr size_t kParsedConfigEntries = 256;

absl::StatusOr<YAML::Node> parseConfigUncached(const std::string& name, const std::string& content);

// A parsed file of the folder, in the JSON syntax.
absl::StatusOr<YAML::Node> parseConfig(const std::string& name, const std::string& content,
                                       const YAML::Node* parsed) {
  if (parsed) return *parsed;
  ParsedConfigs& configs = parsedConfigs();
  auto key = std::make_pair(name, content);
  {
    std::lock_guard<std::mutex> lock(configs.mutex);
    auto it = configs.trees.find(key);
    if (it != configs.trees.end()) return it->second;
  }
  absl::StatusOr<YAML::Node> tree = parseConfigUncached(name, content);
  if (!tree.ok()) return tree;
  std::lock_guard<std::mutex> lock(configs.mutex);
  if (configs.trees.size() >= kParsedConfigEntries) configs.trees.clear();
  configs.trees.emplace(std::move(key), *tree);
  return tree;
}

absl::StatusOr<YAML::Node> parseConfigUncached(const std::string& name, const std::string& content) {
  std::string json = content;
  if (!absl::EndsWith(name, ".json")) {
    absl::StatusOr<std::string> converted = convertHclToJson(name, content);
    if (!converted.ok()) return converted.status();
    json = *std::move(converted);
  }
  try {
    return YAML::Load(json);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON at line ",
                                                   e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
}

// The part of `value` that the reference's steps from `first` on name: var.colors[1], local.m.k.
absl::StatusOr<YAML::Node> navigate(YAML::Node value, const Reference& ref, size_t first) {
  for (size_t i = first; i < ref.steps.size(); ++i) {
    const TraversalStep& step = ref.steps[i];
    if (step.index >= 0) {
      if (!value.IsSequence() || static_cast<size_t>(step.index) >= value.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            ref.text, ": index ", step.index, " is out of range (the value has ",
            value.IsSequence() ? value.size() : 0, " items)"));
      }
      value.reset(value[step.index]);  // rebinds; operator= would overwrite the node itself
      continue;
    }
    const YAML::Node& map = value;
    if (!map.IsMap() || !at(map, step.name).IsDefined()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ref.text, ": the value has no attribute \"", step.name, "\""));
    }
    value.reset(at(map, step.name));
  }
  return value;
}

// map[key] = value without yaml-cpp's Node assignment, which merges the memory of the value's
// whole document into the target's (quadratic over a file of a thousand resources); a later
// definition wins.
template <typename Value>
void put(std::map<std::string, Value>& map, const std::string& key, Value value) {
  map.erase(key);
  map.emplace(key, std::move(value));
}

class Module {
 public:
  Module(const LoadOptions& options) : options_(options) {}

  void addConfig(const std::string& file, const YAML::Node& root) {
    if (!root.IsMap()) return;
    const YAML::Node variables = at(root, "variable");
    if (variables.IsMap()) {
      for (auto it = variables.begin(); it != variables.end(); ++it) {
        for (const YAML::Node& body : bodiesOf(it->second)) {
          put(variables_, it->first.Scalar(), Declared{file, at(body, "default")});
        }
      }
    }
    for (const YAML::Node& body : bodiesOf(at(root, "locals"))) {
      for (auto it = body.begin(); it != body.end(); ++it) {
        put(locals_, it->first.Scalar(), Declared{file, it->second});
      }
    }
    const YAML::Node resources = at(root, "resource");
    if (resources.IsMap()) {
      for (auto type = resources.begin(); type != resources.end(); ++type) {
        if (!type->second.IsMap()) continue;
        for (auto name = type->second.begin(); name != type->second.end(); ++name) {
          for (const YAML::Node& body : bodiesOf(name->second)) {
            put(resources_, absl::StrCat(type->first.Scalar(), ".", name->first.Scalar()),
                ResourceBlock{file, type->first.Scalar(), name->first.Scalar(), body});
          }
        }
      }
    }
  }

  // terraform.tfvars and *.auto.tfvars: top-level attributes are variable values.
  void addVariableValues(const std::string& file, const YAML::Node& root) {
    if (!root.IsMap()) return;
    for (auto it = root.begin(); it != root.end(); ++it) {
      put(tfvars_, it->first.Scalar(), Declared{file, it->second});
    }
  }

  const std::map<std::string, ResourceBlock>& resources() const { return resources_; }

  // Evaluates every string of `value` as a template in the scope of one resource instance.
  YAML::Node evaluate(const YAML::Node& value, const std::string& path, std::optional<int> countIndex,
                      const Messages& messages) {
    if (value.IsMap()) {
      YAML::Node out(YAML::NodeType::Map);
      for (auto it = value.begin(); it != value.end(); ++it) {
        const std::string key = it->first.Scalar();
        if (key == "//") continue;
        out[key] = evaluate(it->second, joinPath(path, key), countIndex, messages);
      }
      return out;
    }
    if (value.IsSequence()) {
      YAML::Node out(YAML::NodeType::Sequence);
      const bool singleBlock = value.size() == 1 && value[0].IsMap();
      for (size_t i = 0; i < value.size(); ++i) {
        out.push_back(evaluate(value[i], singleBlock ? path : absl::StrCat(path, "[", i, "]"),
                               countIndex, messages));
      }
      return out;
    }
    if (!value.IsScalar()) return YAML::Node(YAML::NodeType::Null);
    absl::StatusOr<YAML::Node> result =
        evaluateTemplate(value.Scalar(), [&](const Reference& ref) -> absl::StatusOr<YAML::Node> {
          absl::StatusOr<YAML::Node> resolved = resolve(ref, countIndex);
          // A copy with its own memory: yaml-cpp merges the memory of every node assigned into a
          // tree, so handing out the source's nodes would chain every resource's tree together.
          if (resolved.ok()) return YAML::Clone(*resolved);
          return resolved;
        });
    if (!result.ok()) {
      messages.error(path, result.status().message());
      return YAML::Node();
    }
    return *result;
  }

 private:
  absl::StatusOr<YAML::Node> resolve(const Reference& ref, std::optional<int> countIndex) {
    const std::string& root = ref.steps[0].name;
    auto attribute = [&](size_t i) -> std::string {
      return i < ref.steps.size() ? ref.steps[i].name : std::string();
    };
    if (root == "var") return variable(ref, attribute(1));
    if (root == "local") return local(ref, attribute(1));
    if (root == "count") {
      if (attribute(1) != "index") {
        return absl::InvalidArgumentError(absl::StrCat(ref.text, ": only count.index exists"));
      }
      if (!countIndex) {
        return absl::InvalidArgumentError(
            "count.index is only valid in a resource that sets count");
      }
      return YAML::Node(std::to_string(*countIndex));
    }
    if (root == "each") {
      return absl::InvalidArgumentError(
          absl::StrCat(ref.text, ": for_each is not supported (use count = N with count.index)"));
    }
    if (root == "data") {
      return absl::InvalidArgumentError(absl::StrCat(
          ref.text,
          ": data sources are not read (Trellis has no AWS account to ask); replace the "
          "reference with a literal or a variable (variable \"x\" {} and --var x=VALUE)"));
    }
    if (root == "module" || root == "path" || root == "terraform" || root == "self") {
      return absl::InvalidArgumentError(absl::StrCat(
          ref.text, ": ", root, ".* is not supported; use a literal or a variable (--var NAME=VALUE)"));
    }
    if (ref.steps.size() >= 2 && !ref.steps[1].name.empty()) return resourceAttribute(ref);
    return absl::InvalidArgumentError(absl::StrCat(ref.text, ": unknown reference"));
  }

  absl::StatusOr<YAML::Node> variable(const Reference& ref, const std::string& name) {
    auto declared = variables_.find(name);
    if (declared == variables_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "variable \"", name, "\" is not declared (add variable \"", name,
          "\" {} to a .tf file of the folder, then give --var ", name, "=VALUE)"));
    }
    if (auto given = options_.variables.find(name); given != options_.variables.end()) {
      return navigate(YAML::Node(given->second), ref, 2);
    }
    if (auto file = tfvars_.find(name); file != tfvars_.end()) return navigate(file->second.value, ref, 2);
    if (declared->second.value.IsDefined() && !declared->second.value.IsNull()) {
      return navigate(declared->second.value, ref, 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("variable \"", name, "\" (", declared->second.file,
                                                   ") has no default; give --var ", name,
                                                   "=VALUE or set it in terraform.tfvars"));
  }

  absl::StatusOr<YAML::Node> local(const Reference& ref, const std::string& name) {
    auto found = locals_.find(name);
    if (found == locals_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("local value \"", name, "\" is not defined in any locals {} block"));
    }
    if (!evaluating_.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("local value \"", name, "\" refers to itself"));
    }
    std::vector<std::string> errors;
    Messages messages{absl::StrCat("local.", name, " (", found->second.file, "):"), &errors};
    YAML::Node value = evaluate(found->second.value, "", std::nullopt, messages);
    evaluating_.erase(name);
    if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
    return navigate(value, ref, 2);
  }

  absl::StatusOr<YAML::Node> resourceAttribute(const Reference& ref) {
    const std::string address = absl::StrCat(ref.steps[0].name, ".", ref.steps[1].name);
    auto found = resources_.find(address);
    if (found == resources_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ref.text, ": no resource ", address, " in this folder"));
    }
    size_t next = 2;
    std::optional<int> index;
    const YAML::Node& body = found->second.body;
    const bool counted = at(static_cast<const YAML::Node&>(body), "count").IsDefined();
    if (next < ref.steps.size() && ref.steps[next].index >= 0) index = ref.steps[next++].index;
    if (counted && !index) {
      return absl::InvalidArgumentError(
          absl::StrCat(ref.text, ": ", address, " sets count; name one instance (", address, "[0])"));
    }
    if (next >= ref.steps.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ref.text, ": name an attribute (", address, ".name)"));
    }
    const std::string attribute = ref.steps[next].name;
    if (next + 1 < ref.steps.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ref.text, ": only top-level arguments of a resource can be referenced"));
    }
    if (attribute == "id" && found->second.type == "aws_appmesh_mesh") {
      return argument(found->second, "name", index, ref);  // the provider's mesh id is its name
    }
    if (attribute == "id" || attribute == "arn" || attribute == "created_date" ||
        attribute == "last_updated_date" || attribute == "resource_owner") {
      return absl::InvalidArgumentError(absl::StrCat(
          ref.text, ": ", attribute, " is known only after App Mesh creates the resource; use ",
          address, ".name or a literal"));
    }
    return argument(found->second, attribute, index, ref);
  }

  absl::StatusOr<YAML::Node> argument(const ResourceBlock& resource, const std::string& name,
                                      std::optional<int> index, const Reference& ref) {
    const YAML::Node& body = resource.body;
    const YAML::Node value = at(body, name);
    if (!value.IsDefined() || value.IsNull()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ref.text, ": ", resource.type, ".", resource.name, " does not set ", name));
    }
    const std::string key = absl::StrCat(resource.type, ".", resource.name, ".", name);
    if (!evaluating_.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat(ref.text, ": refers to itself"));
    }
    std::vector<std::string> errors;
    Messages messages{absl::StrCat(resource.file, " (resource ", resource.type, ".", resource.name,
                                   "):"),
                      &errors};
    YAML::Node out = evaluate(value, name, index, messages);
    evaluating_.erase(key);
    if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
    return out;
  }

  const LoadOptions& options_;
  std::map<std::string, Declared> variables_;
  std::map<std::string, Declared> locals_;
  std::map<std::string, Declared> tfvars_;
  std::map<std::string, ResourceBlock> resources_;
  std::set<std::string> evaluating_;
};

void readConfiguration(const InputFile& file, const YAML::Node& root, const LoadOptions& options,
                       FrontendResult& result) {
  Module module(options);
  std::vector<const InputFile*> variableFiles;
  if (file.folder != nullptr) {
    for (const InputFile& other : *file.folder) {
      if (other.name == file.name) {
        module.addConfig(file.name, root);
      } else if (isConfigFile(other.name)) {
        // Errors in another file are reported when that file is read; here it only contributes.
        absl::StatusOr<YAML::Node> parsed = parseConfig(other.name, other.content, nullptr);
        if (parsed.ok()) module.addConfig(other.name, *parsed);
      } else if (isVariablesFile(other.name)) {
        variableFiles.push_back(&other);
      }
    }
  } else {
    module.addConfig(file.name, root);
  }
  // Terraform's order: terraform.tfvars, then *.auto.tfvars in name order (later wins).
  std::stable_sort(variableFiles.begin(), variableFiles.end(), [](const InputFile* a, const InputFile* b) {
    auto rank = [](const InputFile* f) { return absl::StartsWith(f->name, "terraform.tfvars") ? 0 : 1; };
    return rank(a) != rank(b) ? rank(a) < rank(b) : a->name < b->name;
  });
  for (const InputFile* vars : variableFiles) {
    absl::StatusOr<YAML::Node> parsed = parseConfig(vars->name, vars->content, nullptr);
    if (parsed.ok()) module.addVariableValues(vars->name, *parsed);
  }

  Skipped skipped;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string block = it->first.Scalar();
    if (block == "resource" || block == "variable" || block == "locals" || block == "//") continue;
    if (block == "module") {
      for (auto call = it->second.begin(); it->second.IsMap() && call != it->second.end(); ++call) {
        result.warnings.push_back(absl::StrCat(
            file.name, " (module ", call->first.Scalar(),
            "): module calls are not followed; put the module's aws_appmesh_* resources in a "
            "folder trellis-cp reads"));
      }
    }
    const size_t count = it->second.IsMap() ? std::max<size_t>(it->second.size(), 1) : 1;
    skipped.blocks[block] += static_cast<int>(count);
  }
  for (const auto& [address, resource] : module.resources()) {
    if (resource.file != file.name) continue;
    const ResourceKind* kind = kindOf(resource.type);
    if (kind == nullptr) {
      ++skipped.resources[resource.type];
      continue;
    }
    Messages messages{absl::StrCat(file.name, " (resource ", address, "):"), &result.errors};
    if (at(resource.body, "for_each").IsDefined()) {
      messages.error("for_each", "for_each is not supported; use count = N with count.index");
      continue;
    }
    std::vector<std::optional<int>> instances = {std::nullopt};
    if (at(resource.body, "count").IsDefined()) {
      YAML::Node count = module.evaluate(at(resource.body, "count"), "count", std::nullopt, messages);
      int n = 0;
      if (!count.IsScalar() || !absl::SimpleAtoi(count.Scalar(), &n) || n < 0 || n > 10000) {
        if (count.IsDefined()) {
          messages.error("count", "expected a whole number from 0 to 10000");
        }
        continue;
      }
      instances.clear();
      for (int i = 0; i < n; ++i) instances.push_back(i);
    }
    for (const std::optional<int>& index : instances) {
      const std::string instance = index ? absl::StrCat(address, "[", *index, "]") : address;
      Messages scoped{absl::StrCat(file.name, " (resource ", instance, "):"), &result.errors};
      const size_t before = result.errors.size();
      YAML::Node arguments = module.evaluate(resource.body, "", index, scoped);
      if (result.errors.size() != before) continue;
      if (std::optional<YAML::Node> cli = toCliInput(*kind, arguments, false, scoped)) {
        result.documents.push_back({*cli, instance});
      }
    }
  }
  skipped.note(file.name, result.notes);
}

// ---- terraform show -json: state (values) or plan (planned_values).

bool isShowOutput(const YAML::Node& node) {
  return node.IsMap() && at(node, "format_version").IsDefined() &&
         (at(node, "values").IsMap() || at(node, "planned_values").IsMap());
}

void readShowModule(const InputFile& file, const YAML::Node& module, Skipped& skipped,
                    FrontendResult& result) {
  const YAML::Node resources = at(module, "resources");
  if (resources.IsSequence()) {
    for (const YAML::Node& resource : resources) {
      if (!resource.IsMap()) continue;
      const std::string type = at(resource, "type").IsScalar() ? at(resource, "type").Scalar() : "";
      const std::string mode = at(resource, "mode").IsScalar() ? at(resource, "mode").Scalar() : "managed";
      const std::string address = at(resource, "address").IsScalar()
                                      ? at(resource, "address").Scalar()
                                      : absl::StrCat(type, ".", at(resource, "name").as<std::string>(""));
      if (mode != "managed") {
        ++skipped.blocks[mode];
        continue;
      }
      const ResourceKind* kind = kindOf(type);
      if (kind == nullptr) {
        ++skipped.resources[type];
        continue;
      }
      Messages messages{absl::StrCat(file.name, " (resource ", address, "):"), &result.errors};
      const YAML::Node values = at(resource, "values");
      if (!values.IsMap()) {
        messages.error("values", "expected the resource's attribute values (an object)");
        continue;
      }
      if (std::optional<YAML::Node> cli = toCliInput(*kind, values, true, messages)) {
        result.documents.push_back({*cli, address});
      }
    }
  }
  const YAML::Node children = at(module, "child_modules");
  if (children.IsSequence()) {
    for (const YAML::Node& child : children) readShowModule(file, child, skipped, result);
  }
}

void readShowOutput(const InputFile& file, const YAML::Node& root, FrontendResult& result) {
  const YAML::Node values = at(root, "values").IsMap() ? at(root, "values") : at(root, "planned_values");
  Skipped skipped;
  if (at(values, "root_module").IsMap()) readShowModule(file, at(values, "root_module"), skipped, result);
  skipped.note(file.name, result.notes);
}

}  // namespace

bool isTerraformTextFile(const std::string& name) {
  return absl::EndsWith(name, ".tf") || absl::EndsWith(name, ".tfvars");
}

// What readConfiguration gave each file, kept while the module is unchanged: a file's result
// depends on every configuration and variables file of its folder and on --var, so the key is
// all of them. A rebuild after an edit elsewhere in the folder (a route.yaml) then evaluates no
// Terraform at all; an edit of any .tf file evaluates the module again.
class ModuleCache {
 public:
  static std::string keyOf(const InputFile& file, const LoadOptions& options) {
    std::string key;
    for (const auto& [name, value] : options.variables) absl::StrAppend(&key, "var ", name, "=", value, "\n");
    auto add = [&key](const InputFile& f) {
      absl::StrAppend(&key, f.name, "\n", f.content.size(), "\n", f.content, "\n");
    };
    if (file.folder == nullptr) {
      add(file);
      return key;
    }
    for (const InputFile& other : *file.folder) {
      if (other.name == file.name || isConfigFile(other.name) || isVariablesFile(other.name)) add(other);
    }
    return key;
  }

  std::optional<FrontendResult> find(const std::string& file, const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(file);
    if (it == entries_.end() || it->second.first != key) return std::nullopt;
    return it->second.second;
  }

  void put(const std::string& file, std::string key, const FrontendResult& result) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[file] = {std::move(key), result};
  }

 private:
  static constexpr size_t kMaxEntries = 256;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::string, FrontendResult>> entries_;
};

ModuleCache& moduleCache() {
  static ModuleCache* cache = new ModuleCache();
  return *cache;
}


// A configuration file of the module (.tf through the converter, .tf.json as parsed).
void readModuleFile(const InputFile& file, const std::vector<YAML::Node>* documents, const LoadOptions& options,
                    FrontendResult& result) {
  if (absl::EndsWith(file.name, ".tf")) {
    absl::StatusOr<YAML::Node> root = parseConfig(file.name, file.content, nullptr);
    if (!root.ok()) {
      // HCL's diagnostics already start with "FILE:LINE,COLUMN".
      result.errors.push_back(absl::IsInvalidArgument(root.status())
                                  ? std::string(root.status().message())
                                  : absl::StrCat(file.name, ": ", root.status().message()));
      return;
    }
    readConfiguration(file, *root, options, result);
    return;
  }
  if (documents == nullptr || documents->empty() || !documents->front().IsMap()) {
    result.errors.push_back(absl::StrCat(file.name, ": expected a JSON object (Terraform's JSON syntax)"));
    return;
  }
  readConfiguration(file, documents->front(), options, result);
}

std::optional<FrontendResult> readTerraform(const InputFile& file,
                                            const std::vector<YAML::Node>* documents,
                                            const LoadOptions& options) {
  FrontendResult result;
  result.format = InputFormat::kTerraform;
  result.cacheable = false;  // variables, locals and references come from the whole module
  if (isVariablesFile(file.name) || absl::EndsWith(file.name, ".tfvars") ||
      absl::EndsWith(file.name, ".tfvars.json")) {
    // Variable values: read with the configuration files (readConfiguration). Other .tfvars
    // files are Terraform's -var-file input, which trellis-cp does not take; say so.
    if (!isVariablesFile(file.name)) {
      result.warnings.push_back(absl::StrCat(
          file.name, ": not read (Terraform loads only terraform.tfvars and *.auto.tfvars by "
                     "itself); rename it or give its values with --var NAME=VALUE"));
    }
    return result;
  }
  if (absl::EndsWith(file.name, ".tf") || absl::EndsWith(file.name, ".tf.json")) {
    // Unchanged module, unchanged result: nothing is parsed or evaluated again.
    std::string key = ModuleCache::keyOf(file, options);
    if (std::optional<FrontendResult> cached = moduleCache().find(file.name, key)) return cached;
    readModuleFile(file, documents, options, result);
    moduleCache().put(file.name, std::move(key), result);
    return result;
  }
  if (documents == nullptr || documents->empty()) return std::nullopt;
  if (isShowOutput(documents->front())) {
    readShowOutput(file, documents->front(), result);
    return result;
  }
  return std::nullopt;
}

}  // namespace trellis::config::appmesh::terraform
