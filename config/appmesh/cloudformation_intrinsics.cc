// CloudFormation's intrinsic functions, evaluated offline: see cloudformation_intrinsics.h.
#include "config/appmesh/cloudformation_intrinsics.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace trellis::config::appmesh::cfn {

namespace {

constexpr const char* kSupported =
    "Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::ImportValue, "
    "Fn::FindInMap";

YAML::Node scalar(const std::string& text) { return YAML::Node(text); }

Evaluated value(YAML::Node node) { return Evaluated{std::move(node), false}; }

std::string indexed(const std::string& path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

std::string keyed(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

// What a node is, for messages.
std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return absl::StrCat("\"", node.Scalar(), "\"");
}

// The function a YAML short-form tag stands for: "!Ref" -> "Ref", "!GetAtt" -> "Fn::GetAtt".
std::optional<std::string> functionOfTag(const std::string& tag) {
  if (tag.size() < 2 || tag[0] != '!' || tag[1] == '!') return std::nullopt;
  const std::string name = tag.substr(1);
  if (name == "Ref" || name == "Condition") return name;
  return absl::StrCat("Fn::", name);
}

// The function of a long-form one-key map ({"Fn::Join": [...]}, {"Ref": "X"}).
std::optional<std::string> functionOfMap(const YAML::Node& node, bool conditionContext) {
  if (!node.IsMap() || node.size() != 1) return std::nullopt;
  const YAML::Node key = node.begin()->first;
  if (!key.IsScalar()) return std::nullopt;
  const std::string name = key.Scalar();
  if (name == "Ref" || absl::StartsWith(name, "Fn::")) return name;
  if (conditionContext && name == "Condition") return name;
  return std::nullopt;
}

bool isConditionFunction(const std::string& fn) {
  return fn == "Fn::Equals" || fn == "Fn::Not" || fn == "Fn::And" || fn == "Fn::Or" ||
         fn == "Condition";
}

std::string joinNames(const YAML::Node& map) {
  std::vector<std::string> names;
  if (map.IsDefined() && map.IsMap()) {
    for (const auto& entry : map) names.push_back(entry.first.Scalar());
  }
  return names.empty() ? std::string("none") : absl::StrJoin(names, ", ");
}

YAML::Node section(const YAML::Node& root, const char* name) {
  if (!root.IsDefined() || !root.IsMap()) return YAML::Node();
  return root[name];
}

std::string partitionOf(const std::string& region) {
  if (absl::StartsWith(region, "cn-")) return "aws-cn";
  if (absl::StartsWith(region, "us-gov-")) return "aws-us-gov";
  if (absl::StartsWith(region, "us-iso-")) return "aws-iso";
  if (absl::StartsWith(region, "us-isob-")) return "aws-iso-b";
  return "aws";
}

std::string urlSuffixOf(const std::string& partition) {
  if (partition == "aws-cn") return "amazonaws.com.cn";
  if (partition == "aws-iso") return "c2s.ic.gov";
  if (partition == "aws-iso-b") return "sc2s.sgov.gov";
  return "amazonaws.com";
}

const char* const kPseudoParameters[] = {"AWS::AccountId", "AWS::NotificationARNs",
                                         "AWS::NoValue",   "AWS::Partition",
                                         "AWS::Region",    "AWS::StackId",
                                         "AWS::StackName", "AWS::URLSuffix"};

}  // namespace

bool isPseudoParameter(const std::string& name) {
  return std::find(std::begin(kPseudoParameters), std::end(kPseudoParameters), name) !=
         std::end(kPseudoParameters);
}

std::optional<std::string> pseudoParameter(const std::string& name, const LoadOptions& options,
                                           std::string* error) {
  auto given = [&](const std::string& key) -> std::optional<std::string> {
    auto it = options.parameters.find(key);
    if (it == options.parameters.end()) return std::nullopt;
    return it->second;
  };
  if (std::optional<std::string> value = given(name)) return value;
  if (name == "AWS::Partition" || name == "AWS::URLSuffix") {
    std::optional<std::string> partition = given("AWS::Partition");
    if (!partition) {
      if (std::optional<std::string> region = given("AWS::Region")) partition = partitionOf(*region);
    }
    if (partition) return name == "AWS::Partition" ? *partition : urlSuffixOf(*partition);
    *error = absl::StrCat("the stack's partition follows from its region, which is not known "
                          "offline; give it with --parameter AWS::Region=VALUE (or --parameter ",
                          name, "=VALUE)");
    return std::nullopt;
  }
  if (name == "AWS::Region") {
    *error = "the stack's region is not known offline; give it with --parameter AWS::Region=VALUE";
  } else if (name == "AWS::AccountId") {
    *error = "the stack's account is not known offline; give it with "
             "--parameter AWS::AccountId=VALUE";
  } else if (name == "AWS::StackName") {
    *error = "the stack's name is not known offline; give it with "
             "--parameter AWS::StackName=VALUE";
  } else if (name == "AWS::StackId") {
    *error = "the stack's id is assigned when the stack is created; give it with "
             "--parameter AWS::StackId=VALUE";
  } else {
    *error = absl::StrCat(name, " has no value offline; give it with --parameter ", name, "=VALUE");
  }
  return std::nullopt;
}

struct TemplateEvaluator::Call {
  std::string fn;     // "Ref", "Fn::Join", ...
  YAML::Node arg;     // the function's argument
  bool shortForm;     // written as a tag: `arg` is the tagged node itself
  std::string path;   // the property being evaluated
};

TemplateEvaluator::TemplateEvaluator(const YAML::Node& root, const LoadOptions& options,
                                     ResourceValues& resources)
    : root_(root), options_(options), resources_(resources) {}

std::optional<Evaluated> TemplateEvaluator::evaluate(const YAML::Node& node,
                                                     const std::string& path,
                                                     std::vector<std::string>& errors) {
  // Re-entered when a resource's value needs another resource's property evaluated.
  std::vector<std::string>* outer = errors_;
  errors_ = &errors;
  const size_t before = errors.size();
  std::optional<Evaluated> out = eval(node, path);
  errors_ = outer;
  if (errors.size() > before) return std::nullopt;
  return out;
}

std::optional<bool> TemplateEvaluator::condition(const std::string& name, const std::string& path,
                                                 std::vector<std::string>& errors) {
  std::vector<std::string>* outer = errors_;
  errors_ = &errors;
  const size_t before = errors.size();
  std::optional<bool> out = namedCondition(name, path, "Condition");
  errors_ = outer;
  if (errors.size() > before) return std::nullopt;
  return out;
}

void TemplateEvaluator::fail(const Call& call, const std::string& message) {
  fail(call.path, call.fn, message);
}

void TemplateEvaluator::fail(const std::string& path, const std::string& function,
                             const std::string& message) {
  errors_->push_back(absl::StrCat(path, ": ", function, ": ", message));
}

std::optional<Evaluated> TemplateEvaluator::eval(const YAML::Node& node, const std::string& path) {
  if (!node.IsDefined() || node.IsNull()) return value(YAML::Node(YAML::NodeType::Null));
  if (std::optional<std::string> fn = functionOfTag(node.Tag())) {
    return evalCall(Call{*fn, node, true, path});
  }
  if (std::optional<std::string> fn = functionOfMap(node, false)) {
    return evalCall(Call{*fn, node.begin()->second, false, path});
  }
  return evalStructure(node, path);
}

// A map, list or scalar whose own tag (if any) has been read already: its children are evaluated.
std::optional<Evaluated> TemplateEvaluator::evalStructure(const YAML::Node& node,
                                                          const std::string& path) {
  if (node.IsScalar()) return value(scalar(node.Scalar()));
  if (node.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    bool ok = true;
    for (size_t i = 0; i < node.size(); ++i) {
      std::optional<Evaluated> item = eval(node[i], indexed(path, i));
      if (!item) {
        ok = false;
      } else if (!item->noValue) {
        out.push_back(item->value);
      }
    }
    if (!ok) return std::nullopt;
    return value(out);
  }
  if (node.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    bool ok = true;
    for (const auto& entry : node) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string("?");
      std::optional<Evaluated> item = eval(entry.second, keyed(path, key));
      if (!item) {
        ok = false;
      } else if (!item->noValue) {
        out[key] = item->value;
      }
    }
    if (!ok) return std::nullopt;
    return value(out);
  }
  return value(YAML::Node(YAML::NodeType::Null));
}

