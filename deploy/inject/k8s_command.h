// `trellis-inject k8s FILE... [--image IMAGE] [--init-image IMAGE] [--cp-address HOST:PORT]
//  [--mode native|plain] [--mesh NAME] [--virtual-node-map FILE] [-o OUT | --in-place]`:
// adds trellis-init and the trellis-proxy sidecar to the pod templates of Kubernetes manifests
// (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs,
// CronJobs, and the items of a List), with the same rules as the webhook (pod_injection.h).
// Documents it does not change are written back byte for byte; a changed one is re-emitted
// from its tree with its keys in order, but without its comments (yaml-cpp does not keep them;
// said on stderr). Errors name the file, the document, its kind/name and the field, and nothing
// is written unless every input was processed.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace trellis::deploy {

// `args` are the arguments after `k8s`. Output goes to `out` unless -o or --in-place; messages
// to `err`. Returns 0 (done), 1 (an input could not be processed; nothing written), 2 (usage).
int runK8sCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace trellis::deploy
