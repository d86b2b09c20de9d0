// Walks the YAML tree with the target message's descriptor and writes the proto3 JSON form of the
// document, checking names, types and ranges on the way so that every error names its path; then
// protobuf's own JSON parser builds the message from that JSON.
#include "config/protoyaml/yaml_to_proto.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace trellis::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;

// Deeper documents are refused rather than risking the stack (protobuf's parser stops at 100 too).
constexpr int kMaxDepth = 100;
constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";
constexpr int64_t kMaxDurationSeconds = 315576000000;  // 10000 years, the proto3 limit.

#define TRELLIS_RETURN_IF_ERROR(expr)  \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (false)

std::string fieldPath(absl::string_view base, absl::string_view key) {
  return base.empty() ? std::string(key) : absl::StrCat(base, ".", key);
}

std::string indexPath(absl::string_view base, size_t index) {
  return absl::StrCat(base, "[", index, "]");
}

std::string keyPath(absl::string_view base, absl::string_view key) {
  return absl::StrCat(base, "[\"", absl::Utf8SafeCEscape(key), "\"]");
}

absl::Status error(absl::string_view path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(what);
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// How a node reads in an error: the quoted text of a scalar, otherwise its kind.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar: {
      std::string text = node.Scalar();
      if (text.size() > 80) text = text.substr(0, 77) + "...";
      return absl::StrCat("\"", absl::Utf8SafeCEscape(text), "\"");
    }
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Quoted scalars ('x', "x") and explicit !!str are strings whatever they look like.
bool isQuoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

void appendJsonString(std::string& out, absl::string_view text) {
  out.push_back('"');
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    switch (byte) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += absl::StrFormat("\\u%04x", byte);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

bool allDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

bool isIntegerText(absl::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) text.remove_prefix(1);
  return allDigits(text);
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool isJsonNumber(absl::string_view text) {
  size_t i = 0;
  auto digits = [&]() {
    const size_t start = i;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  const size_t int_start = i;
  const size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && text[int_start] == '0')) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

bool isWrapper(const Descriptor& type) {
  static const auto* names = new absl::flat_hash_set<std::string>{
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue",
  };
  return names->contains(type.full_name());
}

// Well-known types whose JSON form is not an object of their fields (inside an Any they appear
// as {"@type": ..., "value": <that form>}).
bool hasSpecialJson(const Descriptor& type) {
  const std::string& name = type.full_name();
  return isWrapper(type) || name == "google.protobuf.Duration" ||
         name == "google.protobuf.Timestamp" || name == "google.protobuf.FieldMask" ||
         name == "google.protobuf.Struct" || name == "google.protobuf.Value" ||
         name == "google.protobuf.ListValue" || name == "google.protobuf.Any";
}

bool isValueMessage(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         field.message_type()->full_name() == "google.protobuf.Value";
}

const FieldDescriptor* findField(const Descriptor& type, const std::string& key) {
  if (const FieldDescriptor* field = type.FindFieldByName(key)) return field;
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->json_name() == key) return type.field(i);
  }
  return nullptr;
}

size_t editDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The field name closest to a misspelt key, if one is close enough to be a likely typo.
std::string suggestField(const Descriptor& type, absl::string_view key) {
  if (key.size() < 4) return "";
  std::string best;
  size_t best_distance = 3;
  for (int i = 0; i < type.field_count(); ++i) {
    for (const std::string& name : {type.field(i)->name(), type.field(i)->json_name()}) {
      const size_t distance = editDistance(key, name);
      if (distance < best_distance) {
        best_distance = distance;
        best = name;
      }
    }
  }
  return best;
}

std::string oneofMembers(const OneofDescriptor& oneof) {
  std::vector<std::string> names;
  for (int i = 0; i < oneof.field_count(); ++i) {
    names.push_back(absl::StrCat("'", oneof.field(i)->name(), "'"));
  }
  return absl::StrJoin(names, ", ");
}