// The argument as a whole: a short form's node stripped of its tag, a long form's value as is.
std::optional<Evaluated> TemplateEvaluator::evalArgument(const Call& call) {
  return call.shortForm ? evalStructure(call.arg, call.path) : eval(call.arg, call.path);
}

std::optional<std::string> TemplateEvaluator::evalString(const YAML::Node& node, const Call& call,
                                                         const std::string& what) {
  std::optional<Evaluated> out = eval(node, call.path);
  if (!out) return std::nullopt;
  if (out->noValue || !out->value.IsScalar()) {
    fail(call, absl::StrCat(what, " must be a string, not ",
                            out->noValue ? std::string("AWS::NoValue") : describe(out->value)));
    return std::nullopt;
  }
  return out->value.Scalar();
}

std::optional<std::vector<std::string>> TemplateEvaluator::evalStringList(
    const YAML::Node& node, const Call& call, const std::string& what) {
  std::optional<Evaluated> out = eval(node, call.path);
  if (!out) return std::nullopt;
  if (out->noValue || !out->value.IsSequence()) {
    fail(call, absl::StrCat(what, " must be a list, not ",
                            out->noValue ? std::string("AWS::NoValue") : describe(out->value)));
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < out->value.size(); ++i) {
    const YAML::Node item = out->value[i];
    if (!item.IsScalar()) {
      fail(call, absl::StrCat(what, "[", i, "] must be a string, not ", describe(item)));
      return std::nullopt;
    }
    items.push_back(item.Scalar());
  }
  return items;
}

