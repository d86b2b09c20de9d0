"""The virtual gateway demo (scripts/demo-gateway): a client calls the virtual gateway's proxy,
whose gateway route sends /color to the color.local service, whose router splits 90/10 between
color-v1 and color-v2. Prints what the gateway received from trellis-cp (trellis-cp explain),
the observed split over a bounded number of requests, and the Host and path the backends saw."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gateway_mesh import GATEWAY_ID, GatewayMesh  # noqa: E402

REQUESTS = int(os.environ.get("DEMO_REQUESTS", "400"))


def main(repo, proxy_bin, cp_bin):
    mesh = GatewayMesh(repo, proxy_bin, cp_bin)
    try:
        mesh.start_apps()
        mesh.start_cp()
        mesh.start_gateway()
        print(f"trellis-cp on 127.0.0.1:{mesh.cp_port}, serving {mesh.dir}")
        print(f"gateway proxy (node id {GATEWAY_ID}) listening on :{mesh.gateway_port}, admin :{mesh.admin['gateway']}")
        print(f"apps: " + ", ".join(f"{v} :{p}" for v, p in mesh.app_ports.items()))
        print("\n$ trellis-cp explain " + GATEWAY_ID + " DIR")
        explain = subprocess.run([cp_bin, "explain", GATEWAY_ID, mesh.dir], capture_output=True, text=True, timeout=30)
        print("  " + explain.stdout.strip().replace("\n", "\n  "))
        print(f"\nclient -> gateway :{mesh.gateway_port} /color -> color.local router 90/10, {REQUESTS} requests:")
        versions, answers = mesh.gateway_split(REQUESTS)
        for v, n in sorted(versions.items()):
            print(f"  {v:<10} {n:>4} ({100.0 * n / REQUESTS:.1f}%)")
        print("what the backends received (the gateway rewrote Host to the service and /color to /):")
        for body, n in sorted(answers.items()):
            print(f"  {n:>4} x {body}")
        status, body = mesh.request("/healthz")
        print(f"GET /healthz on the gateway: {status} {body}")
        status, body = mesh.request("/elsewhere")
        print(f"GET /elsewhere on the gateway: {status} (no gateway route)")
    finally:
        mesh.close()
    print("stopped everything")


if __name__ == "__main__":
    main(*sys.argv[1:4])
