"""The servers of the netns world, one process per namespace, each server a thread.

    netns_servers.py READY_FIFO SPEC...

SPEC is one of
    http:ADDR:PORT:NAME          HTTP/1.1, every GET answers 200 with body "NAME\\n"
    echo:ADDR:PORT:NAME          TCP, each line L read is answered "NAME echo: L\\n"
    tls:ADDR:PORT:NAME:CERT:KEY  TLS with that certificate, then as echo
Writes "ready" and a newline into READY_FIFO once every socket listens. Stdlib only."""

import http.server
import socket
import socketserver
import ssl
import sys
import threading


class Http(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def http_handler(name):
    body = (name + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 65536  # headers and body in one write (flushed after each request)

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


class Echo(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def echo_handler(name, tls=None):
    class Handler(socketserver.StreamRequestHandler):
        timeout = 10

        def setup(self):
            if tls:
                self.request.settimeout(10)
                self.request = tls.wrap_socket(self.request, server_side=True)
            super().setup()

        def handle(self):
            for line in self.rfile:
                self.wfile.write(f"{name} echo: ".encode() + line.rstrip(b"\n") + b"\n")
                self.wfile.flush()

    return Handler


class TlsEcho(Echo):
    def handle_error(self, request, client_address):
        pass  # handshakes the test makes fail on purpose are not news


def main():
    ready, specs = sys.argv[1], sys.argv[2:]
    servers = []
    for spec in specs:
        kind, addr, port, name, *rest = spec.split(":")
        if kind == "http":
            servers.append(Http((addr, int(port)), http_handler(name)))
        elif kind == "echo":
            servers.append(Echo((addr, int(port)), echo_handler(name)))
        elif kind == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(rest[0], rest[1])
            servers.append(TlsEcho((addr, int(port)), echo_handler(name, ctx)))
        else:
            sys.exit(f"unknown server kind {kind!r} in {spec!r}")
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(ready, "w") as f:
        f.write("ready\n")
    threading.Event().wait()


if __name__ == "__main__":
    main()
