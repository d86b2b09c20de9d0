// The YAML <-> JSON tree conversion (see yaml_json.h).
#include "deploy/inject/yaml_json.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;

std::optional<Json> plainScalarValue(const std::string& text) {
  static const std::set<std::string> kNull = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
  static const std::set<std::string> kFalse = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
  if (kNull.count(text)) return Json(nullptr);
  if (kTrue.count(text)) return Json(true);
  if (kFalse.count(text)) return Json(false);
  std::string digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits = digits.substr(1);
  }
  auto all = [](const std::string& s, const char* set) { return !s.empty() && s.find_first_not_of(set) == std::string::npos; };
  int base = 0;
  std::string body;
  if (digits.size() > 2 && (digits.rfind("0x", 0) == 0 || digits.rfind("0X", 0) == 0) && all(digits.substr(2), "0123456789abcdefABCDEF")) {
    base = 16;
    body = digits.substr(2);
  } else if (digits.size() > 2 && digits.rfind("0o", 0) == 0 && all(digits.substr(2), "01234567")) {
    base = 8;
    body = digits.substr(2);
  } else if (digits.size() > 1 && digits[0] == '0' && all(digits, "01234567")) {
    base = 8;
    body = digits.substr(1);
  } else if (all(digits, "0123456789")) {
    base = 10;
    body = digits;
  }
  if (base != 0) {
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(body.c_str(), &end, base);
    if (errno == 0 && end != nullptr && *end == '\0') return Json(negative ? -value : value);
    return Json(text);  // out of range: keep the text
  }
  static const std::set<std::string> kSpecial = {".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", ".NaN", ".NAN"};
  if (kSpecial.count(text)) return Json(text);  // JSON cannot hold them; no Kubernetes field takes them
  // A float: digits with a dot and/or an exponent.
  bool has_digit = false, dot = false, exponent = false;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      has_digit = true;
    } else if (c == '.' && !dot && !exponent) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && has_digit && !exponent) {
      exponent = true;
      if (i + 1 < text.size() && (text[i + 1] == '-' || text[i + 1] == '+')) ++i;
      if (i + 1 >= text.size()) return Json(text);
    } else {
      return Json(text);
    }
  }
  if (has_digit && (dot || exponent)) {
    double value = 0;
    if (absl::SimpleAtod(text, &value) && std::isfinite(value)) return Json(value);
  }
  return Json(text);
}

absl::StatusOr<Json> convert(const YAML::Node& node, const std::string& path) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json(nullptr);
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      const std::string& text = node.Scalar();
      if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:binary") return Json(text);
      std::optional<Json> value = plainScalarValue(text);
      if (tag == "?" || tag.empty()) return *value;
      if (tag == "tag:yaml.org,2002:int" && value->is_number_integer()) return *value;
      if (tag == "tag:yaml.org,2002:float" && value->is_number()) return Json(value->get<double>());
      if (tag == "tag:yaml.org,2002:bool" && value->is_boolean()) return *value;
      if (tag == "tag:yaml.org,2002:null" && value->is_null()) return *value;
      return absl::InvalidArgumentError(
          absl::StrCat(path.empty() ? "(document)" : path, ": tag ", tag, " on \"", text, "\" is not supported"));
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        auto item = convert(node[i], absl::StrCat(path, "[", i, "]"));
        if (!item.ok()) return item.status();
        out.push_back(*std::move(item));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(path.empty() ? "(document)" : path, ": a key must be a scalar"));
        }
        std::string key = entry.first.Scalar();
        std::string child = path.empty() ? key : absl::StrCat(path, ".", key);
        if (out.contains(key)) return absl::InvalidArgumentError(absl::StrCat(child, ": key given twice"));
        auto value = convert(entry.second, child);
        if (!value.ok()) return value.status();
        out[key] = *std::move(value);
      }
      return out;
    }
  }
  return Json(nullptr);
}

// A string that a plain scalar would not give back (another type, or YAML syntax) is quoted.
bool needsQuotes(const std::string& text) {
  std::optional<Json> read_back = plainScalarValue(text);
  if (!read_back->is_string() || read_back->get<std::string>() != text) return true;
  if (text.front() == ' ' || text.back() == ' ') return true;
  static const std::string kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(text.front()) != std::string::npos) return true;
  if (text.find(": ") != std::string::npos || text.find(" #") != std::string::npos || text.back() == ':') return true;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

void emit(YAML::Emitter& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, child] : value.items()) {
        out << YAML::Key;
        if (key.empty() || needsQuotes(key)) {
          out << YAML::DoubleQuoted << key;
        } else {
          out << key;
        }
        out << YAML::Value;
        emit(out, child);
      }
      out << YAML::EndMap;
      return;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& child : value) emit(out, child);
      out << YAML::EndSeq;
      return;
    case Json::value_t::string: {
      const std::string& text = value.get_ref<const std::string&>();
      bool multiline = text.find('\n') != std::string::npos;
      bool printable = true;
      for (unsigned char c : text) {
        if ((c < 0x20 && c != '\n') || c == 0x7f) printable = false;
      }
      // A literal block keeps the text as is when it ends with exactly one newline (yaml-cpp
      // writes no chomping indicator).
      bool one_final_newline = text.size() >= 2 && text.back() == '\n' && text[text.size() - 2] != '\n';
      if (multiline && printable && one_final_newline && text.front() != ' ' && text.find(" \n") == std::string::npos) {
        out << YAML::Literal << text;
      } else if (text.empty() || needsQuotes(text)) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      return;
    }
    case Json::value_t::null:
      out << YAML::Null;
      return;
    case Json::value_t::boolean:
      out << value.get<bool>();
      return;
    default:
      out << value.dump();  // numbers, in JSON's notation (which YAML reads back the same)
      return;
  }
}

}  // namespace

absl::StatusOr<Json> yamlToJson(const YAML::Node& node) { return convert(node, ""); }

std::string jsonToYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += "\n";
  return text;
}

}  // namespace trellis::deploy
