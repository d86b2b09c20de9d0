"""End to end with real capture: trellis-init's iptables rules, trellis-proxy as UID 1337 and
trellis-cp in an "app" network namespace, backends in namespaces of their own on veth pairs
(netns_world.py has the topology). The client is an ordinary UID (65534) that knows nothing of
the mesh: it calls names from the namespace's hosts file, and only capture plus the mesh's
routing can get its calls anywhere.

Steps (each fails saying what was expected and what happened; all run, the summary lists the
failures):
  1. http://svc.mesh.local:9080/ (198.18.100.100, where nothing listens) x200: all 200, split
     v1/v2 80/20 within 5 standard deviations.
  2. TCP to db.mesh.local:7000 (198.18.100.101): echoed by v1's echo server.
  3. DROP_ALL: http://external.test/ -> 403 naming external.test and 198.18.9.1:80; TCP to
     198.18.9.1:7001 closed without echo; TLS with SNI blocked.example.com closed in the
     handshake; TLS with SNI s3.amazonaws.com (allow-list) completes with ext's own certificate;
     egress_denied_http/tcp/tls >= 1 on the outbound listener.
  4. ALLOW_ALL (mesh edited, pushed, taken): the same three reach ext.
  5. Inbound from v1 to 198.18.0.2:8080 reaches the app (listening on 127.0.0.1 only) through
     the sidecar; the inbound counters went up by exactly the number of requests.
  6. No loop: the outbound listener's downstream_cx_total equals the client's connections.
  7. trellis-init --clean leaves the nat tables (both families) exactly as before.

Needs root; when the machine cannot host the world it fails LOUDLY saying why (never a skip).

Usage: capture_e2e_test.py REPO_ROOT TRELLIS_PROXY TRELLIS_CP TRELLIS_INIT"""

import hashlib
import json
import math
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from netns_world import APP_ADDR, PEERS, CannotRun, World, wait_until  # noqa: E402

REQUESTS = 200
WEIGHTS = {"v1": 80, "v2": 20}
INBOUND_REQUESTS = 20
PROXY_UID = 1337
CLIENT_UID = 65534
# Debian's python3: what other UIDs run must not come from /root (a pyenv shim there is 0700).
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
OUT = "listener.0.0.0.0_15001."
IN = "listener.0.0.0.0_15000."
HOSTS = {
    "svc.mesh.local": "198.18.100.100",
    "db.mesh.local": "198.18.100.101",
    "external.test": PEERS["ext"],
    "s3.amazonaws.com": PEERS["ext"],
    # Service discovery of the mesh's nodes (trellis-cp resolves these, in this namespace).
    "v1.backend.test": PEERS["v1"],
    "v2.backend.test": PEERS["v2"],
    "db1.backend.test": PEERS["v1"],
}


def loud(why):
    bar = "#" * 96
    print(f"{bar}\n# capture_e2e_test CANNOT RUN: {why}\n# It needs root (CAP_NET_ADMIN, "
          f"CAP_SYS_ADMIN) to create network namespaces, veth pairs and iptables rules, and\n"
          f"# Bazel's sandbox off (tags no-sandbox, local). This is a FAILURE, not a skip.\n{bar}",
          file=sys.stderr, flush=True)
    sys.exit(1)


class Failed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failed(msg)


