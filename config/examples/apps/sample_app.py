#!/usr/bin/env python3
"""A tiny sample application for the demos: answers every request with its name.

    sample_app.py --name red [--port 0]

Prints "listening on PORT" once bound (port 0 picks a free one). HTTP/1.1 with keep-alive,
GET /ping answers "pong", every other path answers NAME and a newline.
"""
import argparse
import http.server
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    args = ap.parse_args()
    body = (args.name + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response (flushed at the end of each request), so Nagle's algorithm
        # and delayed ACKs never add 40 ms between the head and the body.
        wbufsize = 1 << 16

        def do_GET(self):
            out = b"pong\n" if self.path == "/ping" else body
            self.send_response(200)
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
