// Evaluates the templates and expressions of Terraform's JSON syntax: see terraform_expressions.h.
// A recursive-descent reader over one interpolation's text; values are yaml-cpp nodes because
// that is what the front-end hands to the loader.
#include "config/appmesh/terraform_expressions.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace trellis::config::appmesh::terraform {

namespace {

// Debian's Abseil has its own string_view type; StrCat and friends take that one.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr std::string_view kSupported =
    "supported: references (var.NAME, local.NAME, count.index, TYPE.NAME.ATTRIBUTE), literals, "
    "\"...${...}...\" templates and the functions format, join, lower, upper";

std::string describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  if (node.IsNull()) return "null";
  return absl::StrCat("\"", node.Scalar(), "\"");
}

class ExpressionReader {
 public:
  ExpressionReader(std::string_view text, const ReferenceResolver& resolve)
      : text_(text), resolve_(resolve) {}

  absl::StatusOr<YAML::Node> readAll() {
    absl::StatusOr<YAML::Node> value = read();
    if (!value.ok()) return value;
    skipSpace();
    if (pos_ != text_.size()) {
      return unsupported(absl::StrCat("\"", av(text_.substr(pos_)), "\" after the value"));
    }
    return value;
  }

 private:
  absl::Status unsupported(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported expression syntax: ", av(what),
        " (operators, conditionals, for expressions and splats are not evaluated; ", av(kSupported),
        ")"));
  }

  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool peek(char c) {
    skipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  std::string identifier() {
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '_' || text_[pos_] == '-')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  absl::StatusOr<YAML::Node> read() {
    skipSpace();
    if (pos_ >= text_.size()) return unsupported("an empty expression");
    const char c = text_[pos_];
    if (c == '"') return stringLiteral();
    if (c == '(') {
      ++pos_;
      absl::StatusOr<YAML::Node> inner = read();
      if (!inner.ok()) return inner;
      if (!peek(')')) return unsupported("an unclosed \"(\"");
      ++pos_;
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && pos_ + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
      const size_t start = pos_++;
      while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                                     text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
        ++pos_;
      }
      return YAML::Node(std::string(text_.substr(start, pos_ - start)));
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      const std::string name = identifier();
      if (peek('(')) return call(name);
      if (name == "true" || name == "false") return YAML::Node(name);
      if (name == "null") return YAML::Node(YAML::NodeType::Null);
      return reference(name, start);
    }
    if (c == '[') return tuple();
    if (c == '{') return unsupported("object constructors inside \"${...}\"");
    return unsupported(absl::StrCat("\"", av(text_.substr(pos_)), "\""));
  }

  // [a, b, ...]: a list of values (join's argument).
  absl::StatusOr<YAML::Node> tuple() {
    ++pos_;  // "["
    YAML::Node list(YAML::NodeType::Sequence);
    if (peek(']')) {
      ++pos_;
      return list;
    }
    while (true) {
      absl::StatusOr<YAML::Node> item = read();
      if (!item.ok()) return item;
      list.push_back(*item);
      if (peek(',')) {
        ++pos_;
        if (peek(']')) break;  // a trailing comma
        continue;
      }
      if (peek(']')) break;
      return unsupported("an unclosed \"[\"");
    }
    ++pos_;  // "]"
    return list;
  }

  // A quoted string inside an interpolation: HCL escapes, and it is a template itself.
  absl::StatusOr<YAML::Node> stringLiteral() {
    ++pos_;  // the opening quote
    std::string raw;
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size()) {
        const char e = text_[pos_ + 1];
        pos_ += 2;
        switch (e) {
          case 'n': raw += '\n'; break;
          case 't': raw += '\t'; break;
          case 'r': raw += '\r'; break;
          case '"': raw += '"'; break;
          case '\\': raw += '\\'; break;
          default: return unsupported(absl::StrCat("the escape \\", std::string(1, e)));
        }
        continue;
      }
      if (c == '"' && depth == 0) {
        ++pos_;
        return evaluateTemplate(raw, resolve_);
      }
      if (c == '{' && pos_ > 0 && text_[pos_ - 1] == '$') ++depth;
      if (c == '}' && depth > 0) --depth;
      raw += c;
      ++pos_;
    }
    return unsupported("an unterminated string");
  }

  absl::StatusOr<YAML::Node> reference(std::string first, size_t start) {
    Reference ref;
    ref.steps.push_back({std::move(first), -1});
    while (pos_ < text_.size()) {
      if (text_[pos_] == '.') {
        ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '*') return unsupported("splat expressions (.*)");
        std::string name = identifier();
        if (name.empty()) return unsupported("a \".\" not followed by an attribute name");
        ref.steps.push_back({std::move(name), -1});
      } else if (text_[pos_] == '[') {
        ++pos_;
        skipSpace();
        if (pos_ < text_.size() && text_[pos_] == '*') return unsupported("splat expressions ([*])");
        absl::StatusOr<YAML::Node> key = read();
        if (!key.ok()) return key;
        if (!key->IsScalar()) return unsupported("an index that is not a number or a string");
        if (!peek(']')) return unsupported("an unclosed \"[\"");
        ++pos_;
        int index = 0;
        if (absl::SimpleAtoi(key->Scalar(), &index) && index >= 0) {
          ref.steps.push_back({"", index});
        } else {
          ref.steps.push_back({key->Scalar(), -1});  // a map key: local.ports["web"]
        }
      } else {
        break;
      }
    }
    ref.text = std::string(text_.substr(start, pos_ - start));
    return resolve_(ref);
  }

  absl::StatusOr<YAML::Node> call(const std::string& name) {
    ++pos_;  // "("
    std::vector<YAML::Node> args;
    if (!peek(')')) {
      while (true) {
        absl::StatusOr<YAML::Node> arg = read();
        if (!arg.ok()) return arg;
        args.push_back(*std::move(arg));
        if (peek(',')) {
          ++pos_;
          continue;
        }
        if (peek(')')) break;
        return unsupported(absl::StrCat("the arguments of ", name, "()"));
      }
    }
    ++pos_;  // ")"
    return apply(name, args);
  }

  static absl::StatusOr<std::string> scalarArg(const std::string& function, const YAML::Node& arg) {
    if (!arg.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat(function, "(): expected a string argument, got ", describe(arg)));
    }
    return arg.Scalar();
  }

  absl::StatusOr<YAML::Node> apply(const std::string& name, const std::vector<YAML::Node>& args) {
    if (name == "lower" || name == "upper") {
      if (args.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(name, "() takes 1 argument, got ", args.size()));
      }
      absl::StatusOr<std::string> s = scalarArg(name, args[0]);
      if (!s.ok()) return s.status();
      return YAML::Node(name == "lower" ? absl::AsciiStrToLower(*s) : absl::AsciiStrToUpper(*s));
    }
    if (name == "join") {
      if (args.size() < 2) {
        return absl::InvalidArgumentError("join() takes a separator and at least one list");
      }
      absl::StatusOr<std::string> separator = scalarArg(name, args[0]);
      if (!separator.ok()) return separator.status();
      std::vector<std::string> items;
      for (size_t i = 1; i < args.size(); ++i) {
        if (!args[i].IsSequence()) {
          return absl::InvalidArgumentError(
              absl::StrCat("join(): argument ", i + 1, " must be a list, got ", describe(args[i])));
        }
        for (const YAML::Node& item : args[i]) {
          absl::StatusOr<std::string> s = scalarArg(name, item);
          if (!s.ok()) return s.status();
          items.push_back(*s);
        }
      }
      return YAML::Node(absl::StrJoin(items, *separator));
    }
    if (name == "format") return format(args);
    return absl::InvalidArgumentError(absl::StrCat(
        "function ", name, "() is not supported (supported: format, join, lower, upper)"));
  }

  // format() with the verbs a name needs: %s, %d, %v and %%.
  static absl::StatusOr<YAML::Node> format(const std::vector<YAML::Node>& args) {
    if (args.empty()) return absl::InvalidArgumentError("format() needs a format string");
    absl::StatusOr<std::string> spec = scalarArg("format", args[0]);
    if (!spec.ok()) return spec.status();
    std::string out;
    size_t next = 1;
    for (size_t i = 0; i < spec->size(); ++i) {
      if ((*spec)[i] != '%') {
        out += (*spec)[i];
        continue;
      }
      if (i + 1 >= spec->size()) return absl::InvalidArgumentError("format(): a lone % at the end");
      const char verb = (*spec)[++i];
      if (verb == '%') {
        out += '%';
        continue;
      }
      if (verb != 's' && verb != 'd' && verb != 'v') {
        return absl::InvalidArgumentError(
            absl::StrCat("format(): the verb %", std::string(1, verb),
                         " is not supported (supported: %s, %d, %v, %%)"));
      }
      if (next >= args.size()) {
        return absl::InvalidArgumentError("format(): more verbs than arguments");
      }
      absl::StatusOr<std::string> s = scalarArg("format", args[next++]);
      if (!s.ok()) return s.status();
      if (verb == 'd') {
        int64_t n = 0;
        if (!absl::SimpleAtoi(*s, &n)) {
          return absl::InvalidArgumentError(absl::StrCat("format(): %d needs a whole number, got \"", *s, "\""));
        }
      }
      out += *s;
    }
    if (next != args.size()) return absl::InvalidArgumentError("format(): more arguments than verbs");
    return YAML::Node(out);
  }

  std::string_view text_;
  size_t pos_ = 0;
  const ReferenceResolver& resolve_;
};

