"""The client of the netns world: runs a JSON list of operations, prints a JSON list of results.

    netns_client.py '[OP, ...]'

OP is one of
    {"op": "http", "url": "http://host:port/path", "n": N}
        N GETs, each on a new connection; result {"connections", "statuses": {code: count},
        "bodies": {first line of body: count}, "errors": [...], "sample": {status: body}}
    {"op": "tcp", "host": H, "port": P, "line": L}
        connect, send L and a newline, read to the first newline or EOF; result {"connected",
        "reply", "eof", "error"}
    {"op": "tls", "host": H, "port": P, "sni": S, "line": L}
        TLS handshake with server name S (no verification: the test compares certificates
        itself), then as tcp; result adds {"handshake", "cert_sha256"}
Every socket operation has a timeout: the op's "timeout" (seconds), default 5. Each op makes exactly the connections it reports
(http: N, tcp and tls: 1 if "connected"). Stdlib only; run as any UID."""

import hashlib
import http.client
import json
import socket
import ssl
import sys
import urllib.parse

TIMEOUT = 5.0


def do_http(op):
    u = urllib.parse.urlsplit(op["url"])
    res = {"connections": 0, "statuses": {}, "bodies": {}, "errors": [], "sample": {}}
    for _ in range(op["n"]):
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=TIMEOUT)
        try:
            conn.connect()
            res["connections"] += 1
            conn.request("GET", u.path or "/", headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read().decode(errors="replace")
            code = str(resp.status)
            res["statuses"][code] = res["statuses"].get(code, 0) + 1
            first = body.strip().split("\n")[0] if resp.status == 200 else f"({code})"
            res["bodies"][first] = res["bodies"].get(first, 0) + 1
            res["sample"].setdefault(code, body)
        except (OSError, http.client.HTTPException) as e:
            res["errors"].append(f"{type(e).__name__}: {e}")
        finally:
            conn.close()
    return res


def read_line(sock):
    data = b""
    while b"\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data, True
        data += chunk
    return data, False


def do_stream(op, tls):
    res = {"connected": False, "reply": None, "eof": None, "error": None}
    try:
        sock = socket.create_connection((op["host"], op["port"]), timeout=op.get("timeout", TIMEOUT))
    except OSError as e:
        res["error"] = f"connect: {type(e).__name__}: {e}"
        return res
    res["connected"] = True
    try:
        if tls:
            res["handshake"] = False
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            try:
                sock = ctx.wrap_socket(sock, server_hostname=op["sni"])
            except (OSError, ssl.SSLError) as e:
                res["error"] = f"handshake: {type(e).__name__}: {e}"
                return res
            res["handshake"] = True
            res["cert_sha256"] = hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()
        try:
            sock.sendall(op["line"].encode() + b"\n")
            data, eof = read_line(sock)
            res["reply"], res["eof"] = data.decode(errors="replace"), eof
        except (OSError, ssl.SSLError) as e:
            res["error"] = f"exchange: {type(e).__name__}: {e}"
        return res
    finally:
        sock.close()


def main():
    out = []
    for op in json.loads(sys.argv[1]):
        if op["op"] == "http":
            out.append(do_http(op))
        elif op["op"] in ("tcp", "tls"):
            out.append(do_stream(op, op["op"] == "tls"))
        else:
            sys.exit(f"unknown op {op['op']!r}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
