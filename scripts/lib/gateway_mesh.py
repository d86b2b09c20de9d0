"""Runs the virtual gateway mesh on loopback: trellis-cp on a copy of
config/appmesh/testdata/formats/gateway/cli, one trellis-proxy as the virtual gateway (node id
mesh/color-mesh/virtualGateway/color-gateway) and the two color versions as sample apps that
echo the Host and path they receive. Used by scripts/demo-gateway and tests/e2e; stdlib only.

The copy is placed for one machine: the gateway listener's port 8080 becomes a free port, and
the nodes' DNS discovery (color-v1.color.local, which nothing resolves here) becomes an
Endpoints document per node listing its app's address. Every process started is stopped by
close(); every wait is bounded."""

import http.client
import json
import os
import shutil

from mesh import Mesh, free_port, wait_until

FIXTURE = "config/appmesh/testdata/formats/gateway/cli"
GATEWAY_ID = "mesh/color-mesh/virtualGateway/color-gateway"
VERSIONS = ["color-v1", "color-v2"]


class GatewayMesh(Mesh):
    def __init__(self, repo, proxy_bin, cp_bin, log=print):
        super().__init__(repo, proxy_bin, cp_bin, log=log)
        # Mesh copied the color app; this run serves the gateway fixture instead.
        shutil.rmtree(self.dir)
        shutil.copytree(os.path.join(repo, FIXTURE), self.dir)
        self.gateway_port = free_port()
        self.app_ports = {v: free_port() for v in VERSIONS}
        self._place()

    def _write_placement(self):
        pass  # the color app's placement; _place() does this mesh's

    def _place(self):
        path = os.path.join(self.dir, "virtual-gateway.json")
        with open(path) as f:
            gateway = json.load(f)
        for listener in gateway["spec"]["listeners"]:
            listener["portMapping"]["port"] = self.gateway_port
            if "healthCheck" in listener:
                listener["healthCheck"]["port"] = self.gateway_port
        self._write_atomic(path, json.dumps(gateway, indent=2))
        endpoints = []
        for v in VERSIONS:
            path = os.path.join(self.dir, f"virtual-node-{v}.json")
            with open(path) as f:
                node = json.load(f)
            del node["spec"]["serviceDiscovery"]
            self._write_atomic(path, json.dumps(node, indent=2))
            endpoints.append(f"apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: color-mesh\nvirtualNode: {v}\n"
                             f"endpoints:\n  - {{address: 127.0.0.1, port: {self.app_ports[v]}}}\n")
        self.write_file("endpoints.yaml", "---\n".join(endpoints))

    def start_apps(self):
        app = os.path.join(self.repo, "config/examples/apps/sample_app.py")
        for v in VERSIONS:
            self._start("app-" + v, ["python3", app, "--name", v, "--port", str(self.app_ports[v]), "--echo-request"])
        for v in VERSIONS:
            self._wait_log("app-" + v, r"listening on \d+")

    def start_gateway(self):
        with open(os.path.join(self.repo, "config/examples/sidecar-bootstrap.yaml")) as f:
            template = f.read()
        bootstrap = template.replace("port_value: 9901", "port_value: 0").replace(
            "port_value: 15010", f"port_value: {self.cp_port}")
        path = os.path.join(self.tmp, "gateway-bootstrap.yaml")
        with open(path, "w") as f:
            f.write(bootstrap)
        addr = os.path.join(self.tmp, "gateway.admin")
        env = dict(os.environ, APPMESH_VIRTUAL_NODE_NAME=GATEWAY_ID)
        self._start("proxy-gateway", [self.proxy_bin, "-c", path, "--concurrency", "1",
                                      "--drain-time-s", "1", "--admin-address-path", addr], env)
        wait_until("the gateway's admin address", lambda: os.path.exists(addr) and os.path.getsize(addr) > 0)
        with open(addr) as f:
            self.admin["gateway"] = int(f.read().strip().rsplit(":", 1)[1])
        wait_until("the gateway to be ready", lambda: self._ready("gateway"))

    def request(self, path, host="gateway.example.com", conn=None):
        """One request to the gateway's listener: (status, body)."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.gateway_port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": f"{host}:{self.gateway_port}"})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace").strip()
        finally:
            if own:
                conn.close()

    def gateway_split(self, n, path="/color"):
        """Sends n requests for `path` on one connection; returns ({version: count}, {answer: count})."""
        versions, answers = {}, {}
        conn = http.client.HTTPConnection("127.0.0.1", self.gateway_port, timeout=10)
        try:
            for _ in range(n):
                status, body = self.request(path, conn=conn)
                key = body.split(" ")[0] if status == 200 else f"error {status}"
                versions[key] = versions.get(key, 0) + 1
                answers[body] = answers.get(body, 0) + 1
        finally:
            conn.close()
        return versions, answers
