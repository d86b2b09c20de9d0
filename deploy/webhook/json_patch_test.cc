// The JSON Patch diff: the operations it chooses, the escaping of keys, and that applying the
// patch (nlohmann's RFC 6902 implementation, independent of ours) gives the new document.
#include "deploy/webhook/json_patch.h"

#include <gtest/gtest.h>

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;

void expectApplies(const Json& before, const Json& after) {
  Json patch = jsonPatchDiff(before, after);
  EXPECT_EQ(before.patch(patch), after) << patch.dump();
}

TEST(JsonPatch, EqualDocumentsGiveAnEmptyPatch) {
  Json doc = Json::parse(R"({"a": [1, 2], "b": {"c": null}})");
  EXPECT_EQ(jsonPatchDiff(doc, doc), Json::array());
}

TEST(JsonPatch, InsertionsIntoArraysAreAdds) {
  Json before = Json::parse(R"({"spec": {"initContainers": [{"name": "migrate"}], "containers": [{"name": "app"}]}})");
  Json after = Json::parse(
      R"({"spec": {"initContainers": [{"name": "trellis-init"}, {"name": "trellis-proxy"}, {"name": "migrate"}],
                   "containers": [{"name": "app"}, {"name": "x"}]}})");
  Json patch = jsonPatchDiff(before, after);
  ASSERT_EQ(patch.size(), 3u) << patch.dump();
  EXPECT_EQ(patch[0], Json::parse(R"({"op": "add", "path": "/spec/initContainers/0", "value": {"name": "trellis-init"}})"));
  EXPECT_EQ(patch[1]["path"], "/spec/initContainers/1");
  EXPECT_EQ(patch[2]["path"], "/spec/containers/1");
  expectApplies(before, after);
}

TEST(JsonPatch, NewKeysAreAddedAndMissingOnesRemoved) {
  Json before = Json::parse(R"({"spec": {"containers": [], "old": 1}})");
  Json after = Json::parse(R"({"spec": {"containers": [], "initContainers": [{"name": "i"}]}})");
  Json patch = jsonPatchDiff(before, after);
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_EQ(patch[0], Json::parse(R"({"op": "remove", "path": "/spec/old"})"));
  EXPECT_EQ(patch[1]["op"], "add");
  EXPECT_EQ(patch[1]["path"], "/spec/initContainers");
  expectApplies(before, after);
}

TEST(JsonPatch, KeysWithSlashAndTildeAreEscaped) {
  EXPECT_EQ(escapeJsonPointerToken("appmesh.k8s.aws/ports"), "appmesh.k8s.aws~1ports");
  EXPECT_EQ(escapeJsonPointerToken("a~/b"), "a~0~1b");
  Json before = Json::parse(R"({"metadata": {"annotations": {"x~y": "1"}}})");
  Json after = Json::parse(R"({"metadata": {"annotations": {"x~y": "2", "appmesh.k8s.aws/mesh": "m"}}})");
  Json patch = jsonPatchDiff(before, after);
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_EQ(patch[0]["path"], "/metadata/annotations/x~0y");
  EXPECT_EQ(patch[1]["path"], "/metadata/annotations/appmesh.k8s.aws~1mesh");
  expectApplies(before, after);
}

TEST(JsonPatch, OtherArrayChangesStillApply) {
  expectApplies(Json::parse("[1, 2, 3]"), Json::parse("[3, 1]"));         // shorter, reordered
  expectApplies(Json::parse("[1, 2, 3]"), Json::parse("[1, 5, 3]"));      // same length, one changed
  expectApplies(Json::parse("[1, 2]"), Json::parse("[0, 1, 9, 2, 4]"));   // several insertions
  expectApplies(Json::parse(R"({"a": [1]})"), Json::parse(R"({"a": "x"})"));  // type change
  expectApplies(Json::parse("[]"), Json::parse("[1, 2]"));
  expectApplies(Json::parse("[1, 2]"), Json::parse("[]"));
}

}  // namespace
}  // namespace trellis::deploy
