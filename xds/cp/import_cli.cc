// Imports `aws appmesh` CLI scripts: see import_cli.h. Three steps: split the script into shell
// commands of words (quotes, backslash continuations, comments, here-documents, with each
// `$VAR` kept unexpanded); run the commands in order against a variable table (assignments) and a
// table of App Mesh resources (create adds, update replaces the spec, delete removes); print each
// remaining resource as CLI input JSON.
#include "xds/cp/import_cli.h"

#include <algorithm>
#include <cctype>
#include <list>
#include <utility>

#include "yaml-cpp/yaml.h"

namespace trellis::cp {

namespace {

// ------------------------------------------------------------------------------ shell words

// A piece of a word: literal text, a parameter expansion, or something not evaluated here.
struct WordPart {
  enum Kind { kLiteral, kVariable, kUnevaluable } kind = kLiteral;
  std::string text;  // literal text; variable name; the unevaluated text ("$(cat f)")
  bool hasDefault = false;
  bool defaultIfEmpty = false;  // ${VAR:-x} (also when empty) rather than ${VAR-x}
  std::string fallback;

  static WordPart of(Kind kind, std::string text) {
    WordPart part;
    part.kind = kind;
    part.text = std::move(text);
    return part;
  }
};

struct Word {
  std::vector<WordPart> parts;
  std::string raw;          // as written, for messages
  bool isOperator = false;  // a redirection: >, >>, <, 2>, <<
  bool quoted = false;      // had any quoting (for here-document delimiters)
};

struct Command {
  std::vector<Word> words;
  int line = 0;
  std::string heredoc;  // the body of a here-document given to this command
  bool heredocExpands = true;
};

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool isShellName(const std::string& text) {
  if (text.empty() || !isNameStart(text[0])) return false;
  return std::all_of(text.begin(), text.end(), isNameChar);
}

class Tokenizer {
 public:
  explicit Tokenizer(const std::string& text) : s_(text) {}

  std::vector<Command> run() {
    while (i_ < s_.size()) step();
    endCommand();
    return std::move(commands_);
  }

 private:
  void step() {
    const char c = s_[i_];
    if (c == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') {  // continuation
      i_ += 2;
      ++line_;
      return;
    }
    if (c == '\n') {
      ++i_;
      endCommand();
      ++line_;
      readHeredocBodies();
      return;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i_;
      endWord();
      return;
    }
    if (c == '#' && !inWord_) {
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      return;
    }
    if (c == ';' || c == '&' || c == '|') {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == c || (c == '|' && s_[i_] == '&'))) ++i_;
      endCommand();
      return;
    }
    if (c == '>' || c == '<') {
      std::string op;
      // "2>" and "2>>": a word of digits right before is the descriptor.
      if (inWord_ && word_.parts.size() == 1 && word_.parts[0].kind == WordPart::kLiteral &&
          !word_.quoted &&
          std::all_of(word_.raw.begin(), word_.raw.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
        op = word_.raw;
        word_ = Word();
        inWord_ = false;
      } else {
        endWord();
      }
      op += c;
      ++i_;
      while (i_ < s_.size() && (s_[i_] == '>' || s_[i_] == '<' || s_[i_] == '&' || s_[i_] == '-')) op += s_[i_++];
      Word opWord;
      opWord.isOperator = true;
      opWord.raw = op;
      opWord.parts.push_back(WordPart::of(WordPart::kLiteral, op));
      current_.words.push_back(std::move(opWord));
      if (op == "<<" || op == "<<-") expectHeredocDelimiter_ = true;
      return;
    }
    begin();
    if (c == '\'') {
      const size_t start = i_;
      ++i_;
      std::string text;
      while (i_ < s_.size() && s_[i_] != '\'') {
        if (s_[i_] == '\n') ++line_;
        text += s_[i_++];
      }
      ++i_;
      word_.quoted = true;
      literal(text);
      word_.raw += s_.substr(start, i_ - start);
      return;
    }
    if (c == '"') {
      const size_t start = i_;
      ++i_;
      word_.quoted = true;
      while (i_ < s_.size() && s_[i_] != '"') {
        const char d = s_[i_];
        if (d == '\\' && i_ + 1 < s_.size()) {
          const char e = s_[i_ + 1];
          if (e == '\n') {
            ++line_;
          } else if (e == '$' || e == '`' || e == '"' || e == '\\') {
            literal(std::string(1, e));
          } else {
            literal(std::string(1, d) + e);
          }
          i_ += 2;
          continue;
        }
        if (d == '$') {
          dollar();
          continue;
        }
        if (d == '`') {
          backquote();
          continue;
        }
        if (d == '\n') ++line_;
        literal(std::string(1, d));
        ++i_;
      }
      ++i_;
      word_.raw += s_.substr(start, std::min(i_, s_.size()) - start);
      return;
    }
    if (c == '\\' && i_ + 1 < s_.size()) {
      word_.quoted = true;
      literal(std::string(1, s_[i_ + 1]));
      word_.raw += s_.substr(i_, 2);
      i_ += 2;
      return;
    }
    if (c == '$') {
      const size_t start = i_;
      dollar();
      word_.raw += s_.substr(start, i_ - start);
      return;
    }
    if (c == '`') {
      const size_t start = i_;
      backquote();
      word_.raw += s_.substr(start, i_ - start);
      return;
    }
    literal(std::string(1, c));
    word_.raw += c;
    ++i_;
  }

