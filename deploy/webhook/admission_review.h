// The webhook's one decision: an AdmissionReview v1 request for a pod in, the AdmissionReview v1
// response out (same uid; allowed; a base64 JSON Patch when the pod is injected). Pure, so it is
// tested without TLS; the server (tls_server.h) only carries bytes.
#pragma once

#include <string>

#include "deploy/inject/pod_injection.h"

namespace trellis::deploy {

struct AdmissionAnswer {
  int http_status = 200;  // 400 for a body that is not an AdmissionReview v1 request
  std::string content_type = "application/json";
  std::string body;
};

// `namespace_mesh` is the mesh of the namespace when the webhook entry that called us selected
// namespaces by their `mesh` label (path /mutate/MESH), else empty. A pod that cannot be
// injected (a bad annotation, no virtual node) is denied with the reason; a pod that is not to
// be injected (opted out, injected already, not a CREATE of a pod) is allowed unchanged.
AdmissionAnswer reviewAdmission(const std::string& body, const std::string& namespace_mesh,
                                const InjectionSettings& settings);

}  // namespace trellis::deploy