std::optional<Evaluated> TemplateEvaluator::evalCall(const Call& call) {
  const std::string& fn = call.fn;
  if (fn == "Ref") {
    if (!call.arg.IsScalar() || (!call.shortForm && functionOfTag(call.arg.Tag()))) {
      fail(call, absl::StrCat("takes the name of a parameter or resource, not ",
                              describe(call.arg)));
      return std::nullopt;
    }
    return ref(call.arg.Scalar(), call);
  }
  if (fn == "Fn::GetAtt") {
    std::string id;
    std::string attribute;
    if (call.arg.IsScalar()) {
      const std::string text = call.arg.Scalar();
      const size_t dot = text.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
        fail(call, absl::StrCat("\"", text, "\" is not RESOURCE.ATTRIBUTE"));
        return std::nullopt;
      }
      id = text.substr(0, dot);
      attribute = text.substr(dot + 1);
    } else if (call.arg.IsSequence() && call.arg.size() == 2 && call.arg[0].IsScalar()) {
      id = call.arg[0].Scalar();
      std::optional<std::string> name = evalString(call.arg[1], call, "the attribute name");
      if (!name) return std::nullopt;
      attribute = *name;
    } else {
      fail(call, absl::StrCat("takes [RESOURCE, ATTRIBUTE] or \"RESOURCE.ATTRIBUTE\", not ",
                              describe(call.arg)));
      return std::nullopt;
    }
    std::optional<std::string> out = getAtt(id, attribute, call);
    if (!out) return std::nullopt;
    return value(scalar(*out));
  }
  if (fn == "Fn::Sub") return sub(call);
  if (fn == "Fn::Join") return join(call);
  if (fn == "Fn::Select") return select(call);
  if (fn == "Fn::Split") return split(call);
  if (fn == "Fn::If") return ifFunction(call);
  if (fn == "Fn::ImportValue") return importValue(call);
  if (fn == "Fn::FindInMap") return findInMap(call);
  if (fn == "Fn::Base64") {
    fail(call, "encodes EC2 user data; no App Mesh property takes it (write the value itself)");
    return std::nullopt;
  }
  if (isConditionFunction(fn)) {
    fail(call, "is a condition function: it is allowed in the template's Conditions section "
               "only (use Fn::If with a named condition here)");
    return std::nullopt;
  }
  fail(call, absl::StrCat("is not supported offline (supported: ", kSupported, ")"));
  return std::nullopt;
}

