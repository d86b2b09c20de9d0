#!/usr/bin/env python3
"""A tiny sample application for the demos: answers every request with its name.

    sample_app.py --name red [--port 0]
    sample_app.py --name front --port 8080 --backend http://127.0.0.1:15101/ \
                  --backend-host colorteller.color-mesh.local:9080

Prints "listening on PORT" once bound (port 0 picks a free one). HTTP/1.1 with keep-alive,
GET /ping answers "pong", every other path answers NAME and a newline (with --echo-request:
"NAME host=HOST path=PATH", what reached it, for checking a proxy's rewrites). With --backend, each
request is passed on to the backend (through the sidecar's outbound listener, with the virtual
service's name as Host, as an app in the mesh would) and the answer is "NAME -> BACKEND'S ANSWER".
"""
import argparse
import http.client
import http.server
import sys
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--backend", help="URL to call for every request")
    ap.add_argument("--backend-host", help="Host header for the backend call")
    ap.add_argument("--echo-request", action="store_true", help="answer with the Host and path received")
    args = ap.parse_args()
    body = (args.name + "\n").encode()
    backend = urllib.parse.urlsplit(args.backend) if args.backend else None

    def answer(path):
        if path == "/ping":
            return 200, b"pong\n"
        if not backend:
            return 200, body
        try:
            conn = http.client.HTTPConnection(backend.hostname, backend.port, timeout=10)
            conn.request("GET", backend.path or "/", headers={"Host": args.backend_host or backend.netloc})
            resp = conn.getresponse()
            data = resp.read().decode(errors="replace").strip()
            conn.close()
            if resp.status != 200:
                return 502, f"{args.name} -> backend answered {resp.status}: {data}\n".encode()
            return 200, f"{args.name} -> {data}\n".encode()
        except OSError as e:
            return 502, f"{args.name} -> backend unreachable: {e}\n".encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response (flushed at the end of each request), so Nagle's algorithm
        # and delayed ACKs never add 40 ms between the head and the body.
        wbufsize = 1 << 16

        def do_GET(self):
            status, out = answer(self.path)
            if args.echo_request and self.path != "/ping":
                out = f"{args.name} host={self.headers.get('host', '')} path={self.path}\n".encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            self.rfile.read(length)
            self.do_GET()

        def log_message(self, fmt, *a):
            pass

    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
