// The AdmissionReview answer without the network: uid echoed, patch present exactly when the pod
// is injected, denials with reasons, and 400 for bodies that are not AdmissionReview v1 requests.
#include "deploy/webhook/admission_review.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

Json review(Json annotations, std::string kind = "Pod", std::string operation = "CREATE") {
  return Json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
                {"kind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
                {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                {"namespace", "shop"},
                {"operation", operation},
                {"object",
                 {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"generateName", "front-"}, {"namespace", "shop"}, {"annotations", annotations}}},
                  {"spec", {{"containers", {{{"name", "app"}, {"image", "front:1"}}}}}}}}}}};
}

InjectionSettings settings() {
  InjectionSettings s;
  s.default_mesh = "colorapp";
  return s;
}

Json responseOf(const AdmissionAnswer& answer) {
  EXPECT_EQ(answer.http_status, 200) << answer.body;
  Json out = Json::parse(answer.body);
  EXPECT_EQ(out["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(out["kind"], "AdmissionReview");
  EXPECT_EQ(out["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  return out["response"];
}

TEST(AdmissionReview, InjectedPodGetsABase64JsonPatch) {
  Json request = review({{"appmesh.k8s.aws/virtualNode", "front"}});
  Json response = responseOf(reviewAdmission(request.dump(), "", settings()));
  EXPECT_EQ(response["allowed"], true);
  ASSERT_EQ(response["patchType"], "JSONPatch");
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(response["patch"].get<std::string>(), &decoded));
  Json pod = request["request"]["object"].patch(Json::parse(decoded));
  ASSERT_EQ(pod["spec"]["initContainers"].size(), 2u);
  EXPECT_EQ(pod["spec"]["initContainers"][1]["env"][0]["value"], "mesh/colorapp/virtualNode/front");
}

TEST(AdmissionReview, MeshFromThePathIsTheNamespaceMesh) {
  Json request = review({{"appmesh.k8s.aws/virtualNode", "front"}});
  Json response = responseOf(reviewAdmission(request.dump(), "shopmesh", settings()));
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(response["patch"].get<std::string>(), &decoded));
  EXPECT_THAT(decoded, HasSubstr("mesh/shopmesh/virtualNode/front"));
}

TEST(AdmissionReview, OptedOutPodIsAllowedWithoutPatch) {
  Json request = review({{"appmesh.k8s.aws/sidecarInjectorWebhook", "disabled"}});
  Json response = responseOf(reviewAdmission(request.dump(), "", settings()));
  EXPECT_EQ(response["allowed"], true);
  EXPECT_FALSE(response.contains("patch"));
  EXPECT_FALSE(response.contains("patchType"));
}

TEST(AdmissionReview, NotAPodCreationIsAllowedUnchanged) {
  for (const auto& [kind, operation] : {std::pair{"Pod", "UPDATE"}, std::pair{"Deployment", "CREATE"}}) {
    Json response = responseOf(reviewAdmission(review({{"appmesh.k8s.aws/virtualNode", "front"}}, kind, operation).dump(), "", settings()));
    EXPECT_EQ(response["allowed"], true);
    EXPECT_FALSE(response.contains("patch"));
  }
}

TEST(AdmissionReview, PodThatCannotBeInjectedIsDeniedWithTheReason) {
  Json request = review({{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/ports", "http"}});
  Json response = responseOf(reviewAdmission(request.dump(), "", settings()));
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 400);
  EXPECT_THAT(response["status"]["message"].get<std::string>(), HasSubstr("appmesh.k8s.aws/ports"));
}

TEST(AdmissionReview, WarningsReachTheUser) {
  Json request = review({{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/preview", "1"}});
  Json response = responseOf(reviewAdmission(request.dump(), "", settings()));
  ASSERT_TRUE(response.contains("warnings"));
  EXPECT_THAT(response["warnings"][0].get<std::string>(), HasSubstr("preview"));
}

TEST(AdmissionReview, MalformedReviewsAre400WithTheReason) {
  Json no_uid = review(Json::object());
  no_uid["request"].erase("uid");
  Json v1beta1 = review(Json::object());
  v1beta1["apiVersion"] = "admission.k8s.io/v1beta1";
  Json no_object = review(Json::object());
  no_object["request"].erase("object");
  const std::pair<std::string, std::string> cases[] = {
      {"{", "not JSON"},
      {"[1]", "must be a JSON object"},
      {v1beta1.dump(), "must be admission.k8s.io/v1"},
      {R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"})", "request: required"},
      {no_uid.dump(), "request.uid: required"},
      {no_object.dump(), "request.object: required"},
  };
  for (const auto& [body, reason] : cases) {
    AdmissionAnswer answer = reviewAdmission(body, "", settings());
    EXPECT_EQ(answer.http_status, 400) << body;
    EXPECT_THAT(answer.body, HasSubstr(reason)) << body;
  }
}

// Odd shapes anywhere in the pod: a 200 with a denial or a 400, never an exception (the server
// would answer 500).
TEST(AdmissionReview, OddShapesAreAnsweredNeverThrown) {
  std::vector<std::pair<std::string, Json>> edits = {
      {"/request/object/spec/containers", "app"},
      {"/request/object/spec/containers", Json::array({"app"})},
      {"/request/object/spec/containers", Json::array({Json{{"name", 3}}})},
      {"/request/object/spec/containers/0/ports", "80"},
      {"/request/object/spec/containers/0/ports", Json::array({80})},
      {"/request/object/spec/initContainers", Json::object()},
      {"/request/object/spec", Json::array()},
      {"/request/object/metadata", Json::array()},
      {"/request/object/metadata/labels", 7},
      {"/request/object/metadata/annotations", Json::array()},
      {"/request/object/metadata/annotations/appmesh.k8s.aws~1ports", 80},
      {"/request/kind", "Pod"},
      {"/request/operation", 5},
      {"/request/namespace", Json::object()},
      {"/request/object", "pod"},
      {"/request/uid", 12},
  };
  for (const auto& [pointer, value] : edits) {
    Json request = review({{"appmesh.k8s.aws/virtualNode", "front"}});
    request[Json::json_pointer(pointer)] = value;
    AdmissionAnswer answer;
    ASSERT_NO_THROW(answer = reviewAdmission(request.dump(), "", settings())) << pointer;
    EXPECT_TRUE(answer.http_status == 200 || answer.http_status == 400) << pointer << ": " << answer.http_status;
    if (answer.http_status == 200) {
      Json response = Json::parse(answer.body)["response"];
      // A pod shape the injector cannot read is denied, not patched.
      EXPECT_FALSE(response.value("allowed", true) && response.contains("patch") &&
                   pointer.rfind("/request/object/spec", 0) == 0)
          << pointer << ": " << answer.body;
    }
  }
}

}  // namespace
}  // namespace trellis::deploy
