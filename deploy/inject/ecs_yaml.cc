// yaml-cpp keeps a node's tag (`Tag()`: "!Sub" for `!Sub`, "!" for a quoted scalar, "?" for a
// plain one) and a collection's flow/block style; this file reads them into the view and writes
// them back.
#include "deploy/inject/ecs_yaml.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "deploy/inject/ecs_fields.h"

namespace trellis::deploy::inject {

namespace {

constexpr char kCoreTagPrefix[] = "tag:yaml.org,2002:";

// A tag a user wrote (`!Sub`), as opposed to yaml-cpp's non-specific "?" and "!".
bool isUserTag(const std::string& tag) { return !tag.empty() && tag != "?" && tag != "!"; }

// Would YAML 1.1/1.2 read this plain scalar as something other than a string?
bool needsQuotes(const std::string& s) {
  if (s.empty() || s == "~") return true;
  const std::string lower = absl::AsciiStrToLower(s);
  for (const char* word : {"null", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf", ".nan"}) {
    if (lower == word) return true;
  }
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '_' && c != 'x' && c != 'o' && c != '-' && c != '+' &&
               c != ':' && !std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return digit;
}

void emitTag(YAML::Emitter& out, const std::string& tag) {
  if (!isUserTag(tag)) return;
  if (tag[0] == '!') {
    out << YAML::LocalTag(tag.substr(1));
  } else if (absl::StartsWith(tag, kCoreTagPrefix)) {
    out << YAML::SecondaryTag(tag.substr(sizeof(kCoreTagPrefix) - 1));
  } else {
    out << YAML::VerbatimTag(tag);
  }
}

void emitNode(YAML::Emitter& out, const YAML::Node& node) {
  emitTag(out, node.Tag());
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      break;
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (s.find('\n') != std::string::npos) {
        out << YAML::Literal << s;
      } else if (node.Tag() == "!") {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case YAML::NodeType::Sequence:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node) emitNode(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& kv : node) {
        out << YAML::Key;
        emitNode(out, kv.first);
        out << YAML::Value;
        emitNode(out, kv.second);
      }
      out << YAML::EndMap;
      break;
  }
}

YAML::Node scalar(const std::string& s) {
  YAML::Node n(s);
  n.SetTag(needsQuotes(s) ? "!" : "?");
  return n;
}

}  // namespace

Json yamlView(const YAML::Node& node) {
  Json value;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      value = nullptr;
      break;
    case YAML::NodeType::Scalar:
      value = node.Scalar();
      break;
    case YAML::NodeType::Sequence:
      value = Json::array();
      for (const auto& item : node) value.push_back(yamlView(item));
      break;
    case YAML::NodeType::Map:
      value = Json::object();
      for (const auto& kv : node) {
        value[kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first)] = yamlView(kv.second);
      }
      break;
  }
  const std::string& tag = node.Tag();
  if (!isUserTag(tag) || tag[0] != '!') return value;
  const std::string name = tag.substr(1);
  Json wrapped = Json::object();
  if (name == "Ref" || name == "Condition") {
    wrapped[name] = value;
  } else {
    wrapped["Fn::" + name] = value;
  }
  return wrapped;
}

YAML::Node yamlFromJson(const Json& value) {
  if (value.is_object()) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& [key, item] : value.items()) map[key] = yamlFromJson(item);
    return map;
  }
  if (value.is_array()) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& item : value) seq.push_back(yamlFromJson(item));
    return seq;
  }
  if (value.is_string()) return scalar(value.get<std::string>());
  if (value.is_null()) return YAML::Node(YAML::NodeType::Null);
  YAML::Node plain(value.dump());  // numbers and booleans, plain
  plain.SetTag("?");
  return plain;
}

void applyEdits(YAML::Node properties, const std::vector<Edit>& edits) {
  auto f = [](std::string_view camel) { return fieldName(FieldCase::kPascal, camel); };
  YAML::Node defs = properties[f("containerDefinitions")];
  for (const Edit& e : edits) {
    switch (e.kind) {
      case Edit::Kind::kSetImage: {
        YAML::Node c = defs[e.container];
        c[f("image")] = scalar(e.text);
        break;
      }
      case Edit::Kind::kSetEnvName: {
        YAML::Node entry = defs[e.container][f("environment")][e.env];
        entry[f("name")] = scalar(e.text);
        break;
      }
      case Edit::Kind::kSetEnvValue: {
        YAML::Node entry = defs[e.container][f("environment")][e.env];
        entry[f("value")] = scalar(e.text);
        break;
      }
      case Edit::Kind::kRemoveEnv: {
        YAML::Node c = defs[e.container];
        YAML::Node old = c[f("environment")];
        YAML::Node kept(YAML::NodeType::Sequence);
        kept.SetStyle(old.Style());
        kept.SetTag(old.Tag());
        for (size_t i = 0; i < old.size(); ++i) {
          if (i != e.env) kept.push_back(old[i]);
        }
        c[f("environment")] = kept;
        break;
      }
      case Edit::Kind::kAppendEnv: {
        YAML::Node c = defs[e.container];
        if (!c[f("environment")]) c[f("environment")] = YAML::Node(YAML::NodeType::Sequence);
        Json entry = Json::object();
        entry[f("name")] = e.text;
        entry[f("value")] = e.value;
        YAML::Node env = c[f("environment")];
        env.push_back(yamlFromJson(entry));
        break;
      }
      case Edit::Kind::kAppendDependsOn: {
        YAML::Node c = defs[e.container];
        if (!c[f("dependsOn")]) c[f("dependsOn")] = YAML::Node(YAML::NodeType::Sequence);
        YAML::Node deps = c[f("dependsOn")];
        deps.push_back(yamlFromJson(e.object));
        break;
      }
      case Edit::Kind::kAppendContainer:
        defs.push_back(yamlFromJson(e.object));
        break;
      case Edit::Kind::kSetProxyConfiguration:
        properties[f("proxyConfiguration")] = yamlFromJson(e.object);
        break;
    }
  }
}

std::string emitYaml(const YAML::Node& document) {
  YAML::Emitter out;
  out.SetIndent(2);
  emitNode(out, document);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace trellis::deploy::inject
