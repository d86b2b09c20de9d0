// CloudFormation's intrinsic functions, evaluated offline: a template's property values become
// plain YAML (strings, lists, maps) the way CloudFormation would resolve them when it creates the
// stack, with parameters and pseudo parameters from the command line (--parameter NAME=VALUE),
// exports from --import-value, the template's Mappings and Conditions. What only AWS could know
// (a resource's generated id, an unset region) is an error that says which flag would supply it.
// Both spellings are read: the long form ({"Fn::Join": [...]}, {"Ref": "X"}) and YAML's short
// form (!Join [...], !Ref X), which yaml-cpp reports as the node's tag.
//
// Internal to //config/appmesh: the CloudFormation front-end (cloudformation.h) uses it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"
#include "config/appmesh/load_options.h"

namespace trellis::config::appmesh::cfn {

// What Ref and Fn::GetAtt give for the template's resources; the front-end knows the types.
class ResourceValues {
 public:
  virtual ~ResourceValues() = default;
  virtual bool has(const std::string& logicalId) const = 0;
  // Ref (attribute empty) or Fn::GetAtt's attribute. nullopt with *error set (a sentence without
  // the property path) when the value cannot be known offline.
  virtual std::optional<std::string> value(const std::string& logicalId,
                                           const std::string& attribute, std::string* error) = 0;
};

// A pseudo parameter (AWS::Region, AWS::AccountId, ...) from --parameter AWS::NAME=VALUE.
// AWS::Partition and AWS::URLSuffix follow from AWS::Region when not given. AWS::NoValue is not a
// value (the evaluator removes the property instead) and is not handled here.
std::optional<std::string> pseudoParameter(const std::string& name, const LoadOptions& options,
                                           std::string* error);
bool isPseudoParameter(const std::string& name);

// An evaluated value: plain YAML with no intrinsic left, or AWS::NoValue (the property is removed).
struct Evaluated {
  YAML::Node value;
  bool noValue = false;
};

// Evaluates the intrinsic functions of one template. Errors are appended to `errors` as
// "PATH: FUNCTION: what is wrong", PATH in CloudFormation's spelling
// ("Resources.Node.Properties.Spec.Listeners[0].PortMapping.Port").
class TemplateEvaluator {
 public:
  TemplateEvaluator(const YAML::Node& root, const LoadOptions& options, ResourceValues& resources);

  // `node` with every intrinsic function resolved; nullopt after an error.
  std::optional<Evaluated> evaluate(const YAML::Node& node, const std::string& path,
                                    std::vector<std::string>& errors);

  // The value of the template's condition `name` (Conditions section); nullopt after an error.
  std::optional<bool> condition(const std::string& name, const std::string& path,
                                std::vector<std::string>& errors);

 private:
  struct Call;  // one function application being evaluated

  std::optional<Evaluated> eval(const YAML::Node& node, const std::string& path);
  std::optional<Evaluated> evalStructure(const YAML::Node& node, const std::string& path);
  std::optional<Evaluated> evalCall(const Call& call);
  std::optional<Evaluated> evalArgument(const Call& call);
  std::optional<std::string> evalString(const YAML::Node& node, const Call& call,
                                        const std::string& what);
  std::optional<std::vector<std::string>> evalStringList(const YAML::Node& node, const Call& call,
                                                         const std::string& what);

  std::optional<Evaluated> ref(const std::string& name, const Call& call);
  std::optional<std::string> getAtt(const std::string& id, const std::string& attribute,
                                    const Call& call);
  std::optional<Evaluated> parameter(const std::string& name, const Call& call);
  std::optional<Evaluated> sub(const Call& call);
  std::optional<Evaluated> join(const Call& call);
  std::optional<Evaluated> select(const Call& call);
  std::optional<Evaluated> split(const Call& call);
  std::optional<Evaluated> ifFunction(const Call& call);
  std::optional<Evaluated> importValue(const Call& call);
  std::optional<Evaluated> findInMap(const Call& call);
  std::optional<bool> evalCondition(const YAML::Node& node, const std::string& path);
  std::optional<bool> namedCondition(const std::string& name, const std::string& path,
                                     const std::string& function);

  void fail(const Call& call, const std::string& message);
  void fail(const std::string& path, const std::string& function, const std::string& message);

  YAML::Node root_;
  const LoadOptions& options_;
  ResourceValues& resources_;
  std::vector<std::string>* errors_ = nullptr;
  std::map<std::string, bool> conditions_;  // evaluated named conditions
  std::set<std::string> evaluating_;        // named conditions being evaluated (cycles)
};

}  // namespace trellis::config::appmesh::cfn
