// Typed, path-tracking reads of YAML maps: see yaml_reader.h.
#include "config/appmesh/yaml_reader.h"

#include "absl/strings/str_cat.h"
#include "config/appmesh/k8s_crd_schema.h"

namespace trellis::config::appmesh::internal {

namespace {

bool isGiven(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

// Quoted YAML/JSON scalars carry the non-specific tag "!"; plain ones carry "?".
bool isQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

}  // namespace

void DocContext::error(std::string_view path, std::string_view message) {
  ++count_;
  if (path.empty()) {
    diagnostics_->add(absl::StrCat(label_, ": ", av(message)));
  } else {
    diagnostics_->add(absl::StrCat(label_, ": ", av(path), ": ", av(message)));
  }
}

void DocContext::warning(std::string_view path, std::string_view message) {
  if (path.empty()) {
    diagnostics_->addWarning(absl::StrCat(label_, ": ", av(message)));
  } else {
    diagnostics_->addWarning(absl::StrCat(label_, ": ", av(path), ": ", av(message)));
  }
}

std::string joinViews(const std::vector<std::string_view>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(items[i]);
  }
  return out;
}

std::string joinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(av(parent), ".", av(key));
}

std::string indexPath(std::string_view parent, size_t index) {
  return absl::StrCat(av(parent), "[", index, "]");
}

std::string describeNode(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return absl::StrCat("\"", node.Scalar(), "\"");
}

std::optional<std::string> readString(const YAML::Node& node, const std::string& path,
                                      DocContext& doc) {
  if (!isGiven(node)) {
    doc.error(path, "required field missing");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    doc.error(path, absl::StrCat("expected a string, got ", describeNode(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> readInt64(const YAML::Node& node, const std::string& path, DocContext& doc) {
  if (!isGiven(node)) {
    doc.error(path, "required field missing");
    return std::nullopt;
  }
  long long value = 0;
  if (!node.IsScalar() || isQuoted(node) || !YAML::convert<long long>::decode(node, value)) {
    doc.error(path, absl::StrCat("expected an integer, got ", describeNode(node)));
    return std::nullopt;
  }
  return static_cast<int64_t>(value);
}

Fields::Fields(const YAML::Node& node, std::string path, DocContext& doc)
    : node_(node), path_(std::move(path)), doc_(&doc), valid_(node.IsDefined() && node.IsMap()) {
  if (!valid_) {
    doc.error(path_, absl::StrCat("expected a map, got ", describeNode(node)));
  }
}

Fields itemFields(const YAML::Node& node, const std::string& path, DocContext& doc) {
  return Fields(node, path, doc);
}

void Fields::allowOnly(const std::vector<std::string_view>& allowed) {
  if (!valid_) return;
  for (const auto& entry : node_) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    bool known = false;
    for (std::string_view name : allowed) {
      if (name == key) {
        known = true;
        break;
      }
    }
    if (!known && doc_->pruning() && doc_->pruning()->defines != nullptr) {
      const PruneRules& rules = *doc_->pruning();
      const std::string path = pathOf(key);
      if (!rules.defines(rules.kind, crdPathOf(rules.root, path))) {
        if (rules.strict) {
          doc_->error(path, absl::StrCat("not in the ", rules.kind,
                                         " CRD schema; the API server would prune it (an error with --strict)"));
        } else {
          doc_->warning(path, absl::StrCat("not in the ", rules.kind,
                                           " CRD schema; the API server would prune it (ignored)"));
        }
        continue;
      }
    }
    if (!known) {
      doc_->error(pathOf(key),
                  absl::StrCat("unknown field (allowed: ", joinViews(allowed, ", "), ")"));
    }
  }
}

bool Fields::has(std::string_view key) const {
  if (!valid_) return false;
  return isGiven(node_[std::string(key)]);
}

YAML::Node Fields::raw(std::string_view key) const {
  if (!valid_) return YAML::Node();
  return node_[std::string(key)];
}

void Fields::error(std::string_view key, std::string_view message) const {
  doc_->error(pathOf(key), message);
}

std::optional<std::string> Fields::str(std::string_view key, Need need) {
  if (!has(key)) {
    if (valid_ && need == Need::kRequired) error(key, "required field missing");
    return std::nullopt;
  }
  return readString(raw(key), pathOf(key), *doc_);
}

std::optional<int64_t> Fields::int64(std::string_view key, Need need) {
  if (!has(key)) {
    if (valid_ && need == Need::kRequired) error(key, "required field missing");
    return std::nullopt;
  }
  return readInt64(raw(key), pathOf(key), *doc_);
}

std::optional<bool> Fields::boolean(std::string_view key, Need need) {
  if (!has(key)) {
    if (valid_ && need == Need::kRequired) error(key, "required field missing");
    return std::nullopt;
  }
  const YAML::Node node = raw(key);
  bool value = false;
  if (!node.IsScalar() || isQuoted(node) || !YAML::convert<bool>::decode(node, value)) {
    error(key, absl::StrCat("expected true or false, got ", describeNode(node)));
    return std::nullopt;
  }
  return value;
}

std::optional<Fields> Fields::object(std::string_view key, Need need) {
  if (!has(key)) {
    if (valid_ && need == Need::kRequired) error(key, "required field missing");
    return std::nullopt;
  }
  Fields child(raw(key), pathOf(key), *doc_);
  if (!child.valid()) return std::nullopt;
  return child;
}

bool Fields::list(std::string_view key, Need need,
                  const std::function<void(const YAML::Node&, const std::string&)>& each) {
  if (!has(key)) {
    if (valid_ && need == Need::kRequired) error(key, "required field missing");
    return false;
  }
  const YAML::Node node = raw(key);
  if (!node.IsSequence()) {
    error(key, absl::StrCat("expected a list, got ", describeNode(node)));
    return false;
  }
  const std::string base = pathOf(key);
  for (size_t i = 0; i < node.size(); ++i) each(node[i], indexPath(base, i));
  return true;
}

std::optional<std::vector<std::string>> Fields::strings(std::string_view key, Need need) {
  std::vector<std::string> out;
  bool ok = true;
  const bool given = list(key, need, [&](const YAML::Node& item, const std::string& path) {
    std::optional<std::string> value = readString(item, path, *doc_);
    if (value) {
      out.push_back(*value);
    } else {
      ok = false;
    }
  });
  if (!given || !ok) return std::nullopt;
  return out;
}

std::optional<std::string_view> Fields::exactlyOne(const std::vector<std::string_view>& keys,
                                                   Need need) {
  if (!valid_) return std::nullopt;
  std::vector<std::string_view> present;
  for (std::string_view key : keys) {
    if (has(key)) present.push_back(key);
  }
  if (present.size() == 1) return present.front();
  if (present.empty()) {
    if (need == Need::kRequired) {
      doc_->error(path_, absl::StrCat("specify exactly one of: ", joinViews(keys, ", ")));
    }
    return std::nullopt;
  }
  doc_->error(path_, absl::StrCat("specify exactly one of: ", joinViews(keys, ", "),
                                  " (found: ", joinViews(present, ", "), ")"));
  return std::nullopt;
}

void Fields::notAllowed(std::string_view key, std::string_view value,
                        const std::vector<std::string_view>& allowed) const {
  error(key, absl::StrCat("\"", av(value), "\" is not allowed (allowed: ", joinViews(allowed, ", "),
                          ")"));
}

}  // namespace trellis::config::appmesh::internal