  void begin() {
    if (!inWord_) {
      inWord_ = true;
      if (current_.words.empty()) current_.line = line_;
    }
  }

  void literal(const std::string& text) {
    if (!word_.parts.empty() && word_.parts.back().kind == WordPart::kLiteral) {
      word_.parts.back().text += text;
    } else {
      word_.parts.push_back(WordPart::of(WordPart::kLiteral, text));
    }
  }

  // $NAME, ${NAME}, ${NAME:-x}, ${NAME-x}; anything else is kept as not evaluable. Advances i_.
  void dollar() {
    const size_t start = i_;
    ++i_;
    if (i_ >= s_.size()) {
      literal("$");
      return;
    }
    const char c = s_[i_];
    if (c == '{') {
      const size_t close = s_.find('}', i_);
      if (close == std::string::npos) {
        i_ = s_.size();
        unevaluable(s_.substr(start));
        return;
      }
      const std::string inner = s_.substr(i_ + 1, close - i_ - 1);
      i_ = close + 1;
      size_t n = 0;
      while (n < inner.size() && isNameChar(inner[n])) ++n;
      const std::string name = inner.substr(0, n);
      if (!isShellName(name)) {
        unevaluable(s_.substr(start, i_ - start));
        return;
      }
      WordPart part = WordPart::of(WordPart::kVariable, name);
      const std::string rest = inner.substr(n);
      if (rest.rfind(":-", 0) == 0 || rest.rfind("-", 0) == 0) {
        part.hasDefault = true;
        part.defaultIfEmpty = rest[0] == ':';
        part.fallback = rest.substr(part.defaultIfEmpty ? 2 : 1);
        if (part.fallback.find_first_of("$`") != std::string::npos) {
          unevaluable(s_.substr(start, i_ - start));
          return;
        }
      } else if (!rest.empty()) {
        unevaluable(s_.substr(start, i_ - start));
        return;
      }
      word_.parts.push_back(std::move(part));
      return;
    }
    if (c == '(') {
      int depth = 0;
      while (i_ < s_.size()) {
        if (s_[i_] == '(') ++depth;
        if (s_[i_] == ')' && --depth == 0) break;
        if (s_[i_] == '\n') ++line_;
        ++i_;
      }
      i_ = std::min(i_ + 1, s_.size());
      unevaluable(s_.substr(start, i_ - start));
      return;
    }
    if (isNameStart(c)) {
      size_t end = i_;
      while (end < s_.size() && isNameChar(s_[end])) ++end;
      word_.parts.push_back(WordPart::of(WordPart::kVariable, s_.substr(i_, end - i_)));
      i_ = end;
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || std::string_view("@*#?$!-'").find(c) != std::string_view::npos) {
      ++i_;
      if (c == '\'') {  // $'...' (ANSI-C quoting)
        while (i_ < s_.size() && s_[i_] != '\'') ++i_;
        ++i_;
      }
      unevaluable(s_.substr(start, i_ - start));
      return;
    }
    literal("$");
  }

  void backquote() {
    const size_t start = i_++;
    while (i_ < s_.size() && s_[i_] != '`') {
      if (s_[i_] == '\n') ++line_;
      ++i_;
    }
    i_ = std::min(i_ + 1, s_.size());
    unevaluable(s_.substr(start, i_ - start));
  }

  void unevaluable(const std::string& text) { word_.parts.push_back(WordPart::of(WordPart::kUnevaluable, text)); }

  void endWord() {
    if (!inWord_) return;
    inWord_ = false;
    if (expectHeredocDelimiter_) {
      expectHeredocDelimiter_ = false;
      std::string delimiter;
      for (const WordPart& part : word_.parts) delimiter += part.text;
      pendingHeredocs_.push_back({delimiter, !word_.quoted, commands_.size()});
    }
    current_.words.push_back(std::move(word_));
    word_ = Word();
  }

  void endCommand() {
    endWord();
    if (!current_.words.empty()) commands_.push_back(std::move(current_));
    current_ = Command();
  }

