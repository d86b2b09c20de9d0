// `trellis-inject k8s` (see k8s_command.h): split each file into its YAML documents, inject the
// pod templates of workload documents, and put the files back together.
#include "deploy/inject/k8s_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "deploy/inject/pod_injection.h"
#include "version/trellis_version.h"
#include "deploy/inject/yaml_json.h"

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kUsage[] = R"(usage: trellis-inject k8s FILE... [options]

Adds trellis-init and the trellis-proxy sidecar to the pod templates of Kubernetes manifests
(Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, List).
FILE may be - for stdin. Other documents are passed through unchanged.

  --image IMAGE            the trellis-proxy image (default trellis/trellis-proxy:VERSION)
  --init-image IMAGE       the trellis-init image (default: the proxy image)
  --cp-address HOST:PORT   trellis-cp's ADS address (default trellis-cp.trellis-system:15010)
  --mode native|plain      native (default): sidecar as an init container with restartPolicy
                           Always (Kubernetes 1.29+); plain: an ordinary container
  --mesh NAME              the mesh when neither appmesh.k8s.aws/mesh nor the namespace's mesh
                           label (of a Namespace document in the input) names it
  --virtual-node-map FILE  label selectors -> virtual nodes, for pods without the
                           appmesh.k8s.aws/virtualNode annotation
  -o OUT                   write everything to OUT (default: stdout)
  --in-place               rewrite each changed FILE
)";

// One YAML document of a file: the separator line that opened it ("" for the first) and its text.
struct Document {
  std::string separator;
  std::string body;
};

bool isSeparator(const std::string& line) {
  for (const char* marker : {"---", "..."}) {
    if (absl::StartsWith(line, marker) &&
        (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\n' || line[3] == '\r')) {
      return true;
    }
  }
  return false;
}

std::vector<Document> splitDocuments(const std::string& text) {
  std::vector<Document> docs(1);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    std::string line = text.substr(pos, end - pos);
    if (isSeparator(line)) {
      docs.push_back(Document{line, ""});
    } else {
      docs.back().body += line;
    }
    pos = end;
  }
  return docs;
}

// Whether the text has what looks like a YAML comment (which a re-emitted document loses).
bool hasComment(const std::string& body) {
  for (size_t i = body.find('#'); i != std::string::npos; i = body.find('#', i + 1)) {
    if (i == 0 || body[i - 1] == ' ' || body[i - 1] == '\t' || body[i - 1] == '\n') return true;
  }
  return false;
}

struct Input {
  std::string path;  // "-" for stdin
  std::string text;
  std::vector<Document> docs;
  std::vector<std::optional<Json>> trees;  // parsed documents (none: empty or not YAML we touch)
  bool changed = false;
};

struct PodTemplate {
  Json* metadata;
  Json* spec;
  std::string prefix;  // the template's path in the document, "" for a Pod
};

// Where a workload keeps its pod: Pod itself, spec.template, or CronJob's jobTemplate.
std::optional<std::string> templatePrefix(const std::string& kind) {
  if (kind == "Pod") return "";
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" ||
      kind == "ReplicationController" || kind == "Job") {
    return "spec.template.";
  }
  if (kind == "CronJob") return "spec.jobTemplate.spec.template.";
  return std::nullopt;
}

Json* walk(Json& root, const std::string& dotted) {
  Json* node = &root;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    std::string key = dotted.substr(start, dot - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    start = dot == std::string::npos ? dotted.size() : dot + 1;
  }
  return node;
}

std::string describe(const Json& object) {
  std::string kind = object.value("kind", Json("?")).is_string() ? object.value("kind", std::string("?")) : "?";
  std::string name = "?";
  std::string ns;
  if (auto metadata = object.find("metadata"); metadata != object.end() && metadata->is_object()) {
    if (auto n = metadata->find("name"); n != metadata->end() && n->is_string()) name = n->get<std::string>();
    if (auto n = metadata->find("namespace"); n != metadata->end() && n->is_string()) ns = n->get<std::string>() + "/";
  }
  return absl::StrCat(kind, " ", ns, name);
}

// Field paths from the injection are relative to the pod; make them relative to the document.
std::string prefixed(const std::string& prefix, const std::string& message) {
  if (absl::StartsWith(message, "metadata.") || absl::StartsWith(message, "spec.")) return prefix + message;
  return message;
}

struct Context {
  InjectionSettings settings;
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;  // from Namespace documents
};