// The end of the interpolation that starts at `open` ("${"): the index of its "}", skipping
// quoted strings and nested braces; npos when unterminated.
size_t interpolationEnd(std::string_view text, size_t open) {
  int depth = 0;
  bool inString = false;
  for (size_t i = open + 2; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth == 0) return i;
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

absl::StatusOr<YAML::Node> evaluateTemplate(std::string_view text, const ReferenceResolver& resolve) {
  std::string out;
  int interpolations = 0;
  bool literalParts = false;
  YAML::Node only;
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 3) == "$${" || text.substr(i, 3) == "%%{") {
      out += text.substr(i + 1, 2);
      literalParts = true;
      i += 3;
      continue;
    }
    if (text.substr(i, 2) == "%{") {
      return absl::InvalidArgumentError(
          absl::StrCat("template directives (%{...}) are not supported in \"", av(text), "\""));
    }
    if (text.substr(i, 2) == "${") {
      const size_t end = interpolationEnd(text, i);
      if (end == std::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("unterminated \"${\" in \"", av(text), "\""));
      }
      const std::string_view source = text.substr(i + 2, end - i - 2);
      absl::StatusOr<YAML::Node> value = ExpressionReader(source, resolve).readAll();
      if (!value.ok()) {
        return absl::Status(value.status().code(),
                            absl::StrCat("${", av(source), "}: ", value.status().message()));
      }
      ++interpolations;
      only.reset(*value);
      if (value->IsScalar()) {
        out += value->Scalar();
      } else if (!value->IsNull()) {
        out += '\x01';  // marks a non-string part; an error below unless it is the whole string
      }
      i = end + 1;
      continue;
    }
    out += text[i++];
    literalParts = true;
  }
  if (interpolations == 1 && !literalParts) return only;
  if (out.find('\x01') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", av(text), "\": a list or map cannot be part of a string"));
  }
  return YAML::Node(out);
}

}  // namespace trellis::config::appmesh::terraform
