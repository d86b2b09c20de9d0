"""A small world of network namespaces for tests and benchmarks of the sidecar with real capture.

Topology (every address in 198.18.0.0/15, reserved for benchmarking networks, so nothing real is
ever reached). Namespace names are `<prefix>-<role>` with a prefix unique per run (it holds the
pid); interface names are local to their namespace, so two runs never collide.

                         +---------------------- app ns ----------------------+
                         |  198.18.0.2 on every veth below (/32 each)          |
                         |  lo 127.0.0.1: app :8080, trellis-cp, proxy admin   |
                         |  proxy (UID 1337): 0.0.0.0:15000 in, 0.0.0.0:15001 out
                         |  iptables nat: trellis-init's capture rules          |
                         |  routes: 198.18.1.1 dev to-v1, 198.18.2.1 dev to-v2, |
                         |          198.18.9.1 dev to-ext,                      |
                         |          default via 198.18.9.1 dev to-ext onlink    |
                         +------+------------------+------------------+--------+
                           to-v1|             to-v2|            to-ext|
                         to-app |           to-app |          to-app  |
                    +-----------+---+  +-----------+---+  +-----------+------+
                    | v1 ns         |  | v2 ns         |  | ext ns           |
                    | 198.18.1.1/32 |  | 198.18.2.1/32 |  | 198.18.9.1/32    |
                    | route         |  | route         |  | route            |
                    | 198.18.0.2    |  | 198.18.0.2    |  | 198.18.0.2       |
                    |   dev to-app  |  |   dev to-app  |  |   dev to-app     |
                    +---------------+  +---------------+  +------------------+

Point-to-point veth pairs with /32 routes: no bridge (bridges may not work on every kernel this
runs on, dummy interfaces do not), no forwarding. The default route makes a connect() to an
address no host has (a virtual service's "VIP", 198.18.100.0/24) leave through to-ext, so it
passes the nat OUTPUT chain and is captured; uncaptured, it goes nowhere (ext does not forward).

Names come from the app namespace's own hosts file, /etc/netns/<app ns>/hosts, which
`ip netns exec` bind-mounts over /etc/hosts for every process started in that namespace.

World gives: build() (namespaces, links, routes, hosts file), spawn() (a process in a namespace,
optionally as another UID, logging to a file), run() (the same, waited for, bounded), ns_socket()
(a socket of this process created inside a namespace: the test itself talks to loopback-only
admin ports that way), http_get(), wait_until() and close(), which removes everything it made
(processes, namespaces, /etc/netns dirs, the temp dir), also after a failure half-way.

Needs root: CannotRun says why when the machine cannot host the world (not root, a tool missing,
namespaces or veths refused). Stdlib only."""

import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CLONE_NEWNET = 0x40000000

APP_ADDR = "198.18.0.2"
PEERS = {"v1": "198.18.1.1", "v2": "198.18.2.1", "ext": "198.18.9.1"}
TOOLS = ["ip", "iptables-save", "ip6tables-save", "iptables-restore", "ip6tables-restore", "setpriv"]


class CannotRun(Exception):
    """The machine cannot host the world; the message says exactly why."""


