#!/usr/bin/env python3
"""trellis-webhook end to end: the real binary on port 0 with a certificate made by
make-webhook-cert in the test's temp dir, real AdmissionReview v1 documents (testdata/, in the
shape the API server sends) POSTed with curl over verified HTTPS, the patch decoded and applied
with a small RFC 6902 applier, the resulting pod checked. Also: a malformed review gets 400, an
opted-out pod is allowed without a patch, a wrong CA is refused, and SIGHUP switches to a new
certificate. The webhook is stopped at the end whatever happens.

usage: webhook_https_test.py TRELLIS_WEBHOOK MAKE_WEBHOOK_CERT TESTDATA_DIR
"""
import base64
import copy
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)


def pointer_tokens(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError("JSON Pointer must start with /: %r" % path)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply_patch(doc, ops):
    """RFC 6902 add, remove and replace (what the webhook may emit); anything else fails."""
    doc = copy.deepcopy(doc)
    for op in ops:
        tokens = pointer_tokens(op["path"])
        if not tokens:
            if op["op"] not in ("add", "replace"):
                raise ValueError("cannot %s the root" % op["op"])
            doc = copy.deepcopy(op["value"])
            continue
        parent = doc
        for t in tokens[:-1]:
            parent = parent[int(t)] if isinstance(parent, list) else parent[t]
        last = tokens[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op["op"] == "add":
                if index > len(parent):
                    raise ValueError("add beyond the end: %s" % op["path"])
                parent.insert(index, copy.deepcopy(op["value"]))
            elif op["op"] == "remove":
                del parent[index]
            elif op["op"] == "replace":
                parent[index] = copy.deepcopy(op["value"])
            else:
                raise ValueError("unexpected op %s" % op["op"])
        else:
            if op["op"] in ("remove", "replace") and last not in parent:
                raise ValueError("%s of a missing member: %s" % (op["op"], op["path"]))
            if op["op"] == "remove":
                del parent[last]
            elif op["op"] in ("add", "replace"):
                parent[last] = copy.deepcopy(op["value"])
            else:
                raise ValueError("unexpected op %s" % op["op"])
    return doc


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def main():
    webhook, make_cert, testdata = sys.argv[1:4]
    tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    certs = os.path.join(tmp, "certs")
    subprocess.run([make_cert, "--extra-san", "IP:127.0.0.1", certs], check=True)
    old_ca = os.path.join(tmp, "old-ca.crt")
    with open(os.path.join(certs, "ca.crt"), "rb") as src, open(old_ca, "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(certs, "webhook.yaml")) as f:
        filled = f.read()
    with open(os.path.join(certs, "ca.crt"), "rb") as f:
        bundle = base64.b64encode(f.read()).decode()
    check(filled.count("caBundle: " + bundle) == 2 and "TRELLIS_WEBHOOK_CA_BUNDLE" not in filled,
          "make-webhook-cert filled both caBundle fields of webhook.yaml with its CA")

    node_map = os.path.join(tmp, "virtual-node-map.yaml")
    with open(node_map, "w") as f:
        f.write("- selector: {app: colorteller, version: red}\n  virtualNode: colorteller-red\n  mesh: color-mesh\n")

    proc = subprocess.Popen(
        [webhook, "--tls-cert", os.path.join(certs, "tls.crt"), "--tls-key", os.path.join(certs, "tls.key"),
         "--listen", "127.0.0.1:0", "--port-file", os.path.join(tmp, "port"), "--virtual-node-map", node_map, "--image", "trellis/trellis-proxy:test"],
        stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stdout:  # blocks until the webhook says where it listens (or exits)
            sys.stdout.write("webhook| " + line)
            if "listening on" in line:
                port = int(line.rsplit(":", 1)[1])
                break
        if port is None:
            check(False, "trellis-webhook started (exit %s)" % proc.wait())
            return
        base = "https://127.0.0.1:%d" % port
        with open(os.path.join(tmp, "port")) as f:  # written before the line was printed
            check(int(f.read()) == port, "--port-file holds the port the webhook printed")

        def curl(path, data=None, ca=None, method="POST"):
            cmd = ["curl", "-sS", "--max-time", "10", "--cacert", ca or os.path.join(certs, "ca.crt"),
                   "-w", "\n%{http_code}", "-X", method, base + path]
            if data is not None:
                cmd += ["-H", "Content-Type: application/json", "--data-binary", data]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                return run.returncode, None, run.stderr
            body, _, code = run.stdout.rpartition("\n")
            return 0, int(code), body

        def review(name, path="/mutate"):
            with open(os.path.join(testdata, name)) as f:
                request = json.load(f)
            rc, code, body = curl(path, "@" + os.path.join(testdata, name))
            check(rc == 0 and code == 200, "%s: HTTP 200 (curl %s, HTTP %s, %s)" % (name, rc, code, body[:200]))
            if code != 200:
                return request, None
            answer = json.loads(body)
            check(answer.get("apiVersion") == "admission.k8s.io/v1" and answer.get("kind") == "AdmissionReview",
                  "%s: the answer is an AdmissionReview v1" % name)
            check(answer["response"]["uid"] == request["request"]["uid"], "%s: the answer carries the request's uid" % name)
            return request, answer["response"]

        rc, code, body = curl("/healthz", method="GET")
        check(code == 200 and body.strip() == "ok", "GET /healthz answers 200 ok")

        # An annotated pod, in a namespace whose webhook entry names the mesh in the path.
        request, response = review("pod_annotated.json", "/mutate/color-mesh")
        if response:
            check(response["allowed"] is True and response.get("patchType") == "JSONPatch", "annotated pod: allowed with a JSONPatch")
            ops = json.loads(base64.b64decode(response["patch"]))
            check(all(op["path"].startswith("/spec/initContainers") for op in ops),
                  "annotated pod: the patch only touches spec.initContainers (%s)" % [o["path"] for o in ops])
            before = request["request"]["object"]
            pod = apply_patch(before, ops)
            inits = pod["spec"]["initContainers"]
            check([c["name"] for c in inits] == ["trellis-init", "trellis-proxy", "migrate"],
                  "annotated pod: trellis-init, then the native sidecar, then the pod's own init container")
            init_env, proxy_env = env_of(inits[0]), env_of(inits[1])
            check(init_env.get("APPMESH_APP_PORTS") == "8080" and init_env.get("APPMESH_EGRESS_IGNORED_PORTS") == "5432",
                  "annotated pod: trellis-init captures port 8080 and ignores egress 5432 (%s)" % init_env)
            check(inits[0]["securityContext"]["capabilities"]["add"] == ["NET_ADMIN", "NET_RAW"],
                  "annotated pod: trellis-init has NET_ADMIN and NET_RAW")
            check(proxy_env.get("APPMESH_VIRTUAL_NODE_NAME") == "mesh/color-mesh/virtualNode/front",
                  "annotated pod: the sidecar is mesh/color-mesh/virtualNode/front (%s)" % proxy_env.get("APPMESH_VIRTUAL_NODE_NAME"))
            check(inits[1]["image"] == "trellis/trellis-proxy:test" and inits[1].get("restartPolicy") == "Always"
                  and inits[1]["securityContext"]["runAsUser"] == 1337,
                  "annotated pod: the sidecar runs --image as UID 1337 with restartPolicy Always")
            untouched = copy.deepcopy(pod)
            untouched["spec"]["initContainers"] = untouched["spec"]["initContainers"][2:]
            check(untouched == before, "annotated pod: nothing else of the pod changed")

        # No annotation: the virtual node map gives node and mesh.
        request, response = review("pod_by_labels.json")
        if response and response.get("patch"):
            pod = apply_patch(request["request"]["object"], json.loads(base64.b64decode(response["patch"])))
            proxy = [c for c in pod["spec"]["initContainers"] if c["name"] == "trellis-proxy"]
            check(len(proxy) == 1 and env_of(proxy[0]).get("APPMESH_VIRTUAL_NODE_NAME") ==
                  "mesh/color-mesh/virtualNode/colorteller-red", "labelled pod: the map made it colorteller-red")
        else:
            check(False, "labelled pod: injected (%s)" % response)

        # Opted out: allowed, no patch.
        request, response = review("pod_opted_out.json", "/mutate/color-mesh")
        if response:
            check(response["allowed"] is True and "patch" not in response and "patchType" not in response,
                  "opted-out pod: allowed without a patch")

        # Malformed reviews: 400 with the reason, never 500.
        rc, code, body = curl("/mutate", "@" + os.path.join(testdata, "review_without_uid.json"))
        check(code == 400 and "request.uid" in body, "review without uid: 400 naming request.uid (%s %s)" % (code, body.strip()))
        rc, code, body = curl("/mutate", "{not json")
        check(code == 400 and "not JSON" in body, "a body that is not JSON: 400 (%s %s)" % (code, body.strip()))
        rc, code, body = curl("/mutate", method="GET")
        check(code == 405, "GET /mutate: 405 (%s)" % code)

        # SIGHUP: a new CA and certificate in the same files take over.
        # SIGHUP also reloads the virtual node map.
        subprocess.run([make_cert, "--extra-san", "IP:127.0.0.1", certs], check=True)
        with open(node_map, "w") as f:
            f.write("- selector: {app: colorteller}\n  virtualNode: colorteller-any\n  mesh: color-mesh\n")
        proc.send_signal(1)
        reloaded = set()
        for line in proc.stdout:  # blocks until the webhook reports both reloads
            sys.stdout.write("webhook| " + line)
            if "certificate reloaded" in line:
                reloaded.add("certificate")
            if "virtual node map reloaded" in line:
                reloaded.add("map")
            if len(reloaded) == 2:
                break
        check(reloaded == {"certificate", "map"}, "SIGHUP: the webhook reports the certificate and the map reloaded")
        rc, code, body = curl("/healthz", method="GET")
        check(rc == 0 and code == 200, "after SIGHUP: the new CA verifies the webhook")
        rc, code, body = curl("/healthz", method="GET", ca=old_ca)
        check(rc == 60, "after SIGHUP: the old CA no longer does (curl exit %s, 60 expected)" % rc)
        request, response = review("pod_by_labels.json")
        if response and response.get("patch"):
            pod = apply_patch(request["request"]["object"], json.loads(base64.b64decode(response["patch"])))
            names = [env_of(c).get("APPMESH_VIRTUAL_NODE_NAME") for c in pod["spec"]["initContainers"]]
            check("mesh/color-mesh/virtualNode/colorteller-any" in names, "after SIGHUP: the new map applies (%s)" % names)
        else:
            check(False, "after SIGHUP: the labelled pod is injected (%s)" % response)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        check(proc.returncode == 0, "trellis-webhook exited 0 on SIGTERM (%s)" % proc.returncode)

    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