  // After a newline: the bodies of the here-documents started on the line just ended.
  void readHeredocBodies() {
    for (const PendingHeredoc& pending : pendingHeredocs_) {
      std::string body;
      while (i_ < s_.size()) {
        size_t end = s_.find('\n', i_);
        if (end == std::string::npos) end = s_.size();
        std::string lineText = s_.substr(i_, end - i_);
        i_ = std::min(end + 1, s_.size());
        ++line_;
        std::string trimmed = lineText;
        trimmed.erase(0, trimmed.find_first_not_of('\t'));
        if (trimmed == pending.delimiter) break;
        body += lineText + "\n";
      }
      if (pending.command < commands_.size()) {
        commands_[pending.command].heredoc = body;
        commands_[pending.command].heredocExpands = pending.expands;
      }
    }
    pendingHeredocs_.clear();
  }

  struct PendingHeredoc {
    std::string delimiter;
    bool expands;
    size_t command;
  };

  const std::string s_;
  size_t i_ = 0;
  int line_ = 1;
  bool inWord_ = false;
  bool expectHeredocDelimiter_ = false;
  Word word_;
  Command current_;
  std::vector<Command> commands_;
  std::vector<PendingHeredoc> pendingHeredocs_;
};

// ------------------------------------------------------------------------------ JSON output

bool isJsonNumber(const std::string& text) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == text.size();
}

std::string jsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// YAML (parsed from JSON or YAML) back to JSON. Quoted scalars stay strings; plain ones that
// read as JSON numbers, true, false or null keep that type, as the loader reads them.
void writeJson(const YAML::Node& node, int indent, std::string& out) {
  const std::string pad(indent + 2, ' ');
  if (node.IsMap()) {
    if (node.size() == 0) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& entry : node) {
      if (!first) out += ",\n";
      first = false;
      out += pad + jsonString(entry.first.Scalar()) + ": ";
      writeJson(entry.second, indent + 2, out);
    }
    out += "\n" + std::string(indent, ' ') + "}";
  } else if (node.IsSequence()) {
    if (node.size() == 0) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad;
      writeJson(node[i], indent + 2, out);
    }
    out += "\n" + std::string(indent, ' ') + "]";
  } else if (!node.IsDefined() || node.IsNull()) {
    out += "null";
  } else {
    const std::string& text = node.Scalar();
    const bool plain = node.Tag() != "!";
    if (plain && (text == "true" || text == "false" || isJsonNumber(text))) {
      out += text;
    } else {
      out += jsonString(text);
    }
  }
}

// ------------------------------------------------------------------------------ App Mesh kinds

struct CliKind {
  std::string noun;       // "virtual-node" in create-virtual-node
  std::string fileKind;   // "virtualNode" in virtualNode-MESH-NAME.json
  std::string nameFlag;   // "--virtual-node-name" ("" for mesh)
  std::string nameKey;    // "virtualNodeName"
  std::string parentFlag; // "--virtual-router-name" for routes
  std::string parentKey;
  std::string parentNoun;  // "virtual-router"
};

const std::vector<CliKind>& cliKinds() {
  static const std::vector<CliKind> kKinds = {
      {"mesh", "mesh", "", "", "", "", ""},
      {"virtual-node", "virtualNode", "--virtual-node-name", "virtualNodeName", "", "", ""},
      {"virtual-service", "virtualService", "--virtual-service-name", "virtualServiceName", "", "", ""},
      {"virtual-router", "virtualRouter", "--virtual-router-name", "virtualRouterName", "", "", ""},
      {"route", "route", "--route-name", "routeName", "--virtual-router-name", "virtualRouterName",
       "virtual-router"},
      {"virtual-gateway", "virtualGateway", "--virtual-gateway-name", "virtualGatewayName", "", "", ""},
      {"gateway-route", "gatewayRoute", "--gateway-route-name", "gatewayRouteName",
       "--virtual-gateway-name", "virtualGatewayName", "virtual-gateway"},
  };
  return kKinds;
}

const CliKind* kindOfNoun(const std::string& noun) {
  for (const CliKind& kind : cliKinds()) {
    if (kind.noun == noun) return &kind;
  }
  return nullptr;
}

struct Resource {
  const CliKind* kind;
  std::string mesh, parent, name;
  YAML::Node document;  // the CLI input: meshName, name keys, spec, tags, meshOwner
  std::string created;  // "colorapp.sh:12"
  std::string origin;   // where the current spec comes from
};

// aws's global options that take a value, and those that do not.
const std::vector<std::string> kGlobalValueOptions = {
    "--region", "--profile", "--output", "--query", "--endpoint-url", "--color", "--ca-bundle",
    "--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format"};