std::optional<Evaluated> TemplateEvaluator::ref(const std::string& name, const Call& call) {
  const std::string function = absl::StrCat("Ref ", name);
  if (name == "AWS::NoValue") return Evaluated{YAML::Node(), true};
  if (isPseudoParameter(name)) {
    std::string error;
    std::optional<std::string> out = pseudoParameter(name, options_, &error);
    if (!out) {
      fail(call.path, function, error);
      return std::nullopt;
    }
    return value(scalar(*out));
  }
  const YAML::Node parameters = section(root_, "Parameters");
  if (parameters.IsDefined() && parameters.IsMap() && parameters[name].IsDefined()) {
    return parameter(name, call);
  }
  if (resources_.has(name)) {
    std::string error;
    std::optional<std::string> out = resources_.value(name, "", &error);
    if (!out) {
      fail(call.path, function, error);
      return std::nullopt;
    }
    return value(scalar(*out));
  }
  fail(call.path, function,
       absl::StrCat("the template has no parameter or resource ", name,
                    " (parameters: ", joinNames(parameters), ")"));
  return std::nullopt;
}

std::optional<std::string> TemplateEvaluator::getAtt(const std::string& id,
                                                     const std::string& attribute,
                                                     const Call& call) {
  const std::string function = absl::StrCat("Fn::GetAtt ", id, ".", attribute);
  if (!resources_.has(id)) {
    fail(call.path, function, absl::StrCat("the template has no resource ", id));
    return std::nullopt;
  }
  std::string error;
  std::optional<std::string> out = resources_.value(id, attribute, &error);
  if (!out) fail(call.path, function, error);
  return out;
}

std::optional<Evaluated> TemplateEvaluator::parameter(const std::string& name, const Call& call) {
  const std::string function = absl::StrCat("Ref ", name);
  const YAML::Node parameters = section(root_, "Parameters");
  const YAML::Node declaration = parameters[name];
  std::string type = "String";
  if (declaration.IsMap() && declaration["Type"].IsDefined() && declaration["Type"].IsScalar()) {
    type = declaration["Type"].Scalar();
  }
  std::optional<std::string> text;
  auto given = options_.parameters.find(name);
  if (given != options_.parameters.end()) {
    text = given->second;
  } else if (absl::StartsWith(type, "AWS::SSM::Parameter::Value<")) {
    fail(call.path, function,
         absl::StrCat("the parameter's value is read from Systems Manager when the stack is "
                      "created, which cannot be done offline; give it with --parameter ",
                      name, "=VALUE"));
    return std::nullopt;
  } else if (declaration.IsMap() && declaration["Default"].IsDefined()) {
    const YAML::Node fallback = declaration["Default"];
    if (!fallback.IsScalar()) {
      fail(call.path, function,
           absl::StrCat("the parameter's Default must be a string or number, not ",
                        describe(fallback)));
      return std::nullopt;
    }
    text = fallback.Scalar();
  } else {
    fail(call.path, function,
         absl::StrCat("parameter ", name, " has no Default; give it with --parameter ", name,
                      "=VALUE"));
    return std::nullopt;
  }
  const bool isList = absl::StartsWith(type, "List<") || type == "CommaDelimitedList";
  if (isList) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (absl::string_view item : absl::StrSplit(*text, ',')) {
      out.push_back(scalar(std::string(absl::StripAsciiWhitespace(item))));
    }
    return value(out);
  }
  if (type == "Number") {
    double number = 0;
    if (!absl::SimpleAtod(*text, &number)) {
      fail(call.path, function,
           absl::StrCat("\"", *text, "\" is not a number (the parameter's Type is Number)"));
      return std::nullopt;
    }
  }
  const YAML::Node allowed = declaration.IsMap() ? declaration["AllowedValues"] : YAML::Node();
  if (allowed.IsDefined() && allowed.IsSequence()) {
    std::vector<std::string> values;
    for (const auto& item : allowed) values.push_back(item.IsScalar() ? item.Scalar() : "?");
    if (std::find(values.begin(), values.end(), *text) == values.end()) {
      fail(call.path, function,
           absl::StrCat("\"", *text, "\" is not one of the parameter's AllowedValues (",
                        absl::StrJoin(values, ", "), ")"));
      return std::nullopt;
    }
  }
  // CloudFormation hands every parameter to resources as a string, Number ones included.
  return value(scalar(*text));
}