const char* integerTypeName(FieldDescriptor::CppType type) {
  switch (type) {
    case FieldDescriptor::CPPTYPE_INT32:
      return "int32";
    case FieldDescriptor::CPPTYPE_INT64:
      return "int64";
    case FieldDescriptor::CPPTYPE_UINT32:
      return "uint32";
    default:
      return "uint64";
  }
}

// Checks that `node` is an integer of `type` (given bare or as a string, as proto3 JSON allows)
// and stores its decimal form.
absl::Status readInteger(const YAML::Node& node, FieldDescriptor::CppType type,
                         const std::string& path, std::string& decimal) {
  const std::string text =
      node.IsScalar() ? std::string(absl::StripAsciiWhitespace(node.Scalar())) : "";
  if (!isIntegerText(text)) {
    return error(path, absl::StrCat("expected an integer, got ", describe(node)));
  }
  const bool is_signed =
      type == FieldDescriptor::CPPTYPE_INT32 || type == FieldDescriptor::CPPTYPE_INT64;
  const bool is_32 =
      type == FieldDescriptor::CPPTYPE_INT32 || type == FieldDescriptor::CPPTYPE_UINT32;
  auto out_of_range = [&]() {
    const std::string range = is_signed ? (is_32 ? "-2147483648 to 2147483647"
                                                 : "-9223372036854775808 to 9223372036854775807")
                                        : (is_32 ? "0 to 4294967295" : "0 to 18446744073709551615");
    return error(path, absl::StrCat("value ", text, " is out of range for ", integerTypeName(type),
                                    " (", range, ")"));
  };
  if (is_signed) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(text, &value)) return out_of_range();
    if (is_32 && (value < std::numeric_limits<int32_t>::min() ||
                  value > std::numeric_limits<int32_t>::max())) {
      return out_of_range();
    }
    decimal = absl::StrCat(value);
    return absl::OkStatus();
  }
  if (text[0] == '-') {
    if (text.find_first_not_of("0", 1) != std::string::npos) {
      return error(path, absl::StrCat("expected a non-negative integer, got ", describe(node)));
    }
    decimal = "0";
    return absl::OkStatus();
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) return out_of_range();
  if (is_32 && value > std::numeric_limits<uint32_t>::max()) return out_of_range();
  decimal = absl::StrCat(value);
  return absl::OkStatus();
}

class JsonWriter {
 public:
  explicit JsonWriter(const YamlToProtoOptions& options) : options_(options) {}

  const std::string& json() const { return out_; }

  absl::Status writeMessage(const YAML::Node& node, const Descriptor& type,
                            const std::string& path) {
    if (++depth_ > kMaxDepth) {
      return error(path, absl::StrCat("nested more than ", kMaxDepth, " levels deep"));
    }
    absl::Status status = writeMessageBody(node, type, path);
    --depth_;
    return status;
  }

 private:
  absl::Status writeMessageBody(const YAML::Node& node, const Descriptor& type,
                                const std::string& path) {
    const std::string& name = type.full_name();
    if (name == "google.protobuf.Duration") return writeDuration(node, path);
    if (name == "google.protobuf.Timestamp" || name == "google.protobuf.FieldMask") {
      if (!node.IsScalar()) {
        return error(path, absl::StrCat("expected a string (", name, "), got ", describe(node)));
      }
      appendJsonString(out_, node.Scalar());
      return absl::OkStatus();
    }
    if (isWrapper(type)) return writeSingular(node, *type.FindFieldByName("value"), path);
    if (name == "google.protobuf.Struct" && !node.IsMap()) {
      return error(path, absl::StrCat("expected a mapping, got ", describe(node)));
    }
    if (name == "google.protobuf.ListValue" && !node.IsSequence()) {
      return error(path, absl::StrCat("expected a list, got ", describe(node)));
    }
    if (name == "google.protobuf.Struct" || name == "google.protobuf.ListValue" ||
        name == "google.protobuf.Value") {
      return writeFreeForm(node, path);
    }
    if (name == "google.protobuf.Any") return writeAny(node, path);
    if (!node.IsMap()) {
      return error(path, absl::StrCat("expected a mapping (", name, "), got ", describe(node)));
    }
    out_.push_back('{');
    bool first = true;
    TRELLIS_RETURN_IF_ERROR(writeFields(node, type, path, first, /*inside_any=*/false));
    out_.push_back('}');
    return absl::OkStatus();
  }

