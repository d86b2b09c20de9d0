// Telling the input shapes apart and running the plan on each task definition in them.
#include "deploy/inject/ecs_file.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "deploy/inject/ecs_yaml.h"

namespace trellis::deploy::inject {

namespace {

constexpr char kTaskDefinitionType[] = "AWS::ECS::TaskDefinition";

// Fields describe-task-definition adds that register-task-definition does not take.
constexpr const char* kReadOnlyFields[] = {"taskDefinitionArn", "revision",     "status",      "requiresAttributes",
                                           "compatibilities",   "registeredAt", "registeredBy", "deregisteredAt"};

void collect(ConvertedFile& file, const std::string& where, const Plan& plan) {
  for (const auto& c : plan.changes) file.changes.push_back(where + c);
  for (const auto& n : plan.notes) file.notes.push_back(where + n);
}

absl::Status located(const std::string& where, const absl::Status& s) {
  return absl::InvalidArgumentError(where + std::string(s.message()));
}

absl::StatusOr<ConvertedFile> convertJson(const std::string& path, const std::string& content,
                                          const EcsOptions& options) {
  Json doc;
  try {
    doc = Json::parse(content);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(path + ": not valid JSON: " + e.what());
  }
  ConvertedFile file;
  if (!doc.is_object()) return absl::InvalidArgumentError(path + ": expected a JSON object at the top");
  if (doc.contains("Resources") || doc.contains("AWSTemplateFormatVersion")) {
    auto resources = doc.find("Resources");
    if (resources == doc.end() || !resources->is_object()) {
      return absl::InvalidArgumentError(path + ": Resources: a CloudFormation template needs a Resources object");
    }
    for (auto& [name, resource] : resources->items()) {
      if (!resource.is_object() || resource.value("Type", Json()) != kTaskDefinitionType) continue;
      auto props = resource.find("Properties");
      if (props == resource.end()) continue;
      const std::string where = path + ": resource " + name + ": Properties.";
      auto plan = planTaskDefinition(*props, FieldCase::kPascal, options, /*may_add_sidecar=*/false);
      if (!plan.ok()) return located(where, plan.status());
      if (plan->edits.empty() && plan->notes.empty()) continue;
      applyEdits(*props, plan->edits, FieldCase::kPascal);
      collect(file, where, *plan);
      file.changed = file.changed || !plan->edits.empty();
    }
  } else if (doc.contains("taskDefinition")) {
    Json& td = doc["taskDefinition"];
    const std::string where = path + ": taskDefinition.";
    auto plan = planTaskDefinition(td, FieldCase::kCamel, options, /*may_add_sidecar=*/true);
    if (!plan.ok()) return located(where, plan.status());
    applyEdits(td, plan->edits, FieldCase::kCamel);
    collect(file, where, *plan);
    file.changed = !plan->edits.empty();
    std::string present;
    for (const char* field : kReadOnlyFields) {
      if (td.is_object() && td.contains(field)) present += (present.empty() ? "" : ", ") + std::string(field);
    }
    if (file.changed && !present.empty()) {
      file.notes.push_back(path + ": kept describe-task-definition's envelope and read-only fields (" + present +
                           "); register-task-definition takes neither: register .taskDefinition without them");
    }
  } else if (doc.contains("containerDefinitions")) {
    auto plan = planTaskDefinition(doc, FieldCase::kCamel, options, /*may_add_sidecar=*/true);
    if (!plan.ok()) return located(path + ": ", plan.status());
    applyEdits(doc, plan->edits, FieldCase::kCamel);
    collect(file, path + ": ", *plan);
    file.changed = !plan->edits.empty();
  } else {
    return absl::InvalidArgumentError(
        path + ": neither a task definition (containerDefinitions), describe-task-definition output "
               "(taskDefinition) nor a CloudFormation template (Resources)");
  }
  file.output = file.changed ? doc.dump(2) + "\n" : content;
  return file;
}

size_t commentLines(const std::string& content) {
  size_t count = 0;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + start, end - start);
    size_t first = line.find_first_not_of(" \t");
    // A line that is a comment, or ends in one (" #" cannot start a comment inside a quoted
    // scalar only rarely; this is a count for the note, not a parser).
    if ((first != std::string_view::npos && line[first] == '#') || line.find(" #") != std::string_view::npos) {
      ++count;
    }
    start = end + 1;
  }
  return count;
}

absl::StatusOr<ConvertedFile> convertYaml(const std::string& path, const std::string& content,
                                          const EcsOptions& options) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(content);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ":", e.mark.column + 1,
                                                   ": not valid YAML: ", e.msg));
  }
  if (docs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", docs.size(), " YAML documents; a CloudFormation template is one"));
  }
  YAML::Node root = docs[0];
  if (!root.IsMap() || !root["Resources"]) {
    return absl::InvalidArgumentError(path + ": not a CloudFormation template (no Resources); YAML input must be one");
  }
  YAML::Node resources = root["Resources"];
  if (!resources.IsMap()) return absl::InvalidArgumentError(path + ": Resources: must be a mapping of resources");
  ConvertedFile file;
  for (auto kv : resources) {
    YAML::Node resource = kv.second;
    if (!resource.IsMap() || !resource["Type"] || !resource["Type"].IsScalar() ||
        resource["Type"].Scalar() != kTaskDefinitionType || !resource["Properties"]) {
      continue;
    }
    const std::string name = kv.first.Scalar();
    const std::string where = path + ": resource " + name + ": Properties.";
    Json view = yamlView(resource["Properties"]);
    auto plan = planTaskDefinition(view, FieldCase::kPascal, options, /*may_add_sidecar=*/false);
    if (!plan.ok()) return located(where, plan.status());
    applyEdits(resource["Properties"], plan->edits);
    collect(file, where, *plan);
    file.changed = file.changed || !plan->edits.empty();
  }
  if (file.changed) {
    file.output = emitYaml(root);
    if (size_t n = commentLines(content); n > 0) {
      file.notes.push_back(absl::StrCat(path, ": comments are not kept (", n,
                                        " lines had one): yaml-cpp, which reads the template, drops them; keys, "
                                        "values and tags (!Sub, !Ref, !GetAtt, ...) are kept"));
    }
  } else {
    file.output = content;
  }
  return file;
}

}  // namespace

absl::StatusOr<ConvertedFile> convertEcsFile(const std::string& path, const std::string& content,
                                             const EcsOptions& options) {
  size_t first = content.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return absl::InvalidArgumentError(path + ": empty file");
  if (content[first] == '{') return convertJson(path, content, options);
  return convertYaml(path, content, options);
}

}  // namespace trellis::deploy::inject