std::optional<Evaluated> TemplateEvaluator::sub(const Call& call) {
  std::string text;
  YAML::Node variables;
  if (call.arg.IsScalar()) {
    text = call.arg.Scalar();
  } else if (call.arg.IsSequence() && call.arg.size() == 2 && call.arg[0].IsScalar() &&
             call.arg[1].IsMap()) {
    text = call.arg[0].Scalar();
    variables = call.arg[1];
  } else {
    fail(call, absl::StrCat("takes a string or [STRING, {NAME: VALUE, ...}], not ",
                            describe(call.arg)));
    return std::nullopt;
  }
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t open = text.find("${", at);
    if (open == std::string::npos) {
      out += text.substr(at);
      break;
    }
    out += text.substr(at, open - at);
    const size_t close = text.find('}', open + 2);
    if (close == std::string::npos) {
      fail(call, absl::StrCat("\"", text, "\": \"${\" at offset ", open, " has no closing \"}\""));
      return std::nullopt;
    }
    const std::string name = text.substr(open + 2, close - open - 2);
    at = close + 1;
    if (!name.empty() && name[0] == '!') {  // ${!Literal} is written as ${Literal}
      absl::StrAppend(&out, "${", name.substr(1), "}");
      continue;
    }
    const std::string trimmed(absl::StripAsciiWhitespace(name));
    const YAML::Node& vars = variables;
    if (vars.IsDefined() && vars[trimmed].IsDefined()) {
      std::optional<std::string> item =
          evalString(vars[trimmed], call, absl::StrCat("variable ", trimmed));
      if (!item) return std::nullopt;
      out += *item;
      continue;
    }
    const size_t dot = trimmed.find('.');
    if (dot != std::string::npos) {
      std::optional<std::string> item =
          getAtt(trimmed.substr(0, dot), trimmed.substr(dot + 1), call);
      if (!item) return std::nullopt;
      out += *item;
      continue;
    }
    if (trimmed == "AWS::NoValue") {
      fail(call, "${AWS::NoValue} cannot be part of a string");
      return std::nullopt;
    }
    std::optional<Evaluated> item = ref(trimmed, call);
    if (!item) return std::nullopt;
    if (!item->value.IsScalar()) {
      fail(call, absl::StrCat("${", trimmed, "} is ", describe(item->value),
                              "; Fn::Sub needs a string"));
      return std::nullopt;
    }
    out += item->value.Scalar();
  }
  return value(scalar(out));
}

std::optional<Evaluated> TemplateEvaluator::join(const Call& call) {
  if (!call.arg.IsSequence() || call.arg.size() != 2) {
    fail(call, absl::StrCat("takes [DELIMITER, [VALUES...]], not ", describe(call.arg)));
    return std::nullopt;
  }
  std::optional<std::string> delimiter = evalString(call.arg[0], call, "the delimiter");
  if (!delimiter) return std::nullopt;
  std::optional<std::vector<std::string>> items =
      evalStringList(call.arg[1], call, "the values");
  if (!items) return std::nullopt;
  return value(scalar(absl::StrJoin(*items, *delimiter)));
}

std::optional<Evaluated> TemplateEvaluator::select(const Call& call) {
  if (!call.arg.IsSequence() || call.arg.size() != 2) {
    fail(call, absl::StrCat("takes [INDEX, [VALUES...]], not ", describe(call.arg)));
    return std::nullopt;
  }
  std::optional<std::string> indexText = evalString(call.arg[0], call, "the index");
  if (!indexText) return std::nullopt;
  int64_t index = 0;
  if (!absl::SimpleAtoi(*indexText, &index) || index < 0) {
    fail(call, absl::StrCat("the index \"", *indexText, "\" is not a number from 0"));
    return std::nullopt;
  }
  std::optional<Evaluated> list = eval(call.arg[1], call.path);
  if (!list) return std::nullopt;
  if (list->noValue || !list->value.IsSequence()) {
    fail(call, absl::StrCat("the values must be a list, not ", describe(list->value)));
    return std::nullopt;
  }
  if (static_cast<size_t>(index) >= list->value.size()) {
    fail(call, absl::StrCat("index ", index, " is out of range (the list has ",
                            list->value.size(), " values)"));
    return std::nullopt;
  }
  return value(list->value[static_cast<size_t>(index)]);
}