// Injects one object (a workload, or each item of a List). Returns false on an error (reported).
bool injectObject(Json& object, const std::string& where, const Context& context, bool& changed, std::ostream& err) {
  if (!object.is_object()) return true;
  auto kind_it = object.find("kind");
  std::string kind = kind_it != object.end() && kind_it->is_string() ? kind_it->get<std::string>() : "";
  if (kind == "List") {
    auto items = object.find("items");
    if (items == object.end() || !items->is_array()) return true;
    bool ok = true;
    for (size_t i = 0; i < items->size(); ++i) {
      ok = injectObject((*items)[i], absl::StrCat(where, " items[", i, "]"), context, changed, err) && ok;
    }
    return ok;
  }
  std::optional<std::string> prefix = templatePrefix(kind);
  if (!prefix) return true;
  std::string label = absl::StrCat(where, " (", describe(object), ")");
  std::string template_path = prefix->empty() ? "" : prefix->substr(0, prefix->size() - 1);
  Json* pod = template_path.empty() ? &object : walk(object, template_path);
  if (pod == nullptr || !pod->is_object()) {
    err << label << ": " << template_path << ": required (the pod template)\n";
    return false;
  }
  Json metadata = pod->value("metadata", Json::object());
  auto spec = pod->find("spec");
  if (spec == pod->end()) {
    err << label << ": " << *prefix << "spec: required (the pod spec)\n";
    return false;
  }
  NamespaceInfo ns;
  ns.labels_known = false;  // a file is an explicit request; Namespace documents only give `mesh`
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
    if (auto n = meta->find("namespace"); n != meta->end() && n->is_string()) ns.name = n->get<std::string>();
  }
  if (auto labels = context.namespace_labels.find(ns.name); labels != context.namespace_labels.end()) {
    ns.labels = labels->second;
  }
  auto result = injectPod(metadata, *spec, ns, context.settings);
  if (!result.ok()) {
    err << label << ": " << prefixed(*prefix, std::string(result.status().message())) << "\n";
    return false;
  }
  for (const auto& warning : result->warnings) err << label << ": warning: " << prefixed(*prefix, warning) << "\n";
  if (!result->injected) {
    err << label << ": not injected: " << result->skip_reason << "\n";
    return true;
  }
  *spec = result->pod_spec;
  for (const auto& change : result->changes) err << label << ": " << prefixed(*prefix, change) << "\n";
  changed = true;
  return true;
}

bool readInput(Input& input, std::ostream& err) {
  if (input.path == "-") {
    std::stringstream text;
    text << std::cin.rdbuf();
    input.text = text.str();
    return true;
  }
  std::ifstream in(input.path, std::ios::binary);
  if (!in) {
    err << input.path << ": cannot be read\n";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  input.text = text.str();
  return true;
}

bool writeAtomically(const std::string& path, const std::string& text, std::ostream& err) {
  std::string temp = path + ".trellis-inject.tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      err << path << ": cannot be written\n";
      std::remove(temp.c_str());
      return false;
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    err << path << ": cannot be replaced\n";
    std::remove(temp.c_str());
    return false;
  }
  return true;
}

std::string joined(const Input& input) {
  std::string text;
  for (size_t i = 0; i < input.docs.size(); ++i) text += input.docs[i].separator + input.docs[i].body;
  return text;
}