const std::vector<std::string> kGlobalFlags = {"--debug", "--no-verify-ssl", "--no-paginate",
                                                "--no-cli-pager", "--no-sign-request", "--cli-auto-prompt",
                                                "--no-cli-auto-prompt"};

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// ------------------------------------------------------------------------------ the run

class Importer {
 public:
  Importer(const CliImportInput& input, CliImportResult& result) : input_(input), result_(result) {}

  void run() {
    // One shell for all scripts, as if each were sourced in turn: assignments carry over.
    for (const auto& [name, value] : input_.variables) variables_[name] = {value, ""};
    for (const CliScript& script : input_.scripts) {
      script_ = &script;
      for (Command& command : Tokenizer(script.text).run()) execute(command);
    }
    for (const Resource& resource : resources_) emit(resource);
  }

 private:
  struct Variable {
    std::string value;
    std::string unknown;  // why it has no value we know ("$(...) at line 3"); empty if it does
  };

  // "colorapp.sh:12: aws appmesh create-virtual-node: " + message.
  void fail(const Command& command, const std::string& what, const std::string& message) {
    std::string text = script_->name + ":" + std::to_string(command.line) + ": ";
    if (!what.empty()) text += what + ": ";
    result_.errors.push_back(text + message);
  }

  // The word's value, or nullopt after reporting why it has none.
  std::optional<std::string> evaluate(const Word& word, const Command& command, const std::string& what,
                                      const std::string& flag) {
    std::string out;
    const std::string prefix = flag.empty() ? "" : flag + ": ";
    for (const WordPart& part : word.parts) {
      if (part.kind == WordPart::kLiteral) {
        out += part.text;
        continue;
      }
      if (part.kind == WordPart::kUnevaluable) {
        const bool substitution = part.text.rfind("$(", 0) == 0 || part.text.rfind("`", 0) == 0;
        fail(command, what,
             prefix + "word " + word.raw + ": " + part.text +
                 (substitution ? " is a command substitution, which import-cli does not run"
                               : " is not an expansion import-cli evaluates (it takes $VAR, ${VAR}, "
                                 "${VAR:-default})") +
                 "; write the value in the script or give it with --set NAME=VALUE");
        return std::nullopt;
      }
      auto it = variables_.find(part.text);
      const bool set = it != variables_.end();
      if (set && !it->second.unknown.empty()) {
        fail(command, what,
             prefix + "word " + word.raw + ": $" + part.text + " has no known value (" + it->second.unknown +
                 "); give it with --set " + part.text + "=VALUE");
        return std::nullopt;
      }
      if (set && !(part.defaultIfEmpty && it->second.value.empty())) {
        out += it->second.value;
      } else if (part.hasDefault) {
        out += part.fallback;
      } else {
        fail(command, what,
             prefix + "word " + word.raw + ": $" + part.text + " is not set (assign it in the script, give --set " +
                 part.text + "=VALUE, or --from-env to read the environment)");
        return std::nullopt;
      }
    }
    return out;
  }

  // `NAME=value` (a whole word): applies it. Returns false if the word is not an assignment.
  bool assign(const Word& word, const Command& command) {
    if (word.parts.empty() || word.parts[0].kind != WordPart::kLiteral) return false;
    const std::string& first = word.parts[0].text;
    const size_t eq = first.find('=');
    if (eq == std::string::npos || !isShellName(first.substr(0, eq))) return false;
    const std::string name = first.substr(0, eq);
    Word value = word;
    value.parts[0].text = first.substr(eq + 1);
    // An expansion that cannot be evaluated is only an error where the variable is used.
    std::string unknown;
    std::string text;
    for (const WordPart& part : value.parts) {
      if (part.kind == WordPart::kLiteral) {
        text += part.text;
      } else if (part.kind == WordPart::kUnevaluable) {
        unknown = part.text + " at " + script_->name + ":" + std::to_string(command.line);
        runSubstitution(part.text, command);
      } else {
        auto it = variables_.find(part.text);
        if (it != variables_.end() && !it->second.unknown.empty()) {
          unknown = it->second.unknown;
        } else if (it != variables_.end() && !(part.defaultIfEmpty && it->second.value.empty())) {
          text += it->second.value;
        } else if (part.hasDefault) {
          text += part.fallback;
        } else {
          unknown = "$" + part.text + " was not set at " + script_->name + ":" + std::to_string(command.line);
        }
      }
    }
    variables_[name] = {unknown.empty() ? text : "", unknown};
    return true;
  }

  // X=$(aws appmesh create-mesh ... --query mesh.metadata.arn --output text): the walkthroughs
  // capture what a command prints; the command itself is still applied (its output stays unknown).
  void runSubstitution(const std::string& text, const Command& command) {
    if (text.rfind("$(", 0) != 0 || text.rfind("$((", 0) == 0 || text.size() < 3) return;
    for (Command& inner : Tokenizer(text.substr(2, text.size() - 3)).run()) {
      if (inner.words.empty() || literalOf(inner.words[0]) != "aws") continue;
      inner.line += command.line - 1;
      execute(inner);
    }
  }