  // The entries of `node` as fields of `type`, appended to an already opened JSON object.
  absl::Status writeFields(const YAML::Node& node, const Descriptor& type, const std::string& path,
                           bool& first, bool inside_any) {
    absl::flat_hash_map<int, std::string> seen;        // field number -> key as written
    absl::flat_hash_map<int, std::string> oneofs_set;  // oneof index -> key as written
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return error(path,
                     absl::StrCat("expected field names as keys, got ", describe(entry.first)));
      }
      const std::string& key = entry.first.Scalar();
      if (inside_any && key == "@type") continue;
      const std::string child_path = fieldPath(path, key);
      const FieldDescriptor* field = findField(type, key);
      if (field == nullptr) {
        if (key == "@type") {
          return error(child_path, absl::StrCat("\"@type\" belongs in a google.protobuf.Any, and ",
                                                type.full_name(), " is not one"));
        }
        std::string what =
            absl::StrCat("unknown field (", type.full_name(), " has no field '", key, "'");
        const std::string suggestion = suggestField(type, key);
        if (!suggestion.empty()) absl::StrAppend(&what, "; did you mean '", suggestion, "'?");
        what.push_back(')');
        return error(child_path, what);
      }
      const auto [previous, fresh] = seen.emplace(field->number(), key);
      if (!fresh) {
        return error(child_path, absl::StrCat("field given twice (as '", previous->second,
                                              "' and '", key, "')"));
      }
      const YAML::Node& value = entry.second;
      // null means "not set", as in proto3 JSON; only a singular google.protobuf.Value keeps it.
      if (value.IsNull() && (field->is_repeated() || !isValueMessage(*field))) continue;
      if (const OneofDescriptor* oneof = field->real_containing_oneof()) {
        const auto [set, first_member] = oneofs_set.emplace(oneof->index(), key);
        if (!first_member) {
          return error(child_path,
                       absl::StrCat("only one of ", oneofMembers(*oneof), " may be set (oneof '",
                                    oneof->name(), "'), and '", set->second, "' is already set"));
        }
      }
      if (!first) out_.push_back(',');
      first = false;
      appendJsonString(out_, field->name());
      out_.push_back(':');
      TRELLIS_RETURN_IF_ERROR(writeField(value, *field, child_path));
    }
    return absl::OkStatus();
  }

  absl::Status writeField(const YAML::Node& node, const FieldDescriptor& field,
                          const std::string& path) {
    if (field.is_map()) return writeMap(node, field, path);
    if (!field.is_repeated()) return writeSingular(node, field, path);
    if (!node.IsSequence()) {
      return error(path, absl::StrCat("expected a list, got ", describe(node)));
    }
    out_.push_back('[');
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out_.push_back(',');
      TRELLIS_RETURN_IF_ERROR(writeSingular(node[i], field, indexPath(path, i)));
    }
    out_.push_back(']');
    return absl::OkStatus();
  }

  absl::Status writeMap(const YAML::Node& node, const FieldDescriptor& field,
                        const std::string& path) {
    if (!node.IsMap()) return error(path, absl::StrCat("expected a mapping, got ", describe(node)));
    const FieldDescriptor& key_field = *field.message_type()->map_key();
    const FieldDescriptor& value_field = *field.message_type()->map_value();
    absl::flat_hash_set<std::string> keys;
    out_.push_back('{');
    bool first = true;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return error(path, absl::StrCat("expected scalar keys, got ", describe(entry.first)));
      }
      const std::string entry_path = keyPath(path, entry.first.Scalar());
      std::string key = entry.first.Scalar();
      switch (key_field.cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          if (key != "true" && key != "false") {
            return error(entry_path, absl::StrCat("expected true or false as the key, got ",
                                                  describe(entry.first)));
          }
          break;
        default:
          TRELLIS_RETURN_IF_ERROR(readInteger(entry.first, key_field.cpp_type(), entry_path, key));
      }
      if (!keys.insert(key).second) return error(entry_path, "key given twice");
      if (!first) out_.push_back(',');
      first = false;
      appendJsonString(out_, key);
      out_.push_back(':');
      TRELLIS_RETURN_IF_ERROR(writeSingular(entry.second, value_field, entry_path));
    }
    out_.push_back('}');
    return absl::OkStatus();
  }

  // One value of `field` (one element if the field is repeated).
  absl::Status writeSingular(const YAML::Node& node, const FieldDescriptor& field,
                             const std::string& path) {
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64: {
        std::string decimal;
        TRELLIS_RETURN_IF_ERROR(readInteger(node, field.cpp_type(), path, decimal));
        // 64-bit values travel as strings so no JSON reader rounds them through a double.
        if (field.cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
            field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
          appendJsonString(out_, decimal);
        } else {
          out_ += decimal;
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        return writeFloat(node, field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT, path);
      case FieldDescriptor::CPPTYPE_BOOL:
        return writeBool(node, path);
      case FieldDescriptor::CPPTYPE_ENUM:
        return writeEnum(node, *field.enum_type(), path);
      case FieldDescriptor::CPPTYPE_STRING:
        if (!node.IsScalar()) {
          return error(path, absl::StrCat("expected a string, got ", describe(node)));
        }
        if (field.type() == FieldDescriptor::TYPE_BYTES) {
          std::string decoded;
          if (!absl::Base64Unescape(node.Scalar(), &decoded) &&
              !absl::WebSafeBase64Unescape(node.Scalar(), &decoded)) {
            return error(path, absl::StrCat("expected base64-encoded bytes, got ", describe(node)));
          }
        }
        appendJsonString(out_, node.Scalar());
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return writeMessage(node, *field.message_type(), path);
    }
    return error(path, "unsupported field type");
  }

  absl::Status writeFloat(const YAML::Node& node, bool is_float, const std::string& path) {
    const std::string text =
        node.IsScalar() ? std::string(absl::StripAsciiWhitespace(node.Scalar())) : "";
    const std::string lower = absl::AsciiStrToLower(text);
    if (lower == ".inf" || lower == "+.inf" || lower == "infinity" || lower == "inf") {
      appendJsonString(out_, "Infinity");
      return absl::OkStatus();
    }
    if (lower == "-.inf" || lower == "-infinity" || lower == "-inf") {
      appendJsonString(out_, "-Infinity");
      return absl::OkStatus();
    }
    if (lower == ".nan" || lower == "nan") {
      appendJsonString(out_, "NaN");
      return absl::OkStatus();
    }
    double value = 0;
    const bool numeric = !text.empty() &&
                         text.find_first_not_of("0123456789+-.eE") == std::string::npos &&
                         absl::SimpleAtod(text, &value) && std::isfinite(value);
    if (!numeric) return error(path, absl::StrCat("expected a number, got ", describe(node)));
    if (is_float && std::fabs(value) > FLT_MAX) {
      return error(path, absl::StrCat("value ", text, " is out of range for float"));
    }
    out_ += absl::StrFormat("%.17g", value);
    return absl::OkStatus();
  }

  absl::Status writeBool(const YAML::Node& node, const std::string& path) {
    const std::string text = node.IsScalar() ? node.Scalar() : "";
    if (text == "true" || text == "True" || text == "TRUE") {
      out_ += "true";
    } else if (text == "false" || text == "False" || text == "FALSE") {
      out_ += "false";
    } else {
      return error(path, absl::StrCat("expected true or false, got ", describe(node)));
    }
    return absl::OkStatus();
  }

  absl::Status writeEnum(const YAML::Node& node, const EnumDescriptor& type,
                         const std::string& path) {
    const google::protobuf::EnumValueDescriptor* value = nullptr;
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      value = type.FindValueByName(text);
      int64_t number = 0;
      if (value == nullptr && isIntegerText(text) && absl::SimpleAtoi(text, &number) &&
          number >= std::numeric_limits<int32_t>::min() &&
          number <= std::numeric_limits<int32_t>::max()) {
        value = type.FindValueByNumber(static_cast<int>(number));
      }
    }
    if (value == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < type.value_count(); ++i) names.push_back(type.value(i)->name());
      return error(path, absl::StrCat("unknown value ", describe(node), " for ", type.full_name(),
                                      " (allowed: ", absl::StrJoin(names, ", "), ")"));
    }
    appendJsonString(out_, value->name());
    return absl::OkStatus();
  }

  // "<seconds>[.<up to 9 digits>]s", optionally negative: proto3 JSON's only duration form.
  absl::Status writeDuration(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      return error(path, absl::StrCat("expected a duration such as \"5s\" or \"0.25s\", got ",
                                      describe(node)));
    }
    const std::string text = std::string(absl::StripAsciiWhitespace(node.Scalar()));
    absl::string_view rest = text;
    if (!rest.empty() && rest[0] == '-') rest.remove_prefix(1);
    const bool has_suffix = !rest.empty() && rest.back() == 's';
    if (has_suffix) rest.remove_suffix(1);
    const size_t dot = rest.find('.');
    const absl::string_view seconds = rest.substr(0, dot);
    const absl::string_view fraction =
        dot == absl::string_view::npos ? absl::string_view() : rest.substr(dot + 1);
    if (!has_suffix || !allDigits(seconds) ||
        (dot != absl::string_view::npos && (!allDigits(fraction) || fraction.size() > 9))) {
      return error(path, absl::StrCat("invalid duration ", describe(node),
                                      " (expected seconds with an 's' suffix and at most 9 "
                                      "decimals, e.g. \"5s\", \"0.5s\" or \"1.5s\")"));
    }
    int64_t whole = 0;
    if (seconds.size() > 12 || !absl::SimpleAtoi(seconds, &whole) || whole > kMaxDurationSeconds) {
      return error(path, absl::StrCat("duration ", describe(node), " is out of range (at most ",
                                      kMaxDurationSeconds, "s)"));
    }
    appendJsonString(out_, text);
    return absl::OkStatus();
  }

  // {"@type": "type.googleapis.com/<name>", <fields of name>}.
  absl::Status writeAny(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap()) {
      return error(path,
                   absl::StrCat("expected a mapping with \"@type\" (google.protobuf.Any), got ",
                                describe(node)));
    }
    std::string type_url;
    bool found = false;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar() || entry.first.Scalar() != "@type") continue;
      if (!entry.second.IsScalar()) {
        return error(fieldPath(path, "@type"),
                     absl::StrCat("expected a type URL, got ", describe(entry.second)));
      }
      type_url = entry.second.Scalar();
      found = true;
    }
    if (!found) {
      return error(path,
                   "missing \"@type\" (the embedded message's type URL, e.g. "
                   "\"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\")");
    }
    const size_t slash = type_url.rfind('/');
    if (slash == std::string::npos || slash + 1 == type_url.size()) {
      return error(fieldPath(path, "@type"),
                   absl::StrCat("invalid type URL \"", type_url,
                                "\" (expected type.googleapis.com/<full message name>)"));
    }
    const std::string name = type_url.substr(slash + 1);
    const Descriptor* type = nullptr;
    if (options_.any_types.empty()) {
      type = DescriptorPool::generated_pool()->FindMessageTypeByName(name);
      if (type == nullptr) {
        return error(path, absl::StrCat("unknown type \"", type_url,
                                        "\" (no message type of that name is linked into this "
                                        "program)"));
      }
    } else {
      std::vector<std::string> supported;
      for (const Descriptor* candidate : options_.any_types) {
        if (candidate->full_name() == name) type = candidate;
        supported.push_back(absl::StrCat(kTypeUrlPrefix, candidate->full_name()));
      }
      if (type == nullptr) {
        return error(path, absl::StrCat("unknown type \"", type_url,
                                        "\" (supported: ", absl::StrJoin(supported, ", "), ")"));
      }
    }
    out_ += "{\"@type\":";
    appendJsonString(out_, absl::StrCat(kTypeUrlPrefix, name));
    if (!hasSpecialJson(*type)) {
      bool first = false;
      TRELLIS_RETURN_IF_ERROR(writeFields(node, *type, path, first, /*inside_any=*/true));
    } else {
      // A well-known type keeps its own JSON form under "value".
      for (const auto& entry : node) {
        const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
        if (key == "@type") continue;
        if (key != "value") {
          return error(fieldPath(path, key), absl::StrCat("unknown field (an Any holding ", name,
                                                          " has only \"@type\" and \"value\")"));
        }
        out_ += ",\"value\":";
        TRELLIS_RETURN_IF_ERROR(writeMessage(entry.second, *type, fieldPath(path, "value")));
      }
    }
    out_.push_back('}');
    return absl::OkStatus();
  }

  // Struct, Value and ListValue: YAML maps, lists and scalars become JSON objects, arrays, and
  // numbers, booleans, nulls or strings as YAML reads them (quoted scalars stay strings).
  absl::Status writeFreeForm(const YAML::Node& node, const std::string& path) {
    if (++depth_ > kMaxDepth) {
      return error(path, absl::StrCat("nested more than ", kMaxDepth, " levels deep"));
    }
    absl::Status status = writeFreeFormBody(node, path);
    --depth_;
    return status;
  }

  absl::Status writeFreeFormBody(const YAML::Node& node, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out_ += "null";
        return absl::OkStatus();
      case YAML::NodeType::Scalar: {
        const std::string& text = node.Scalar();
        if (!isQuoted(node)) {
          if (text == "true" || text == "True" || text == "TRUE") {
            out_ += "true";
            return absl::OkStatus();
          }
          if (text == "false" || text == "False" || text == "FALSE") {
            out_ += "false";
            return absl::OkStatus();
          }
          if (isJsonNumber(text)) {
            out_ += text;
            return absl::OkStatus();
          }
        }
        appendJsonString(out_, text);
        return absl::OkStatus();
      }
      case YAML::NodeType::Sequence:
        out_.push_back('[');
        for (size_t i = 0; i < node.size(); ++i) {
          if (i > 0) out_.push_back(',');
          TRELLIS_RETURN_IF_ERROR(writeFreeForm(node[i], indexPath(path, i)));
        }
        out_.push_back(']');
        return absl::OkStatus();
      case YAML::NodeType::Map: {
        absl::flat_hash_set<std::string> keys;
        out_.push_back('{');
        bool first = true;
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            return error(path, absl::StrCat("expected scalar keys, got ", describe(entry.first)));
          }
          const std::string& key = entry.first.Scalar();
          const std::string entry_path = fieldPath(path, key);
          if (!keys.insert(key).second) return error(entry_path, "key given twice");
          if (!first) out_.push_back(',');
          first = false;
          appendJsonString(out_, key);
          out_.push_back(':');
          TRELLIS_RETURN_IF_ERROR(writeFreeForm(entry.second, entry_path));
        }
        out_.push_back('}');
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  const YamlToProtoOptions& options_;
  std::string out_;
  int depth_ = 0;
};

}  // namespace

absl::Status yamlToProto(const YAML::Node& node, google::protobuf::Message& out,
                         std::string_view path_prefix, const YamlToProtoOptions& options) {
  out.Clear();
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  const std::string prefix(path_prefix);
  JsonWriter writer(options);
  absl::Status status;
  try {
    status = writer.writeMessage(node, *out.GetDescriptor(), prefix);
  } catch (const YAML::Exception& e) {
    status = error(prefix, absl::StrCat("unreadable YAML: ", e.what()));
  }
  if (!status.ok()) return status;
  google::protobuf::util::JsonParseOptions parse_options;
  parse_options.ignore_unknown_fields = false;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(writer.json(), &out, parse_options);
  if (!parsed.ok()) {
    out.Clear();
    return error(prefix, absl::StrCat("cannot build ", out.GetDescriptor()->full_name(), ": ",
                                      std::string(parsed.message())));
  }
  return absl::OkStatus();
}

}  // namespace trellis::config
