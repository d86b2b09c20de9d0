// Typed, path-tracking reads of YAML maps for the App Mesh loader (internal to
// //config/appmesh). Every wrong shape becomes an error message that names the document and the
// field path ("colorteller.yaml (document 2): spec.listeners[0].portMaping: unknown field
// (allowed: portMapping, ...)"); nothing here throws, and nothing stops at the first error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace trellis::config::appmesh::internal {

// The errors (and warnings) of one whole load, in the order found.
class Diagnostics {
 public:
  void add(std::string message) { errors_.push_back(std::move(message)); }
  void addWarning(std::string message) { warnings_.push_back(std::move(message)); }
  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string> take() { return std::move(errors_); }
  std::vector<std::string> takeWarnings() { return std::move(warnings_); }
  size_t size() const { return errors_.size(); }

 private:
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

// Kubernetes objects: an unknown field the object's CRD does not define was pruned by the API
// server, so it is a warning (an error when strict); one the CRD defines stays an error.
struct PruneRules {
  std::string kind;  // "VirtualNode": names the CRD in messages and picks its schema
  std::string root;  // the object's path in its document ("items[2]"), left out of schema paths
  bool strict = false;
  bool (*defines)(std::string_view kind, std::string_view path) = nullptr;
};

// One document being read: prefixes its errors with the document's label.
class DocContext {
 public:
  DocContext(std::string label, Diagnostics& diagnostics)
      : label_(std::move(label)), diagnostics_(&diagnostics) {}

  // "<label>: <path>: <message>", or "<label>: <message>" when path is empty.
  void error(std::string_view path, std::string_view message);
  // The same form as error(); does not count as an error (the document is kept).
  void warning(std::string_view path, std::string_view message);
  size_t errorCount() const { return count_; }
  const std::string& label() const { return label_; }

  void setPruning(PruneRules rules) { pruning_ = std::move(rules); }
  const std::optional<PruneRules>& pruning() const { return pruning_; }

 private:
  std::string label_;
  Diagnostics* diagnostics_;
  size_t count_ = 0;
  std::optional<PruneRules> pruning_;
};

// Debian's Abseil keeps its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW 0); these hand
// std::string_view over to absl::StrCat and friends.
inline absl::string_view av(std::string_view text) { return {text.data(), text.size()}; }
std::string joinViews(const std::vector<std::string_view>& items, std::string_view separator);

std::string joinPath(std::string_view parent, std::string_view key);  // "a.b" (or "b")
std::string indexPath(std::string_view parent, size_t index);         // "a[3]"
std::string describeNode(const YAML::Node& node);  // "\"text\"", "a list", "a map", "null"

enum class Need { kOptional, kRequired };

template <typename E>
using EnumTable = std::vector<std::pair<std::string_view, E>>;

// Scalar reads of a node at a known path (used for list items). Null and absent nodes report
// "required field missing".
std::optional<std::string> readString(const YAML::Node& node, const std::string& path,
                                      DocContext& doc);
std::optional<int64_t> readInt64(const YAML::Node& node, const std::string& path, DocContext& doc);

// A YAML map being read at `path`. Absent and null values count as not given.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string path, DocContext& doc);

  bool valid() const { return valid_; }  // the node was a map
  const std::string& path() const { return path_; }
  DocContext& doc() const { return *doc_; }
  std::string pathOf(std::string_view key) const { return joinPath(path_, key); }

  // Reports every key not in `allowed` as an unknown field, listing what is allowed. In a
  // Kubernetes object (DocContext::pruning), a key its CRD does not define is a warning instead.
  void allowOnly(const std::vector<std::string_view>& allowed);
  bool has(std::string_view key) const;
  YAML::Node raw(std::string_view key) const;
  void error(std::string_view key, std::string_view message) const;

  std::optional<std::string> str(std::string_view key, Need need = Need::kOptional);
  std::optional<int64_t> int64(std::string_view key, Need need = Need::kOptional);
  std::optional<bool> boolean(std::string_view key, Need need = Need::kOptional);
  std::optional<Fields> object(std::string_view key, Need need = Need::kOptional);
  std::optional<std::vector<std::string>> strings(std::string_view key,
                                                  Need need = Need::kOptional);

  // Calls each(item, itemPath) for every element of a list. Returns whether the list was given
  // (and was a list).
  bool list(std::string_view key, Need need,
            const std::function<void(const YAML::Node&, const std::string&)>& each);

  template <typename E>
  std::optional<E> oneOf(std::string_view key, const EnumTable<E>& table,
                         Need need = Need::kOptional) {
    std::optional<std::string> text = str(key, need);
    if (!text) return std::nullopt;
    for (const auto& [name, value] : table) {
      if (name == *text) return value;
    }
    std::vector<std::string_view> names;
    for (const auto& entry : table) names.push_back(entry.first);
    notAllowed(key, *text, names);
    return std::nullopt;
  }

  // For unions: the one key of `keys` that is given. Reports none (when required) or several.
  std::optional<std::string_view> exactlyOne(const std::vector<std::string_view>& keys,
                                             Need need = Need::kRequired);

 private:
  void notAllowed(std::string_view key, std::string_view value,
                  const std::vector<std::string_view>& allowed) const;

  YAML::Node node_;
  std::string path_;
  DocContext* doc_;
  bool valid_ = false;
};

// Wraps a list item that must be a map.
Fields itemFields(const YAML::Node& node, const std::string& path, DocContext& doc);

}  // namespace trellis::config::appmesh::internal