  static bool isAssignment(const Word& word) {
    if (word.parts.empty() || word.parts[0].kind != WordPart::kLiteral) return false;
    const std::string& text = word.parts[0].text;
    const size_t eq = text.find('=');
    return eq != std::string::npos && isShellName(text.substr(0, eq));
  }

  static std::string literalOf(const Word& word) {
    if (word.parts.size() == 1 && word.parts[0].kind == WordPart::kLiteral) return word.parts[0].text;
    return "";
  }

  void execute(Command& command) {
    std::vector<Word> words;
    // Redirections (and their targets) are not arguments.
    std::string redirectTarget;
    for (size_t i = 0; i < command.words.size(); ++i) {
      if (command.words[i].isOperator) {
        const std::string op = command.words[i].raw;
        if (i + 1 < command.words.size() && (op == ">" || op == ">>")) redirectTarget = command.words[i + 1].raw;
        ++i;
        continue;
      }
      words.push_back(command.words[i]);
    }
    size_t start = 0;
    static const std::vector<std::string> kKeywords = {"then", "else", "do", "{", "!", "time", "command"};
    while (start < words.size() && contains(kKeywords, literalOf(words[start]))) ++start;
    const std::string head = start < words.size() ? literalOf(words[start]) : "";
    if (head == "export" || head == "readonly" || head == "declare" || head == "typeset" || head == "local") {
      for (size_t i = start + 1; i < words.size(); ++i) {
        if (assign(words[i], command)) ++result_.assignments;
      }
      return;
    }
    // Leading NAME=value words: alone they assign; before a command they only affect it.
    size_t first = start;
    while (first < words.size() && isAssignment(words[first])) ++first;
    if (first == words.size()) {
      for (size_t i = start; i < words.size(); ++i) {
        if (assign(words[i], command)) ++result_.assignments;
      }
      return;
    }
    if (first >= words.size()) return;
    const std::string name = literalOf(words[first]);
    if (name == "aws") {
      runAws(words, first + 1, command);
      return;
    }
    if (name == "cat" && !command.heredoc.empty() && !redirectTarget.empty()) {
      // cat > spec.json <<EOF ... EOF: the file a later file:// may name.
      std::string path = redirectTarget;
      Tokenizer inner(path);
      std::vector<Command> parsed = inner.run();
      std::optional<std::string> resolved;
      if (!parsed.empty() && !parsed[0].words.empty()) resolved = evaluate(parsed[0].words[0], command, "cat", "");
      if (!resolved) return;
      std::string body = command.heredoc;
      if (command.heredocExpands) {
        // The body expands like a double-quoted string.
        Tokenizer expand("\"" + escapeForDoubleQuotes(body) + "\"");
        std::vector<Command> expanded = expand.run();
        if (expanded.empty() || expanded[0].words.empty()) return;
        std::optional<std::string> text = evaluate(expanded[0].words[0], command, "cat <<EOF", "here-document");
        if (!text) return;
        body = *text;
      }
      written_[resolvePath(*resolved)] = body;
      ++result_.skipped["cat (here-document kept for file://)"];
      return;
    }
    ++result_.skipped[name.empty() ? words[first].raw : name];
  }

  static std::string escapeForDoubleQuotes(const std::string& text) {
    std::string out;
    for (const char c : text) {
      if (c == '"') out += '\\';
      out += c;
    }
    return out;
  }

  std::string resolvePath(const std::string& path) const {
    if (path.empty() || path[0] == '/' || script_->folder.empty()) return path;
    return script_->folder + "/" + path;
  }

  void runAws(const std::vector<Word>& words, size_t i, const Command& command) {
    // aws [global options] SERVICE OPERATION [options]
    std::string service;
    while (i < words.size()) {
      std::optional<std::string> word = evaluate(words[i], command, "aws", "");
      if (!word) return;
      ++i;
      if (contains(kGlobalValueOptions, *word)) {
        ++i;
        continue;
      }
      if (contains(kGlobalFlags, *word) || (word->rfind("--", 0) == 0 && word->find('=') != std::string::npos)) continue;
      service = *word;
      break;
    }
    if (service != "appmesh") {
      ++result_.skipped["aws " + (service.empty() ? std::string("(no service)") : service)];
      return;
    }
    if (i >= words.size()) {
      fail(command, "aws appmesh", "no operation given");
      return;
    }
    std::optional<std::string> operation = evaluate(words[i], command, "aws appmesh", "");
    if (!operation) return;
    const std::string what = "aws appmesh " + *operation;
    const size_t dash = operation->find('-');
    const std::string verb = operation->substr(0, dash);
    const CliKind* kind = dash == std::string::npos ? nullptr : kindOfNoun(operation->substr(dash + 1));
    if (verb == "describe" || verb == "list") {
      ++result_.readOnly;
      return;
    }
    if ((verb != "create" && verb != "update" && verb != "delete") || kind == nullptr) {
      std::vector<std::string> nouns;
      for (const CliKind& k : cliKinds()) nouns.push_back(k.noun);
      fail(command, what,
           "not an operation import-cli applies (it applies create-, update- and delete- of " + joinNames(nouns) +
               "; describe-* and list-* are skipped)");
      return;
    }
    runOperation(verb, *kind, words, i + 1, command, what);
  }

