// Label selectors: see label_selector.h.
#include "config/appmesh/label_selector.h"

#include <algorithm>

namespace trellis::config::appmesh::internal {

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [key, value] : matchLabels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const Requirement& r : matchExpressions) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if (r.op == "In" && !listed) return false;
    if (r.op == "NotIn" && listed) return false;  // an absent label is "not in"
    if (r.op == "Exists" && !has) return false;
    if (r.op == "DoesNotExist" && has) return false;
    if (r.op != "In" && r.op != "NotIn" && r.op != "Exists" && r.op != "DoesNotExist") return false;
  }
  return true;
}

std::string LabelSelector::toString() const {
  if (matchLabels.empty() && matchExpressions.empty()) return "{} (selects all)";
  std::vector<std::string> parts;
  if (!matchLabels.empty()) parts.push_back("matchLabels: " + labelsToString(matchLabels));
  if (!matchExpressions.empty()) {
    std::vector<std::string> expressions;
    for (const Requirement& r : matchExpressions) {
      std::string text = r.key + " " + r.op;
      if (r.op == "In" || r.op == "NotIn") text += " (" + joined(r.values) + ")";
      expressions.push_back(text);
    }
    parts.push_back("matchExpressions: [" + joined(expressions) + "]");
  }
  return "{" + joined(parts) + "}";
}

std::optional<LabelSelector> selectorFromYaml(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull() || !node.IsMap()) return std::nullopt;
  LabelSelector selector;
  if (const YAML::Node labels = node["matchLabels"]; labels.IsDefined()) selector.matchLabels = labelsFromYaml(labels);
  const YAML::Node expressions = node["matchExpressions"];
  if (expressions.IsDefined() && expressions.IsSequence()) {
    for (const YAML::Node& item : expressions) {
      if (!item.IsMap()) continue;
      LabelSelector::Requirement r;
      if (item["key"].IsDefined() && item["key"].IsScalar()) r.key = item["key"].Scalar();
      if (item["operator"].IsDefined() && item["operator"].IsScalar()) r.op = item["operator"].Scalar();
      const YAML::Node values = item["values"];
      if (values.IsDefined() && values.IsSequence()) {
        for (const YAML::Node& value : values) {
          if (value.IsScalar()) r.values.push_back(value.Scalar());
        }
      }
      selector.matchExpressions.push_back(std::move(r));
    }
  }
  return selector;
}

Labels labelsFromYaml(const YAML::Node& node) {
  Labels labels;
  if (!node.IsDefined() || !node.IsMap()) return labels;
  for (const auto& entry : node) {
    if (entry.first.IsScalar() && entry.second.IsScalar()) labels[entry.first.Scalar()] = entry.second.Scalar();
  }
  return labels;
}

std::string labelsToString(const Labels& labels) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : labels) parts.push_back(key + ": " + value);
  return "{" + joined(parts) + "}";
}

}  // namespace trellis::config::appmesh::internal
