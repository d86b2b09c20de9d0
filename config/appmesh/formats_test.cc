// The cross-format fixtures: testdata/formats/<mesh>/<format>/ holds the same mesh in each input
// format (cli, cloudformation, and whatever front-ends add later). Every format folder present
// must load and validate cleanly, and all formats of a mesh must translate to the same xDS
// resources. The folders are discovered, not listed, so a new format is checked as soon as its
// folder exists.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"
#include "google/protobuf/text_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace trellis::config::appmesh {
namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
using ::testing::IsEmpty;

constexpr char kFormats[] = "config/appmesh/testdata/formats";

// The fixtures' DNS: every hostname resolves to one address derived from its name, the same for
// every format.
Resolver fixedDns() {
  return [](const std::string& hostname) -> absl::StatusOr<std::vector<std::string>> {
    const size_t hash = std::hash<std::string>()(hostname);
    return std::vector<std::string>{absl::StrCat("10.0.", hash % 250, ".", 1 + hash / 250 % 250)};
  };
}

std::vector<std::string> subfolders(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

template <typename Message>
void append(std::string& out, const char* kind, const std::vector<Message>& messages) {
  for (const Message& message : messages) {
    std::string text;
    pb::TextFormat::Printer printer;
    printer.SetExpandAny(true);
    printer.PrintToString(message, &text);
    absl::StrAppend(&out, kind, " {\n", text, "}\n");
  }
}

// A translation message without the source it starts with ("mesh.yaml (document 6): " or
// "tcp.json (resource DbRoute): "), which differs between formats by design.
std::string withoutSource(const std::string& message) {
  static const RE2 kSource(R"(^\S+ \((?:document|resource) [^)]*\): )");
  std::string out = message;
  RE2::Replace(&out, kSource, "");
  return out;
}

// Everything translate() gives, as text by section: each proxy's resources, the errors and the
// warnings.
std::map<std::string, std::string> translation(const MeshSet& mesh) {
  TranslateResult result = translate(mesh, fixedDns());
  std::map<std::string, std::string> out;
  for (const auto& [key, proxy] : result.proxies) {
    std::string& text = out[absl::StrCat("proxy ", key)];
    append(text, "listener", proxy.listeners);
    append(text, "route", proxy.routes);
    append(text, "cluster", proxy.clusters);
    append(text, "endpoints", proxy.endpoints);
  }
  for (const std::string& error : result.errors) {
    absl::StrAppend(&out["errors"], withoutSource(error), "\n");
  }
  for (const std::string& warning : result.warnings) {
    absl::StrAppend(&out["warnings"], withoutSource(warning), "\n");
  }
  return out;
}

std::vector<std::string> keysOf(const std::map<std::string, std::string>& sections) {
  std::vector<std::string> keys;
  for (const auto& [key, text] : sections) keys.push_back(key);
  return keys;
}

TEST(Formats, EveryMeshHasItsFixtures) {
  const std::vector<std::string> meshes = subfolders(kFormats);
  EXPECT_THAT(meshes, ::testing::IsSupersetOf({"colorapp", "gateway", "tcp"}));
  for (const std::string& mesh : meshes) {
    EXPECT_THAT(subfolders(fs::path(kFormats) / mesh), ::testing::Not(IsEmpty())) << mesh;
  }
}

TEST(Formats, EveryFormatLoadsValidatesAndTranslatesAlike) {
  for (const std::string& mesh : subfolders(kFormats)) {
    std::map<std::string, std::map<std::string, std::string>> translations;  // by format
    for (const std::string& format : subfolders(fs::path(kFormats) / mesh)) {
      SCOPED_TRACE(absl::StrCat(mesh, "/", format));
      LoadResult loaded = loadMeshDirWithErrors((fs::path(kFormats) / mesh / format).string());
      EXPECT_THAT(loaded.errors, IsEmpty());
      std::vector<std::string> invalid;
      for (const ValidationError& e : validate(loaded.mesh)) invalid.push_back(e.toString());
      EXPECT_THAT(invalid, IsEmpty());
      EXPECT_FALSE(loaded.mesh.meshes.empty());
      translations[format] = translation(loaded.mesh);
      EXPECT_FALSE(translations[format].empty());
    }
    // Compared with the CLI input form where there is one, else with the first format.
    auto reference = translations.count("cli") ? translations.find("cli") : translations.begin();
    for (const auto& [format, sections] : translations) {
      SCOPED_TRACE(absl::StrCat(mesh, ": format ", format, " against ", reference->first));
      ASSERT_EQ(keysOf(sections), keysOf(reference->second));
      for (const auto& [key, text] : sections) {
        EXPECT_EQ(text, reference->second.at(key)) << key;
      }
    }
  }
}

}  // namespace
}  // namespace trellis::config::appmesh
