// Reading the AdmissionReview, running the pod injection and writing the answer (see
// admission_review.h).
#include "deploy/webhook/admission_review.h"

#include <spdlog/spdlog.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "deploy/webhook/json_patch.h"

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;

AdmissionAnswer badRequest(const std::string& reason) {
  return AdmissionAnswer{400, "text/plain; charset=utf-8", absl::StrCat("bad AdmissionReview: ", reason, "\n")};
}

std::string stringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

AdmissionAnswer reviewAdmission(const std::string& body, const std::string& namespace_mesh,
                                const InjectionSettings& settings) {
  Json review = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (review.is_discarded()) return badRequest("the body is not JSON");
  if (!review.is_object()) return badRequest("the body must be a JSON object");
  if (stringField(review, "apiVersion") != "admission.k8s.io/v1") {
    return badRequest(absl::StrCat("apiVersion: \"", stringField(review, "apiVersion"),
                                   "\": must be admission.k8s.io/v1 (admissionReviewVersions: [v1])"));
  }
  if (stringField(review, "kind") != "AdmissionReview") {
    return badRequest(absl::StrCat("kind: \"", stringField(review, "kind"), "\": must be AdmissionReview"));
  }
  auto request_it = review.find("request");
  if (request_it == review.end() || !request_it->is_object()) return badRequest("request: required (an object)");
  const Json& request = *request_it;
  std::string uid = stringField(request, "uid");
  if (uid.empty()) return badRequest("request.uid: required (a non-empty string)");

  Json response;
  response["uid"] = uid;
  response["allowed"] = true;
  auto answer = [&]() {
    Json out;
    out["apiVersion"] = "admission.k8s.io/v1";
    out["kind"] = "AdmissionReview";
    out["response"] = response;
    return AdmissionAnswer{200, "application/json", out.dump()};
  };

  const Json kind = request.value("kind", Json::object());
  std::string operation = stringField(request, "operation");
  bool is_pod = kind.is_object() && stringField(kind, "kind") == "Pod" && stringField(kind, "group").empty();
  if (!is_pod || operation != "CREATE") {
    spdlog::info("uid {}: {} of {} is not a pod creation, allowed unchanged", uid, operation,
                 kind.is_object() ? stringField(kind, "kind") : "?");
    return answer();
  }
  auto object_it = request.find("object");
  if (object_it == request.end() || !object_it->is_object()) {
    return badRequest("request.object: required (the pod being created)");
  }
  const Json& pod = *object_it;
  Json metadata = pod.value("metadata", Json::object());
  auto spec_it = pod.find("spec");
  if (spec_it == pod.end()) return badRequest("request.object.spec: required (the pod spec)");

  NamespaceInfo ns;
  ns.name = stringField(request, "namespace");
  // The webhook's namespaceSelector already required appmesh.k8s.aws/sidecarInjectorWebhook:
  // enabled; the API server does not send the namespace's labels, only what the path says.
  ns.labels_known = false;
  if (!namespace_mesh.empty()) ns.labels["mesh"] = namespace_mesh;

  std::string pod_name = metadata.is_object() && !stringField(metadata, "name").empty()
                             ? stringField(metadata, "name")
                             : absl::StrCat(metadata.is_object() ? stringField(metadata, "generateName") : "", "*");
  auto result = injectPod(metadata, *spec_it, ns, settings);
  if (!result.ok()) {
    spdlog::warn("uid {}: pod {}/{} denied: {}", uid, ns.name, pod_name, std::string(result.status().message()));
    response["allowed"] = false;
    response["status"] = Json{{"code", 400},
                              {"message", absl::StrCat("trellis-webhook cannot inject the sidecar: ",
                                                       result.status().message())}};
    return answer();
  }
  if (!result->warnings.empty()) response["warnings"] = result->warnings;
  if (!result->injected) {
    spdlog::info("uid {}: pod {}/{} not injected: {}", uid, ns.name, pod_name, result->skip_reason);
    return answer();
  }
  Json after = pod;
  after["spec"] = result->pod_spec;
  Json patch = jsonPatchDiff(pod, after);
  response["patchType"] = "JSONPatch";
  response["patch"] = absl::Base64Escape(patch.dump());
  for (const auto& change : result->changes) spdlog::info("uid {}: pod {}/{}: {}", uid, ns.name, pod_name, change);
  return answer();
}

}  // namespace trellis::deploy