def wait_until(what, predicate, timeout=20.0, interval=0.05):
    """Polls predicate until it returns something true (returned); TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Proc:
    def __init__(self, name, popen, logpath, logfile):
        self.name, self.popen, self.logpath, self._logfile = name, popen, logpath, logfile

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.popen.poll() is None

    def stop(self, timeout=10.0):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        self._logfile.close()
        return self.popen.returncode


class World:
    def __init__(self, prefix=None, hosts=None, log=print):
        """hosts: {name: address} for the app namespace's hosts file."""
        self.prefix = prefix or f"trellis-nx-{os.getpid()}"
        self.log = log
        self.ns = {role: f"{self.prefix}-{role}" for role in ["app", *PEERS]}
        self.hosts = dict(hosts or {})
        self.tmp = tempfile.mkdtemp(prefix="trellis-netns.", dir="/tmp")  # not TEST_TMPDIR: under /root (0700)
        os.chmod(self.tmp, 0o755)  # processes running as other UIDs read their files here
        self.procs = []
        self._made_ns = []
        self._made_etc = []
        self._libc = ctypes.CDLL(None, use_errno=True)

    # ---- building --------------------------------------------------------------------------
    @staticmethod
    def check_can_run():
        if os.geteuid() != 0:
            raise CannotRun(f"not running as root (euid {os.geteuid()})")
        os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for tool in TOOLS:
            if not shutil.which(tool):
                raise CannotRun(f"{tool} is not installed (scripts/setup installs iproute2, iptables, util-linux)")

    def sh(self, *argv, ns=None, check=True, timeout=20.0, input=None):
        cmd = (["ip", "netns", "exec", self.ns[ns]] if ns else []) + list(argv)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def build(self):
        self.check_can_run()
        for role, name in self.ns.items():
            r = self.sh("ip", "netns", "add", name, check=False)
            if r.returncode != 0:
                raise CannotRun(f"ip netns add {name} failed: {r.stderr.strip()}")
            self._made_ns.append(name)
            self.sh("ip", "link", "set", "lo", "up", ns=role)
        # The hosts file first: `ip netns exec` mounts it for processes started after this.
        etc = f"/etc/netns/{self.ns['app']}"
        os.makedirs(etc, exist_ok=True)
        self._made_etc.append(etc)
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
            for name, addr in self.hosts.items():
                f.write(f"{addr} {name}\n")
        for role, addr in PEERS.items():
            r = self.sh("ip", "link", "add", f"to-{role}", "type", "veth", "peer", "name", "to-app",
                        "netns", self.ns[role], ns="app", check=False)
            if r.returncode != 0:
                raise CannotRun(f"cannot create a veth pair between {self.ns['app']} and {self.ns[role]}: "
                                f"{r.stderr.strip()}")
            self.sh("ip", "addr", "add", f"{APP_ADDR}/32", "dev", f"to-{role}", ns="app")
            self.sh("ip", "link", "set", f"to-{role}", "up", ns="app")
            self.sh("ip", "route", "add", f"{addr}/32", "dev", f"to-{role}", "src", APP_ADDR, ns="app")
            self.sh("ip", "addr", "add", f"{addr}/32", "dev", "to-app", ns=role)
            self.sh("ip", "link", "set", "to-app", "up", ns=role)
            self.sh("ip", "route", "add", f"{APP_ADDR}/32", "dev", "to-app", "src", addr, ns=role)
        self.sh("ip", "route", "add", "default", "via", PEERS["ext"], "dev", "to-ext", "onlink",
                "src", APP_ADDR, ns="app")
        return self

    # ---- processes -------------------------------------------------------------------------
    def _argv(self, ns, argv, uid):
        prefix = ["ip", "netns", "exec", self.ns[ns]]
        if uid is not None:
            prefix += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        return prefix + list(argv)

    def spawn(self, name, ns, argv, uid=None, env=None):
        """Starts argv in namespace ns (as uid, if given); output goes to <tmp>/<name>.log."""
        path = os.path.join(self.tmp, name + ".log")
        logf = open(path, "w")
        popen = subprocess.Popen(self._argv(ns, argv, uid), stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env)
        proc = Proc(name, popen, path, logf)
        self.procs.append(proc)
        return proc

    def run(self, ns, argv, uid=None, env=None, timeout=60.0, input=None):
        """Runs argv in namespace ns (as uid, if given) to completion; CompletedProcess (text)."""
        return subprocess.run(self._argv(ns, argv, uid), capture_output=True, text=True, env=env,
                              timeout=timeout, input=input)

    def fifo(self, name):
        path = os.path.join(self.tmp, name + ".ready")
        os.mkfifo(path, 0o666)
        return path

    def wait_fifo(self, path, proc, timeout=15.0):
        """Reads the first line a process writes into its readiness FIFO, bounded; the FIFO is
        opened non-blocking so a process that dies before opening it cannot hang us."""
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            data = b""
            deadline = time.monotonic() + timeout
            while b"\n" not in data:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{proc.name} did not signal readiness in {timeout}s:\n{proc.log()}")
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log()}")
                try:
                    chunk = os.read(fd, 100)
                except BlockingIOError:
                    chunk = b""
                data += chunk
                if not chunk:
                    time.sleep(0.02)
            return data.decode().strip()
        finally:
            os.close(fd)

    # ---- talking into a namespace from this process ------------------------------------------
    def ns_socket(self, ns, family=socket.AF_INET, type=socket.SOCK_STREAM):
        """A socket created inside namespace ns (it stays there); this thread returns home."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.ns[ns]}", os.O_RDONLY)
        try:
            if self._libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns into {self.ns[ns]}")
            try:
                return socket.socket(family, type)
            finally:
                if self._libc.setns(home, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back home")
        finally:
            os.close(home)
            os.close(target)

    def http_get(self, ns, addr, port, path, timeout=5.0):
        """GET http://addr:port/path from inside ns as this process (root); (status, body)."""
        sock = self.ns_socket(ns)
        sock.settimeout(timeout)
        try:
            sock.connect((addr, port))
            conn = http.client.HTTPConnection(addr, port, timeout=timeout)
            conn.sock = sock
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        finally:
            sock.close()

    # ---- teardown --------------------------------------------------------------------------
    def close(self):
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception as e:  # keep tearing down
                self.log(f"teardown: stopping {proc.name}: {e}")
        self.procs = []
        for name in reversed(self._made_ns):
            # Anything still in the namespace was started by us (the names are ours alone).
            r = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            r = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
            if r.returncode != 0:
                self.log(f"teardown: ip netns del {name}: {r.stderr.strip()}")
        self._made_ns = []
        for etc in self._made_etc:
            shutil.rmtree(etc, ignore_errors=True)
        self._made_etc = []
        shutil.rmtree(self.tmp, ignore_errors=True)