std::optional<Evaluated> TemplateEvaluator::split(const Call& call) {
  if (!call.arg.IsSequence() || call.arg.size() != 2) {
    fail(call, absl::StrCat("takes [DELIMITER, STRING], not ", describe(call.arg)));
    return std::nullopt;
  }
  std::optional<std::string> delimiter = evalString(call.arg[0], call, "the delimiter");
  if (!delimiter) return std::nullopt;
  std::optional<std::string> source = evalString(call.arg[1], call, "the source");
  if (!source) return std::nullopt;
  if (delimiter->empty()) {
    fail(call, "the delimiter is empty");
    return std::nullopt;
  }
  YAML::Node out(YAML::NodeType::Sequence);
  for (absl::string_view item : absl::StrSplit(*source, *delimiter)) {
    out.push_back(scalar(std::string(item)));
  }
  return value(out);
}

std::optional<Evaluated> TemplateEvaluator::ifFunction(const Call& call) {
  if (!call.arg.IsSequence() || call.arg.size() != 3 || !call.arg[0].IsScalar()) {
    fail(call, absl::StrCat("takes [CONDITION_NAME, VALUE_IF_TRUE, VALUE_IF_FALSE], not ",
                            describe(call.arg)));
    return std::nullopt;
  }
  std::optional<bool> chosen = namedCondition(call.arg[0].Scalar(), call.path,
                                              absl::StrCat("Fn::If ", call.arg[0].Scalar()));
  if (!chosen) return std::nullopt;
  return eval(call.arg[*chosen ? 1 : 2], call.path);
}

std::optional<Evaluated> TemplateEvaluator::importValue(const Call& call) {
  std::optional<Evaluated> name = evalArgument(call);
  if (!name) return std::nullopt;
  if (name->noValue || !name->value.IsScalar()) {
    fail(call, absl::StrCat("takes the name of an export, not ", describe(name->value)));
    return std::nullopt;
  }
  const std::string exportName = name->value.Scalar();
  auto it = options_.importValues.find(exportName);
  if (it == options_.importValues.end()) {
    fail(call.path, absl::StrCat("Fn::ImportValue ", exportName),
         absl::StrCat("another stack's export is not known offline; give it with "
                      "--import-value ", exportName, "=VALUE"));
    return std::nullopt;
  }
  return value(scalar(it->second));
}

std::optional<Evaluated> TemplateEvaluator::findInMap(const Call& call) {
  if (!call.arg.IsSequence() || call.arg.size() != 3) {
    fail(call, absl::StrCat("takes [MAP_NAME, TOP_LEVEL_KEY, SECOND_LEVEL_KEY], not ",
                            describe(call.arg)));
    return std::nullopt;
  }
  std::vector<std::string> keys;
  for (size_t i = 0; i < 3; ++i) {
    std::optional<std::string> key =
        evalString(call.arg[i], call, i == 0 ? "the map name" : "the key");
    if (!key) return std::nullopt;
    keys.push_back(*key);
  }
  const std::string function =
      absl::StrCat("Fn::FindInMap [", absl::StrJoin(keys, ", "), "]");
  const YAML::Node mappings = section(root_, "Mappings");
  if (!mappings.IsDefined() || !mappings.IsMap() || !mappings[keys[0]].IsDefined()) {
    fail(call.path, function,
         absl::StrCat("the template has no mapping ", keys[0], " (Mappings: ",
                      joinNames(mappings), ")"));
    return std::nullopt;
  }
  const YAML::Node map = mappings[keys[0]];  // const: lookups never add keys to the parse
  if (!map.IsMap() || !map[keys[1]].IsDefined() || !map[keys[1]].IsMap()) {
    fail(call.path, function,
         absl::StrCat("mapping ", keys[0], " has no key ", keys[1], " (keys: ", joinNames(map),
                      ")"));
    return std::nullopt;
  }
  const YAML::Node inner = map[keys[1]];
  if (!inner[keys[2]].IsDefined()) {
    fail(call.path, function,
         absl::StrCat("mapping ", keys[0], ".", keys[1], " has no key ", keys[2], " (keys: ",
                      joinNames(inner), ")"));
    return std::nullopt;
  }
  return evalStructure(inner[keys[2]], call.path);
}