int usageError(const std::string& message, std::ostream& err) {
  err << "trellis-inject k8s: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int runK8sCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Context context;
  context.settings.proxy_image = absl::StrCat("trellis/trellis-proxy:", trellis::kVersion);
  std::vector<Input> inputs;
  std::string output;
  bool in_place = false;
  std::string node_map;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    if (flag == "-h" || flag == "--help") {
      out << kUsage;
      return 0;
    }
    if (flag == "--in-place") {
      in_place = true;
      continue;
    }
    if (flag == "-" || !absl::StartsWith(flag, "-")) {
      inputs.push_back(Input{flag, "", {}, {}, false});
      continue;
    }
    std::string value;
    if (auto eq = flag.find('='); eq != std::string::npos && absl::StartsWith(flag, "--")) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usageError(absl::StrCat(flag, ": needs a value"), err);
    }
    if (flag == "--image") {
      context.settings.proxy_image = value;
    } else if (flag == "--init-image") {
      context.settings.init_image = value;
    } else if (flag == "--cp-address") {
      context.settings.cp_address = value;
    } else if (flag == "--mode") {
      if (value != "native" && value != "plain") return usageError(absl::StrCat("--mode ", value, ": native or plain"), err);
      context.settings.mode = value == "native" ? SidecarMode::kNative : SidecarMode::kPlain;
    } else if (flag == "--mesh") {
      context.settings.default_mesh = value;
    } else if (flag == "--virtual-node-map") {
      node_map = value;
    } else if (flag == "-o" || flag == "--output") {
      output = value;
    } else {
      return usageError(absl::StrCat("unknown option ", flag), err);
    }
  }
  if (inputs.empty()) return usageError("at least one FILE is required", err);
  if (in_place && !output.empty()) return usageError("-o and --in-place exclude each other", err);
  if (in_place) {
    for (const auto& input : inputs) {
      if (input.path == "-") return usageError("--in-place cannot rewrite stdin", err);
    }
  }
  if (!context.settings.proxy_image.empty() && context.settings.proxy_image.find_first_of(" \t\n") != std::string::npos) {
    return usageError(absl::StrCat("--image \"", context.settings.proxy_image, "\": an image reference has no spaces"), err);
  }
  if (!node_map.empty()) {
    auto map = loadVirtualNodeMap(node_map);
    if (!map.ok()) {
      err << "trellis-inject k8s: --virtual-node-map " << map.status().message() << "\n";
      return 1;
    }
    context.settings.virtual_node_map = *map;
  }

  // Read and parse everything first: Namespace documents anywhere give their labels to all.
  bool ok = true;
  for (auto& input : inputs) {
    if (!readInput(input, err)) {
      ok = false;
      continue;
    }
    input.docs = splitDocuments(input.text);
    input.trees.resize(input.docs.size());
    for (size_t d = 0; d < input.docs.size(); ++d) {
      std::string where = absl::StrCat(input.path, ": document ", d + 1);
      YAML::Node node;
      try {
        node = YAML::Load(input.docs[d].separator.size() > 4 ? input.docs[d].separator.substr(3) + input.docs[d].body
                                                            : input.docs[d].body);
      } catch (const YAML::Exception& e) {
        err << where << ": not YAML: " << e.what() << "\n";
        ok = false;
        continue;
      }
      if (!node.IsMap()) continue;
      auto tree = yamlToJson(node);
      if (!tree.ok()) {
        err << where << ": " << tree.status().message() << "\n";
        ok = false;
        continue;
      }
      if (tree->value("kind", Json()) == "Namespace") {
        const Json metadata = tree->value("metadata", Json::object());
        if (metadata.is_object() && metadata.value("name", Json()).is_string()) {
          auto& labels = context.namespace_labels[metadata["name"].get<std::string>()];
          if (metadata.contains("labels") && metadata["labels"].is_object()) {
            for (const auto& [key, value] : metadata["labels"].items()) {
              if (value.is_string()) labels[key] = value.get<std::string>();
            }
          }
        }
      }
      input.trees[d] = *std::move(tree);
    }
  }
  if (!ok) {
    err << "trellis-inject k8s: nothing written\n";
    return 1;
  }

  for (auto& input : inputs) {
    for (size_t d = 0; d < input.docs.size(); ++d) {
      if (!input.trees[d]) continue;
      std::string where = absl::StrCat(input.path, ": document ", d + 1);
      bool changed = false;
      if (!injectObject(*input.trees[d], where, context, changed, err)) {
        ok = false;
        continue;
      }
      if (!changed) continue;
      if (hasComment(input.docs[d].body)) {
        err << where << " (" << describe(*input.trees[d])
            << "): re-emitted without its comments (yaml-cpp does not keep comments of a changed document)\n";
      }
      Document& doc = input.docs[d];
      // A separator carrying content ("--- {...}") keeps only its marker.
      if (doc.separator.size() > 4 && doc.separator.find_first_not_of(" \t\r\n", 3) != std::string::npos) {
        doc.separator = doc.separator.substr(0, 3) + "\n";
      }
      doc.body = jsonToYaml(*input.trees[d]);
      input.changed = true;
    }
  }
  if (!ok) {
    err << "trellis-inject k8s: nothing written\n";
    return 1;
  }

  if (in_place) {
    // Every new file is written beside its original first; only then are they renamed over
    // the originals, so a full disk leaves every input as it was.
    std::vector<std::pair<std::string, std::string>> staged;
    for (const auto& input : inputs) {
      if (!input.changed) continue;
      std::string temp = input.path + ".trellis-inject.tmp";
      std::ofstream file(temp, std::ios::binary | std::ios::trunc);
      file << joined(input);
      file.flush();
      staged.emplace_back(temp, input.path);
      if (!file) {
        err << input.path << ": cannot write " << temp << "; nothing written\n";
        for (const auto& [t, p] : staged) std::remove(t.c_str());
        return 1;
      }
    }
    for (const auto& [temp, path] : staged) {
      if (std::rename(temp.c_str(), path.c_str()) != 0) {
        err << path << ": cannot be replaced by " << temp << "\n";
        return 1;
      }
    }
    return 0;
  }
  std::string all;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string text = joined(inputs[i]);
    if (i > 0) {
      if (!all.empty() && all.back() != '\n') all += "\n";
      // Files are joined as documents of one stream.
      if (!absl::StartsWith(text, "---")) all += "---\n";
    }
    all += text;
  }
  if (!output.empty()) return writeAtomically(output, all, err) ? 0 : 1;
  out << all;
  out.flush();
  return out ? 0 : 1;
}

}  // namespace trellis::deploy