  // A --spec / --cli-input-json / --tags value: inline text or file://PATH.
  std::optional<YAML::Node> document(const std::string& value, const Command& command, const std::string& what,
                                     const std::string& flag, bool yaml) {
    std::string text = value;
    std::string from = "the inline value";
    for (const char* scheme : {"file://", "fileb://"}) {
      if (value.rfind(scheme, 0) != 0) continue;
      const std::string path = resolvePath(value.substr(std::string(scheme).size()));
      from = path;
      if (auto it = written_.find(path); it != written_.end()) {
        text = it->second;
      } else {
        std::string error;
        std::optional<std::string> content = input_.readFile ? input_.readFile(path, error) : std::nullopt;
        if (!content) {
          fail(command, what, flag + ": " + value + ": cannot read " + path + (error.empty() ? "" : ": " + error));
          return std::nullopt;
        }
        text = *content;
      }
    }
    const std::string trimmed = text.substr(std::min(text.find_first_not_of(" \t\r\n"), text.size()));
    if (!yaml && (trimmed.empty() || (trimmed[0] != '{' && trimmed[0] != '['))) {
      fail(command, what,
           flag + ": " + (from == "the inline value" ? "'" + value + "'" : from) +
               " is not JSON (the AWS CLI's shorthand syntax is not read; give JSON or file://PATH)");
      return std::nullopt;
    }
    try {
      return YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail(command, what,
           flag + ": " + (from == "the inline value" ? "the value" : from) + " is not valid " + (yaml ? "YAML" : "JSON") +
               " at line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) + ": " +
               e.msg);
      return std::nullopt;
    }
  }