def mesh_yaml(egress):
    return f"""\
meshName: M
spec: {{egressFilter: {{type: {egress}}}}}
---
meshName: M
virtualNodeName: app
spec:
  listeners: [{{portMapping: {{port: 8080, protocol: http}}}}]
  backends:
    - virtualService: {{virtualServiceName: svc.mesh.local}}
    - virtualService: {{virtualServiceName: db.mesh.local}}
---
meshName: M
virtualNodeName: v1
spec:
  listeners: [{{portMapping: {{port: 9080, protocol: http}}}}]
  serviceDiscovery: {{dns: {{hostname: v1.backend.test}}}}
---
meshName: M
virtualNodeName: v2
spec:
  listeners: [{{portMapping: {{port: 9080, protocol: http}}}}]
  serviceDiscovery: {{dns: {{hostname: v2.backend.test}}}}
---
meshName: M
virtualNodeName: db1
spec:
  listeners: [{{portMapping: {{port: 7000, protocol: tcp}}}}]
  serviceDiscovery: {{dns: {{hostname: db1.backend.test}}}}
---
meshName: M
virtualServiceName: svc.mesh.local
spec: {{provider: {{virtualRouter: {{virtualRouterName: svc-router}}}}}}
---
meshName: M
virtualRouterName: svc-router
spec: {{listeners: [{{portMapping: {{port: 9080, protocol: http}}}}]}}
---
meshName: M
virtualRouterName: svc-router
routeName: split
spec:
  httpRoute:
    match: {{prefix: /}}
    action:
      weightedTargets:
        - {{virtualNode: v1, weight: {WEIGHTS['v1']}}}
        - {{virtualNode: v2, weight: {WEIGHTS['v2']}}}
---
meshName: M
virtualServiceName: db.mesh.local
spec: {{provider: {{virtualNode: {{virtualNodeName: db1}}}}}}
"""