std::optional<bool> TemplateEvaluator::namedCondition(const std::string& name,
                                                      const std::string& path,
                                                      const std::string& function) {
  auto known = conditions_.find(name);
  if (known != conditions_.end()) return known->second;
  const YAML::Node conditions = section(root_, "Conditions");
  if (!conditions.IsDefined() || !conditions.IsMap() || !conditions[name].IsDefined()) {
    fail(path, function,
         absl::StrCat("the template has no condition ", name, " (Conditions: ",
                      joinNames(conditions), ")"));
    return std::nullopt;
  }
  if (!evaluating_.insert(name).second) {
    fail(path, function, absl::StrCat("condition ", name, " refers to itself"));
    return std::nullopt;
  }
  std::optional<bool> out = evalCondition(conditions[name], absl::StrCat("Conditions.", name));
  evaluating_.erase(name);
  if (out) conditions_[name] = *out;
  return out;
}

std::optional<bool> TemplateEvaluator::evalCondition(const YAML::Node& node,
                                                     const std::string& path) {
  std::optional<std::string> fn = functionOfTag(node.Tag());
  YAML::Node arg = node;
  if (!fn) {
    fn = functionOfMap(node, true);
    if (fn) arg = node.begin()->second;
  }
  if (!fn) {
    fail(path, "Condition",
         absl::StrCat("expected Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition, not ",
                      describe(node)));
    return std::nullopt;
  }
  if (*fn == "Condition") {
    if (!arg.IsScalar()) {
      fail(path, "Condition", absl::StrCat("takes a condition name, not ", describe(arg)));
      return std::nullopt;
    }
    return namedCondition(arg.Scalar(), path, absl::StrCat("Condition ", arg.Scalar()));
  }
  if (*fn == "Fn::Equals") {
    if (!arg.IsSequence() || arg.size() != 2) {
      fail(path, *fn, absl::StrCat("takes [VALUE, VALUE], not ", describe(arg)));
      return std::nullopt;
    }
    std::optional<Evaluated> left = eval(arg[0], path);
    std::optional<Evaluated> right = eval(arg[1], path);
    if (!left || !right) return std::nullopt;
    return YAML::Dump(left->value) == YAML::Dump(right->value);
  }
  if (*fn == "Fn::Not" || *fn == "Fn::And" || *fn == "Fn::Or") {
    const bool isNot = *fn == "Fn::Not";
    if (!arg.IsSequence() || (isNot && arg.size() != 1) ||
        (!isNot && (arg.size() < 2 || arg.size() > 10))) {
      fail(path, *fn,
           absl::StrCat(isNot ? "takes [CONDITION]" : "takes a list of 2 to 10 conditions",
                        ", not ", describe(arg)));
      return std::nullopt;
    }
    std::vector<bool> values;
    for (size_t i = 0; i < arg.size(); ++i) {
      std::optional<bool> item = evalCondition(arg[i], path);
      if (!item) return std::nullopt;
      values.push_back(*item);
    }
    if (isNot) return !values[0];
    if (*fn == "Fn::And") return std::all_of(values.begin(), values.end(), [](bool v) { return v; });
    return std::any_of(values.begin(), values.end(), [](bool v) { return v; });
  }
  fail(path, *fn, "is not a condition function (allowed: Fn::Equals, Fn::Not, Fn::And, Fn::Or, "
                  "Condition)");
  return std::nullopt;
}

}  // namespace trellis::config::appmesh::cfn
