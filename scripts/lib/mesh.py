"""Runs a small Trellis mesh on loopback: the sample apps, trellis-cp and one trellis-proxy per
virtual node, from an App Mesh folder (config/examples/colorapp). Used by scripts/demo and by
the end-to-end tests; stdlib only.

Every port is chosen free at start (bound on port 0 and released) and written into a private
copy of the mesh folder, so runs never collide. Every process started is stopped by close().
All waits are bounded."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

NODES = ["front", "colorteller-red", "colorteller-blue", "colorteller-green"]
COLORS = {"colorteller-red": "red", "colorteller-blue": "blue", "colorteller-green": "green"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def http_get(port, path, host=None, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


class Mesh:
    def __init__(self, repo, proxy_bin, cp_bin, example="config/examples/colorapp", log=print):
        self.repo = repo
        self.proxy_bin = proxy_bin
        self.cp_bin = cp_bin
        self.log = log
        self.tmp = tempfile.mkdtemp(prefix="trellis-mesh.")
        self.dir = os.path.join(self.tmp, "mesh")
        shutil.copytree(os.path.join(repo, example), self.dir)
        self.procs = {}
        self.ports = {n: {"inbound": free_port(), "outbound": free_port(), "app": free_port()} for n in NODES}
        self.admin = {}
        self.cp_port = None
        self.cp_admin = None
        self._write_placement()

    # ---- the mesh folder -------------------------------------------------------------------
    def _write_placement(self):
        sidecars, endpoints = [], []
        for n in NODES:
            p = self.ports[n]
            app_port = 8080 if n == "front" else 9080
            sidecars.append(
                f"apiVersion: trellis.dev/v1\nkind: Sidecar\nmesh: color-mesh\nvirtualNode: {n}\n"
                f"inbound: 127.0.0.1:{p['inbound']}\noutbound: 127.0.0.1:{p['outbound']}\n"
                f"app: {{address: 127.0.0.1, ports: {{{app_port}: {p['app']}}}}}\n")
            endpoints.append(
                f"apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: color-mesh\nvirtualNode: {n}\n"
                f"endpoints:\n  - {{address: 127.0.0.1, port: {p['inbound']}}}\n")
        with open(os.path.join(self.dir, "sidecars.yaml"), "w") as f:
            f.write("---\n".join(sidecars))
        with open(os.path.join(self.dir, "endpoints.yaml"), "w") as f:
            f.write("---\n".join(endpoints))

    def route_path(self):
        return os.path.join(self.dir, "colorteller-route.json")

    def set_weights(self, red, blue, green):
        """Rewrites the route's weightedTargets (atomically: write and rename). Returns False,
        writing nothing, when the route already has these weights."""
        with open(self.route_path()) as f:
            route = json.load(f)
        weights = {"colorteller-red": red, "colorteller-blue": blue, "colorteller-green": green}
        targets = route["spec"]["httpRoute"]["action"]["weightedTargets"]
        if all(t["weight"] == weights[t["virtualNode"]] for t in targets):
            return False
        for t in targets:
            t["weight"] = weights[t["virtualNode"]]
        self._write_atomic(self.route_path(), json.dumps(route, indent=2))
        return True

    def write_file(self, name, text):
        self._write_atomic(os.path.join(self.dir, name), text)

    def remove_file(self, name):
        os.unlink(os.path.join(self.dir, name))

    @staticmethod
    def _write_atomic(path, text):
        tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, path)

    # ---- processes -------------------------------------------------------------------------
    def _start(self, name, argv, env=None):
        logf = open(os.path.join(self.tmp, name + ".log"), "w")
        proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=env)
        self.procs[name] = (proc, logf)
        return proc

    def logfile(self, name):
        return os.path.join(self.tmp, name + ".log")

    def _wait_log(self, name, regex, timeout=20.0):
        pattern = re.compile(regex)

        def find():
            proc, _ = self.procs[name]
            if proc.poll() is not None:
                with open(self.logfile(name)) as f:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n" + f.read())
            with open(self.logfile(name)) as f:
                m = pattern.search(f.read())
            return m

        return wait_until(f"{name} to log /{regex}/", find, timeout)

    def start_apps(self):
        app = os.path.join(self.repo, "config/examples/apps/sample_app.py")
        for n in NODES:
            argv = ["python3", app, "--name", COLORS.get(n, n), "--port", str(self.ports[n]["app"])]
            if n == "front":
                argv += ["--backend", f"http://127.0.0.1:{self.ports['front']['outbound']}/",
                         "--backend-host", "colorteller.color-mesh.local:9080"]
            self._start("app-" + n, argv)
        for n in NODES:
            self._wait_log("app-" + n, r"listening on \d+")

    def start_cp(self, port=0):
        self._start("cp", [self.cp_bin, "--mesh-dir", self.dir, "--listen", f"127.0.0.1:{port}",
                           "--admin", "127.0.0.1:0"])
        m = self._wait_log("cp", r"ADS listening on \S+ \(port (\d+)\)")
        self.cp_port = int(m.group(1))
        m = self._wait_log("cp", r"admin listening on \S+ \(port (\d+)\)")
        self.cp_admin = int(m.group(1))

    def stop_cp(self):
        self._stop("cp")

    def start_proxies(self, concurrency=1):
        with open(os.path.join(self.repo, "config/examples/sidecar-bootstrap.yaml")) as f:
            template = f.read()
        bootstrap = template.replace("port_value: 9901", "port_value: 0").replace(
            "port_value: 15010", f"port_value: {self.cp_port}")
        path = os.path.join(self.tmp, "bootstrap.yaml")
        with open(path, "w") as f:
            f.write(bootstrap)
        for n in NODES:
            env = dict(os.environ, APPMESH_VIRTUAL_NODE_NAME=f"mesh/color-mesh/virtualNode/{n}")
            addr = os.path.join(self.tmp, n + ".admin")
            self._start("proxy-" + n, [self.proxy_bin, "-c", path, "--concurrency", str(concurrency),
                                       "--drain-time-s", "2", "--admin-address-path", addr], env)
            self.admin[n] = None
        for n in NODES:
            addr = os.path.join(self.tmp, n + ".admin")
            wait_until(f"proxy {n}'s admin address", lambda: os.path.exists(addr))
            with open(addr) as f:
                self.admin[n] = int(f.read().strip().rsplit(":", 1)[1])
        for n in NODES:
            wait_until(f"proxy {n} to be ready", lambda n=n: self._ready(n))

    def _ready(self, node):
        try:
            return http_get(self.admin[node], "/ready", timeout=1.0)[0] == 200
        except OSError:
            return False

    def _stop(self, name):
        entry = self.procs.pop(name, None)
        if not entry:
            return None
        proc, logf = entry
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logf.close()
        return proc.returncode

    def stop_proxy(self, node):
        return self._stop("proxy-" + node)

    def close(self):
        for name in list(self.procs):
            self._stop(name)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- observing ---------------------------------------------------------------------------
    def proxy_stat(self, node, name):
        status, body = http_get(self.admin[node], "/stats?filter=" + name)
        for line in body.splitlines():
            key, _, value = line.partition(": ")
            if key == name:
                return int(value)
        return 0

    def wait_for_update(self, node, stat, before, timeout=10.0):
        """Waits until the proxy's counter `stat` moved past `before`."""
        return wait_until(f"{node} to accept an update ({stat})", lambda: self.proxy_stat(node, stat) > before, timeout)

    def front_request(self, conn=None):
        """One request through front's sidecar; returns the color, or 'error NNN'."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.ports["front"]["inbound"], timeout=10)
        try:
            conn.request("GET", "/", headers={"Host": "front.color-mesh.local"})
            resp = conn.getresponse()
            body = resp.read().decode(errors="replace").strip()
            if resp.status != 200:
                return f"error {resp.status}: {body}"
            return body.split("-> ")[-1]
        finally:
            if own:
                conn.close()

    def split(self, n):
        counts = {}
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["front"]["inbound"], timeout=10)
        try:
            for _ in range(n):
                c = self.front_request(conn)
                counts[c] = counts.get(c, 0) + 1
        finally:
            conn.close()
        return counts


class SteadyLoad:
    """Sends requests through front's sidecar from a few threads until stopped (bounded by
    max_seconds and max_requests); counts answers and failures."""

    def __init__(self, mesh, threads=4, max_seconds=120, max_requests=200000):
        self.mesh = mesh
        self.stop_at = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.total = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self):
        conn = None
        while not self.stopping.is_set() and time.monotonic() < self.stop_at:
            with self.lock:
                if self.total >= self.max_requests:
                    return
                self.total += 1
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.mesh.ports["front"]["inbound"], timeout=10)
                result = self.mesh.front_request(conn)
            except (OSError, http.client.HTTPException) as e:
                result = f"error {type(e).__name__}: {e}"
                if conn:
                    conn.close()
                conn = None
            with self.lock:
                if result.startswith("error"):
                    self.failures.append(result)
                else:
                    self.counts[result] = self.counts.get(result, 0) + 1
        if conn:
            conn.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=30)
        return self