class Test:
    def __init__(self, repo, proxy, cp, init):
        self.repo, self.proxy_src, self.cp, self.init = repo, proxy, cp, init
        self.world = World(hosts=HOSTS)
        self.tmp = self.world.tmp
        self.mesh_dir = os.path.join(self.tmp, "mesh")
        self.failures = []
        self.client_cx = 0  # connections the client made through the outbound listener
        self.admin = None
        self.proxy = None
        self.cp_proc = None

    # ---- helpers -----------------------------------------------------------------------------
    def step(self, name, fn):
        print(f"--- {name}", flush=True)
        t = time.monotonic()
        try:
            fn()
            print(f"ok: {name} ({time.monotonic() - t:.1f}s)", flush=True)
        except Exception as e:
            detail = str(e) if isinstance(e, Failed) else traceback.format_exc()
            print(f"FAIL: {name}: {detail}", flush=True)
            self.failures.append(name)

    def client(self, *ops, ns="app", uid=CLIENT_UID, captured=True):
        r = self.world.run(ns, [PYTHON, self.client_py, json.dumps(list(ops))], uid=uid, timeout=120)
        if r.returncode != 0:
            raise Failed(f"client exited {r.returncode}: {r.stderr.strip()}")
        results = json.loads(r.stdout)
        if captured:
            for op, res in zip(ops, results):
                self.client_cx += res["connections"] if op["op"] == "http" else int(res["connected"])
        return results

    def stats(self):
        status, body = self.world.http_get("app", "127.0.0.1", self.admin, "/stats")
        expect(status == 200, f"proxy /stats answered {status}: {body[:200]}")
        out = {}
        for line in body.splitlines():
            key, sep, value = line.rpartition(": ")
            if sep and value.strip().lstrip("-").isdigit():
                out[key] = int(value)
        return out

    def stat(self, stats, name):
        if name not in stats:
            near = sorted(k for k in stats if k.split(".")[-1] == name.split(".")[-1])
            raise Failed(f"the proxy has no stat {name}; stats with that last part: {near}")
        return stats[name]

    def logs(self):
        out = []
        for p in self.world.procs:
            if p.name in ("proxy", "cp"):
                lines = p.log().splitlines()
                out.append(f"==== last 40 lines of {p.name} ({p.logpath})\n" + "\n".join(lines[-40:]))
        return "\n".join(out)

    def nat(self):
        text = []
        for tool in ("iptables-save", "ip6tables-save"):
            r = self.world.run("app", [tool, "-t", "nat"])
            if r.returncode != 0:
                raise CannotRun(f"{tool} -t nat in the namespace failed: {r.stderr.strip()}")
            text.append(f"---- {tool}")
            text += [re.sub(r"\[\d+:\d+\]", "", line) for line in r.stdout.splitlines()
                     if not line.startswith("#")]
        return text

    # ---- setting up --------------------------------------------------------------------------
    def setup(self):
        w = self.world
        w.build()
        if not shutil.which("openssl"):
            raise CannotRun("openssl is not installed (scripts/setup installs it)")
        # /root is 0700 here and in CI: UID 1337 and 65534 cannot reach Bazel's runfiles, so
        # what they run is copied into the world's (0755) temp dir.
        self.proxy_bin = os.path.join(self.tmp, "trellis-proxy")
        shutil.copy2(self.proxy_src, self.proxy_bin)
        self.client_py = os.path.join(self.tmp, "netns_client.py")
        shutil.copy2(os.path.join(HERE, "netns_client.py"), self.client_py)
        servers_py = os.path.join(HERE, "netns_servers.py")

        cert, key = os.path.join(self.tmp, "ext.crt"), os.path.join(self.tmp, "ext.key")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                            "/CN=ext.trellis.test", "-days", "1", "-keyout", key, "-out", cert],
                           capture_output=True, text=True, timeout=60)
        expect(r.returncode == 0, f"openssl req failed: {r.stderr}")
        with open(cert) as f:
            self.ext_cert = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()

        os.makedirs(self.mesh_dir)
        self.write_mesh("DROP_ALL")
        self.nat_before = self.nat()
        env = dict(os.environ, APPMESH_APP_PORTS="8080", APPMESH_IGNORE_UID=str(PROXY_UID),
                   APPMESH_ENVOY_INGRESS_PORT="15000", APPMESH_ENVOY_EGRESS_PORT="15001")
        r = w.run("app", [self.init], env=env)
        expect(r.returncode == 0, f"trellis-init exited {r.returncode}: {r.stderr}")
        self.nat_installed = self.nat()

        specs = {
            "v1": ["http:0.0.0.0:9080:v1", "echo:0.0.0.0:7000:v1"],
            "v2": ["http:0.0.0.0:9080:v2", "echo:0.0.0.0:7000:v2"],
            "ext": ["http:0.0.0.0:80:external", "echo:0.0.0.0:7001:ext",
                    f"tls:0.0.0.0:443:ext-tls:{cert}:{key}"],
            "app": ["http:127.0.0.1:8080:app"],  # loopback only: reached from outside via the sidecar alone
        }
        for ns, spec in specs.items():
            fifo = w.fifo("servers-" + ns)
            proc = w.spawn("servers-" + ns, ns, [PYTHON, servers_py, fifo, *spec])
            w.wait_fifo(fifo, proc)

        self.cp_proc = w.spawn("cp", "app", [self.cp, "--mesh-dir", self.mesh_dir, "--listen", "127.0.0.1:0",
                                             "--admin", "127.0.0.1:0"])
        cp_port = int(self.wait_log(self.cp_proc, r"ADS listening on \S+ \(port (\d+)\)").group(1))

        pdir = os.path.join(self.tmp, "proxy")
        os.makedirs(pdir)
        os.chown(pdir, PROXY_UID, PROXY_UID)
        with open(os.path.join(self.repo, "config/examples/sidecar-bootstrap.yaml")) as f:
            boot = f.read().replace("port_value: 9901", "port_value: 0").replace(
                "port_value: 15010", f"port_value: {cp_port}")
        with open(os.path.join(pdir, "bootstrap.yaml"), "w") as f:
            f.write(boot)
        addr_file = os.path.join(pdir, "admin.address")
        env = dict(os.environ, APPMESH_VIRTUAL_NODE_NAME="mesh/M/virtualNode/app")
        self.proxy = w.spawn("proxy", "app", [self.proxy_bin, "-c", os.path.join(pdir, "bootstrap.yaml"),
                                              "--concurrency", "2", "--drain-time-s", "1",
                                              "--admin-address-path", addr_file], uid=PROXY_UID, env=env)

        def admin_written():
            expect(self.proxy.alive(), f"trellis-proxy exited {self.proxy.popen.returncode}:\n{self.proxy.log()}")
            return os.path.exists(addr_file) and open(addr_file).read().strip()

        self.admin = int(wait_until("the proxy's admin address", admin_written).rsplit(":", 1)[1])

        def ready():
            expect(self.proxy.alive(), f"trellis-proxy exited {self.proxy.popen.returncode}:\n{self.proxy.log()}")
            try:
                return self.world.http_get("app", "127.0.0.1", self.admin, "/ready", timeout=1)[0] == 200
            except OSError:
                return False

        wait_until("the proxy to be ready", ready, timeout=30)
        st = self.stats()
        for name in (OUT + "downstream_cx_total", IN + "downstream_cx_total"):
            self.stat(st, name)  # both listeners exist, at the addresses capture sends to
        self.assert_proxy_uid()

    def assert_proxy_uid(self):
        with open(f"/proc/{self.proxy.popen.pid}/status") as f:
            uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
        expect(uids[:2] == [str(PROXY_UID)] * 2, f"trellis-proxy runs as UIDs {uids}, want {PROXY_UID}")

    def wait_log(self, proc, regex, timeout=20):
        pattern = re.compile(regex)

        def found():
            expect(proc.alive(), f"{proc.name} exited {proc.popen.returncode}:\n{proc.log()}")
            return pattern.search(proc.log())

        return wait_until(f"{proc.name} to log /{regex}/", found, timeout)

    def write_mesh(self, egress):
        path = os.path.join(self.mesh_dir, "mesh.yaml")
        tmp = os.path.join(self.mesh_dir, ".mesh.yaml.tmp")
        with open(tmp, "w") as f:
            f.write(mesh_yaml(egress))
        os.rename(tmp, path)

    # ---- the checks ----------------------------------------------------------------------------
    def control_vip_is_empty(self):
        # Uncaptured (UID 1337 is exempt), the VIP goes nowhere: whatever reaches a backend
        # below got there through the proxy.
        res = self.client({"op": "tcp", "host": HOSTS["svc.mesh.local"], "port": 9080, "line": "x", "timeout": 1},
                          uid=PROXY_UID, captured=False)[0]
        expect(res["reply"] is None, f"an uncaptured connect to the VIP 198.18.100.100:9080 got an answer: {res}")

    def check_split(self):
        res = self.client({"op": "http", "url": "http://svc.mesh.local:9080/", "n": REQUESTS})[0]
        expect(res["errors"] == [] and res["statuses"] == {"200": REQUESTS},
               f"want {REQUESTS} x 200 from svc.mesh.local:9080; got statuses {res['statuses']}, "
               f"errors {res['errors'][:5]}, sample bodies {res['sample']}")
        expect(set(res["bodies"]) <= {"v1", "v2"}, f"bodies other than v1/v2: {res['bodies']}")
        p = WEIGHTS["v1"] / sum(WEIGHTS.values())
        mean, sd = REQUESTS * p, math.sqrt(REQUESTS * p * (1 - p))
        got = res["bodies"].get("v1", 0)
        expect(abs(got - mean) <= 5 * sd,
               f"v1 got {got} of {REQUESTS}, want {mean:.0f} +- {5 * sd:.0f} (5 sd of 80/20): {res['bodies']}")
        print(f"    split {res['bodies']}")

    def check_tcp_mesh(self):
        res = self.client({"op": "tcp", "host": "db.mesh.local", "port": 7000, "line": "hello-db"})[0]
        if res["reply"] != "v1 echo: hello-db\n":
            st = self.stats()
            seen = {k: v for k, v in sorted(st.items()) if v and ("egress_tcp_7000" in k or "_db1_7000" in k)}
            raise Failed(f"TCP to db.mesh.local:7000: want the reply 'v1 echo: hello-db' from v1's echo server, "
                         f"got {res}; the proxy's non-zero stats for the chain and cluster: {seen}")

    def check_drop_all(self):
        before = self.stats()
        http, tcp, tls_blocked, tls_allowed = self.client(
            {"op": "http", "url": "http://external.test/", "n": 1},
            {"op": "tcp", "host": PEERS["ext"], "port": 7001, "line": "hello-ext"},
            {"op": "tls", "host": PEERS["ext"], "port": 443, "sni": "blocked.example.com", "line": "hi"},
            {"op": "tls", "host": PEERS["ext"], "port": 443, "sni": "s3.amazonaws.com", "line": "hi-s3"})
        problems = []
        body = http["sample"].get("403", "")
        if http["statuses"] != {"403": 1}:
            problems.append(f"http://external.test/: want 403, got statuses {http['statuses']} "
                            f"errors {http['errors']} bodies {http['sample']}")
        elif "external.test" not in body or f"{PEERS['ext']}:80" not in body:
            problems.append(f"http://external.test/: the 403 body does not name external.test and "
                            f"{PEERS['ext']}:80: {body!r}")
        if not tcp["connected"] or tcp["reply"] or not tcp["eof"]:
            problems.append(f"TCP to {PEERS['ext']}:7001: want accepted then closed without a reply, got {tcp}")
        if tls_blocked.get("handshake") or not tls_blocked["connected"] or "Timeout" in (tls_blocked["error"] or ""):
            problems.append(f"TLS SNI blocked.example.com: want the connection closed during the handshake, "
                            f"got {tls_blocked}")
        if not tls_allowed.get("handshake") or tls_allowed.get("cert_sha256") != self.ext_cert:
            problems.append(f"TLS SNI s3.amazonaws.com: want a handshake with ext's certificate sha256 "
                            f"{self.ext_cert}, got {tls_allowed}")
        elif tls_allowed["reply"] != "ext-tls echo: hi-s3\n":
            problems.append(f"TLS SNI s3.amazonaws.com: want the echo 'ext-tls echo: hi-s3', got {tls_allowed}")
        after = self.stats()
        for kind in ("http", "tcp", "tls"):
            name = OUT + "egress_denied_" + kind
            try:
                got = self.stat(after, name) - before.get(name, 0)
                if got < 1:
                    problems.append(f"{name} went up by {got}, want >= 1")
            except Failed as e:
                problems.append(str(e))
        expect(not problems, "\n  " + "\n  ".join(problems))

    def switch_to_allow_all(self):
        st = self.stats()
        lds0, rds0 = st.get("server.xds.lds.update_success", 0), st.get("server.xds.rds.update_success", 0)
        self.write_mesh("ALLOW_ALL")

        def taken():
            expect(self.proxy.alive(), f"trellis-proxy exited:\n{self.proxy.log()}")
            s = self.stats()
            if s.get("server.xds.lds.update_success", 0) <= lds0 or s.get("server.xds.rds.update_success", 0) <= rds0:
                return False
            status, dump = self.world.http_get("app", "127.0.0.1", self.admin, "/config_dump")
            return status == 200 and "egress_allow_all" in dump

        try:
            wait_until("the proxy to take ALLOW_ALL (lds and rds update_success up, egress_allow_all in "
                       "/config_dump)", taken, timeout=30, interval=0.1)
        except TimeoutError as e:
            raise Failed(f"{e}\n{self.logs()}")

    def check_allow_all(self):
        http, tcp, tls = self.client(
            {"op": "http", "url": "http://external.test/", "n": 1},
            {"op": "tcp", "host": PEERS["ext"], "port": 7001, "line": "hello-ext"},
            {"op": "tls", "host": PEERS["ext"], "port": 443, "sni": "blocked.example.com", "line": "hi"})
        problems = []
        if http["statuses"] != {"200": 1} or http["bodies"] != {"external": 1}:
            problems.append(f"http://external.test/: want 200 'external', got {http}")
        if tcp["reply"] != "ext echo: hello-ext\n":
            problems.append(f"TCP to {PEERS['ext']}:7001: want the echo 'ext echo: hello-ext', got {tcp}")
        if not tls.get("handshake") or tls.get("cert_sha256") != self.ext_cert or tls["reply"] != "ext-tls echo: hi\n":
            problems.append(f"TLS SNI blocked.example.com: want a handshake with ext's certificate "
                            f"{self.ext_cert} and the echo 'ext-tls echo: hi', got {tls}")
        expect(not problems, "\n  " + "\n  ".join(problems))

    def check_inbound(self):
        before = self.stats()
        res = self.client({"op": "http", "url": f"http://{APP_ADDR}:8080/", "n": INBOUND_REQUESTS},
                          ns="v1", uid=None, captured=False)[0]
        after = self.stats()
        expect(res["statuses"] == {"200": INBOUND_REQUESTS} and res["bodies"] == {"app": INBOUND_REQUESTS},
               f"from v1, http://{APP_ADDR}:8080/ x{INBOUND_REQUESTS}: want every answer 200 'app', got {res}")
        problems = []
        for name in ("http.ingress.downstream_rq_total", IN + "downstream_cx_total"):
            try:
                delta = self.stat(after, name) - before.get(name, 0)
                if delta != INBOUND_REQUESTS:
                    problems.append(f"{name} went up by {delta}, want exactly {INBOUND_REQUESTS}")
            except Failed as e:
                problems.append(str(e))
        expect(not problems, "\n  " + "\n  ".join(problems))

    def check_no_loop(self):
        st = self.stats()
        got = self.stat(st, OUT + "downstream_cx_total")
        expect(got == self.client_cx,
               f"{OUT}downstream_cx_total is {got}, want {self.client_cx} (the client's connections); "
               f"more means the proxy's own upstream connections were captured")
        expect(self.proxy.alive(), "trellis-proxy died")

    def check_clean(self):
        expect(self.nat_installed != self.nat_before, "trellis-init's install changed nothing in the nat table")
        r = self.world.run("app", [self.init, "--clean"])
        expect(r.returncode == 0, f"trellis-init --clean exited {r.returncode}: {r.stderr}")
        after = self.nat()
        if after != self.nat_before:
            import difflib
            raise Failed("the nat tables after --clean differ from before install:\n" +
                         "\n".join(difflib.unified_diff(self.nat_before, after, "before", "after", lineterm="")))

    # ---- running -----------------------------------------------------------------------------
    def main(self):
        started = time.monotonic()
        try:
            try:
                self.setup()
            except CannotRun as e:
                loud(str(e))
            except Exception:
                print(f"FAIL: setting up the world:\n{traceback.format_exc()}\n{self.logs()}", flush=True)
                return 1
            print(f"world up in {time.monotonic() - started:.1f}s (namespaces {self.world.prefix}-*, tmp {self.tmp})")
            self.step("0. control: the VIP 198.18.100.100 has nothing behind it (uncaptured UID 1337)",
                      self.control_vip_is_empty)
            self.step("1. HTTP through capture: svc.mesh.local:9080 x200, split 80/20", self.check_split)
            self.step("2. TCP through the mesh: db.mesh.local:7000 echoed by v1", self.check_tcp_mesh)
            self.step("3. DROP_ALL: HTTP 403, TCP closed, TLS blocked / allow-list passed through, denial stats",
                      self.check_drop_all)
            self.step("4a. ALLOW_ALL pushed and taken by the proxy", self.switch_to_allow_all)
            if self.failures and self.failures[-1].startswith("4a"):
                print("skipping 4b: the proxy never took ALLOW_ALL (4a failed)")
                self.failures.append("4b. ALLOW_ALL: not run")
            else:
                self.step("4b. ALLOW_ALL: external HTTP, TCP and TLS reach ext", self.check_allow_all)
            self.step("5. inbound: v1 -> 198.18.0.2:8080 reaches the app through the sidecar", self.check_inbound)
            self.step("6. no loop: outbound downstream_cx_total = the client's connections", self.check_no_loop)
            self.step("7. trellis-init --clean restores the nat tables exactly", self.check_clean)
            if self.failures:
                print(self.logs())
        finally:
            self.world.close()
        print(f"total {time.monotonic() - started:.1f}s")
        if self.failures:
            print("FAILED steps:\n  " + "\n  ".join(self.failures))
            return 1
        print("PASS")
        return 0


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    if os.geteuid() != 0:
        loud(f"not running as root (euid {os.geteuid()})")
    # Bazel's timeout (and ^C) must still tear the world down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM: tearing down"))
    repo, proxy, cp, init = (os.path.abspath(p) for p in sys.argv[1:5])
    sys.exit(Test(repo, proxy, cp, init).main())


if __name__ == "__main__":
    main()