  // --tags key=app,value=color key=x,value=y (shorthand), or JSON.
  std::optional<YAML::Node> tagsOf(const std::vector<std::string>& values, const Command& command,
                                   const std::string& what) {
    if (values.size() == 1 && (values[0].rfind("[", 0) == 0 || values[0].rfind("file://", 0) == 0)) {
      return document(values[0], command, what, "--tags", false);
    }
    YAML::Node tags(YAML::NodeType::Sequence);
    for (const std::string& value : values) {
      YAML::Node tag(YAML::NodeType::Map);
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        const std::string item = value.substr(pos, comma - pos);
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq);
        if (eq == std::string::npos || (key != "key" && key != "value")) {
          fail(command, what, "--tags: '" + value + "' is not key=KEY,value=VALUE (or give JSON: [{\"key\": ..., \"value\": ...}])");
          return std::nullopt;
        }
        YAML::Node text(item.substr(eq + 1));
        text.SetTag("!");
        tag[key] = text;
        pos = comma + 1;
      }
      tags.push_back(tag);
    }
    return tags;
  }

  static YAML::Node quoted(const std::string& text) {
    YAML::Node node(text);
    node.SetTag("!");
    return node;
  }

  void runOperation(const std::string& verb, const CliKind& kind, const std::vector<Word>& words, size_t i,
                    const Command& command, const std::string& what) {
    std::map<std::string, std::string> flags;  // flag -> value
    std::vector<std::string> tagWords;
    std::vector<std::string> allowed = {"--mesh-name", "--mesh-owner", "--cli-input-json", "--cli-input-yaml"};
    if (!kind.nameFlag.empty()) allowed.push_back(kind.nameFlag);
    if (!kind.parentFlag.empty()) allowed.push_back(kind.parentFlag);
    if (verb != "delete") allowed.insert(allowed.end(), {"--spec", "--client-token"});
    if (verb == "create") allowed.push_back("--tags");
    if (kind.noun == "mesh") allowed.erase(std::find(allowed.begin(), allowed.end(), "--mesh-owner"));
    while (i < words.size()) {
      std::optional<std::string> word = evaluate(words[i], command, what, "");
      if (!word) return;
      ++i;
      if (contains(kGlobalFlags, *word)) continue;
      std::string flag = *word;
      std::optional<std::string> inlineValue;
      if (const size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
        inlineValue = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
      }
      if (contains(kGlobalValueOptions, flag)) {
        if (!inlineValue) ++i;
        continue;
      }
      if (flag == "--generate-cli-skeleton") {
        fail(command, what, flag + ": prints a skeleton instead of applying the command; remove it");
        return;
      }
      if (!contains(allowed, flag)) {
        fail(command, what,
             (flag.rfind("--", 0) == 0 ? flag + ": unknown option" : "'" + flag + "': unexpected argument") +
                 " (allowed: " + joinNames(allowed) + ")");
        return;
      }
      if (flags.count(flag) || (flag == "--tags" && !tagWords.empty())) {
        fail(command, what, flag + ": given twice");
        return;
      }
      auto nextValue = [&]() -> std::optional<std::string> {
        if (inlineValue) return inlineValue;
        if (i >= words.size()) {
          fail(command, what, flag + ": needs a value");
          return std::nullopt;
        }
        return evaluate(words[i++], command, what, flag);
      };
      if (flag == "--tags") {
        std::optional<std::string> value = nextValue();
        if (!value) return;
        tagWords.push_back(*value);
        while (!inlineValue && i < words.size() && literalOf(words[i]).rfind("--", 0) != 0) {
          std::optional<std::string> more = evaluate(words[i++], command, what, flag);
          if (!more) return;
          tagWords.push_back(*more);
        }
        continue;
      }
      std::optional<std::string> value = nextValue();
      if (!value) return;
      flags[flag] = *value;
    }

    // --cli-input-json first; the command line's options override its keys, as in the AWS CLI.
    YAML::Node doc(YAML::NodeType::Map);
    for (const char* inputFlag : {"--cli-input-json", "--cli-input-yaml"}) {
      auto it = flags.find(inputFlag);
      if (it == flags.end()) continue;
      std::optional<YAML::Node> input =
          document(it->second, command, what, inputFlag, std::string(inputFlag) == "--cli-input-yaml");
      if (!input) return;
      if (!input->IsMap()) {
        fail(command, what, std::string(inputFlag) + ": expected a JSON object of the operation's input");
        return;
      }
      for (const auto& entry : *input) doc[entry.first.Scalar()] = entry.second;
    }
    auto setKey = [&](const std::string& flag, const std::string& key) {
      if (auto it = flags.find(flag); it != flags.end()) doc[key] = quoted(it->second);
    };
    setKey("--mesh-name", "meshName");
    if (!kind.nameFlag.empty()) setKey(kind.nameFlag, kind.nameKey);
    if (!kind.parentFlag.empty()) setKey(kind.parentFlag, kind.parentKey);
    setKey("--mesh-owner", "meshOwner");
    if (auto it = flags.find("--spec"); it != flags.end()) {
      std::optional<YAML::Node> spec = document(it->second, command, what, "--spec", false);
      if (!spec) return;
      if (!spec->IsMap()) {
        fail(command, what, "--spec: expected a JSON object, got " + it->second);
        return;
      }
      doc["spec"] = *spec;
    }
    if (!tagWords.empty()) {
      std::optional<YAML::Node> tags = tagsOf(tagWords, command, what);
      if (!tags) return;
      doc["tags"] = *tags;
    }
    if (doc["clientToken"]) doc.remove("clientToken");  // idempotency means nothing here

    auto required = [&](const std::string& key, const std::string& flag) -> std::optional<std::string> {
      const YAML::Node node = doc[key];
      if (!node.IsDefined() || !node.IsScalar() || node.Scalar().empty()) {
        fail(command, what, flag + " is required (or " + key + " in --cli-input-json)");
        return std::nullopt;
      }
      const std::string& name = node.Scalar();
      if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos || name == "." || name == "..") {
        fail(command, what, flag + ": '" + name + "' is not an App Mesh name");
        return std::nullopt;
      }
      return name;
    };
    std::optional<std::string> mesh = required("meshName", "--mesh-name");
    if (!mesh) return;
    std::string parent;
    std::string name = *mesh;
    if (!kind.parentFlag.empty()) {
      std::optional<std::string> p = required(kind.parentKey, kind.parentFlag);
      if (!p) return;
      parent = *p;
    }
    if (!kind.nameFlag.empty()) {
      std::optional<std::string> n = required(kind.nameKey, kind.nameFlag);
      if (!n) return;
      name = *n;
    }
    if (verb != "delete" && kind.noun != "mesh" && !doc["spec"]) {
      fail(command, what, "--spec is required (or spec in --cli-input-json)");
      return;
    }
    const std::string here = script_->name + ":" + std::to_string(command.line);
    auto found = std::find_if(resources_.begin(), resources_.end(), [&](const Resource& r) {
      return r.kind == &kind && r.mesh == *mesh && r.parent == parent && r.name == name;
    });
    const std::string label = describe(kind, *mesh, parent, name);
    if (verb == "create") {
      if (found != resources_.end()) {
        fail(command, what,
             label + " already exists (created at " + found->created +
                 "); App Mesh refuses a second create (ConflictException): use update-" + kind.noun);
        return;
      }
      if (!exists(cliKinds()[0], *mesh, "", *mesh) && kind.noun != "mesh") {
        fail(command, what, "mesh " + *mesh + " does not exist (no create-mesh --mesh-name " + *mesh + " before this line)");
        return;
      }
      if (!kind.parentNoun.empty() && !exists(*kindOfNoun(kind.parentNoun), *mesh, "", parent)) {
        fail(command, what,
             kind.parentNoun + " " + parent + " does not exist in mesh " + *mesh + " (no create-" + kind.parentNoun +
                 " before this line)");
        return;
      }
      resources_.push_back({&kind, *mesh, parent, name, doc, here, here});
      ++result_.creates;
      return;
    }
    if (found == resources_.end()) {
      fail(command, what,
           label + " does not exist (no create-" + kind.noun + " before this line); App Mesh answers NotFoundException");
      return;
    }
    if (verb == "update") {
      // update-* replaces the spec; tags stay those of create (App Mesh's tag-resource changes them).
      if (doc["spec"]) {
        found->document["spec"] = doc["spec"];
      } else {
        found->document.remove("spec");
      }
      found->origin = here;
      ++result_.updates;
      return;
    }
    // delete: App Mesh refuses to delete a resource others live in (ResourceInUseException).
    std::vector<std::string> inside;
    for (const Resource& r : resources_) {
      if (r.mesh != *mesh || &r == &*found) continue;
      if (kind.noun == "mesh" || (r.kind->parentNoun == kind.noun && r.parent == name)) {
        inside.push_back(describe(*r.kind, r.mesh, r.parent, r.name));
      }
    }
    if (!inside.empty()) {
      fail(command, what,
           label + " still holds " + joinNames(inside) + "; App Mesh refuses (ResourceInUseException): delete those first");
      return;
    }
    resources_.erase(found);
    ++result_.deletes;
  }

  bool exists(const CliKind& kind, const std::string& mesh, const std::string& parent, const std::string& name) const {
    return std::any_of(resources_.begin(), resources_.end(), [&](const Resource& r) {
      return r.kind->noun == kind.noun && r.mesh == mesh && r.parent == parent && r.name == name;
    });
  }

  static std::string describe(const CliKind& kind, const std::string& mesh, const std::string& parent,
                              const std::string& name) {
    if (kind.noun == "mesh") return "mesh " + mesh;
    std::string out = kind.noun + " " + name;
    if (!parent.empty()) out += " of " + kind.parentNoun + " " + parent;
    return out + " in mesh " + mesh;
  }

  void emit(const Resource& resource) {
    std::string name = resource.kind->fileKind + "-" + resource.mesh;
    if (!resource.parent.empty()) name += "-" + resource.parent;
    if (resource.kind->noun != "mesh") name += "-" + resource.name;
    name += ".json";
    // Keys in the order App Mesh documents them.
    YAML::Node ordered(YAML::NodeType::Map);
    std::vector<std::string> keys = {"meshName"};
    if (!resource.kind->parentKey.empty()) keys.push_back(resource.kind->parentKey);
    if (!resource.kind->nameKey.empty()) keys.push_back(resource.kind->nameKey);
    keys.insert(keys.end(), {"meshOwner", "spec", "tags"});
    for (const std::string& key : keys) {
      if (resource.document[key]) ordered[key] = resource.document[key];
    }
    for (const auto& entry : resource.document) {
      if (!contains(keys, entry.first.Scalar())) ordered[entry.first.Scalar()] = entry.second;
    }
    std::string content;
    writeJson(ordered, 0, content);
    result_.files.push_back({name, content + "\n", resource.origin});
  }

  const CliImportInput& input_;
  CliImportResult& result_;
  const CliScript* script_ = nullptr;
  std::map<std::string, Variable> variables_;
  // A list, not a vector: erasing from a vector assigns the later elements, and assigning a
  // YAML::Node rebinds the node it refers to (the documents would shift by one).
  std::list<Resource> resources_;
  std::map<std::string, std::string> written_;  // here-documents written with cat > PATH
};

}  // namespace

CliImportResult importCliScripts(const CliImportInput& input) {
  CliImportResult result;
  Importer(input, result).run();
  return result;
}

bool parseShellAssignment(const std::string& text, std::string& name, std::string& value) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || !isShellName(text.substr(0, eq))) return false;
  name = text.substr(0, eq);
  value = text.substr(eq + 1);
  return true;
}

}  // namespace trellis::cp
