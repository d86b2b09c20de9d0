"""The mesh demo (scripts/demo): App Mesh's color app on Trellis. Starts the apps, trellis-cp on
config/examples/colorapp and one trellis-proxy per virtual node, drives traffic through the
front service, edits the route's weights three times and prints the split after each change."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mesh import Mesh  # noqa: E402

REQUESTS = int(os.environ.get("DEMO_REQUESTS", "200"))


def show(mesh, label):
    counts = mesh.split(REQUESTS)
    parts = ", ".join(f"{k} {v} ({100.0 * v / REQUESTS:.0f}%)" for k, v in sorted(counts.items()))
    print(f"  {label:<28} {parts}")


def main(repo, proxy_bin, cp_bin):
    mesh = Mesh(repo, proxy_bin, cp_bin)
    try:
        mesh.start_apps()
        mesh.start_cp()
        mesh.start_proxies()
        print(f"trellis-cp on 127.0.0.1:{mesh.cp_port} (admin :{mesh.cp_admin}), serving {mesh.dir}")
        for n in ["front", "colorteller-red", "colorteller-blue", "colorteller-green"]:
            p = mesh.ports[n]
            print(f"  {n:<18} sidecar inbound :{p['inbound']} outbound :{p['outbound']} "
                  f"admin :{mesh.admin[n]}  app :{p['app']}")
        print(f"\nclient -> front's sidecar -> front app -> front's sidecar -> colorteller-* sidecar -> app,"
              f" {REQUESTS} requests per step:")
        show(mesh, "route red 100")
        for weights in [(80, 20, 0), (0, 0, 100)]:
            before = mesh.proxy_stat("front", "server.xds.rds.update_success")
            if mesh.set_weights(*weights):
                mesh.wait_for_update("front", "server.xds.rds.update_success", before)
            show(mesh, "route red {} blue {} green {}".format(*weights))
        print("\nfront proxy's xDS stats:")
        for stat in ["server.xds.lds.update_success", "server.xds.cds.update_success",
                     "server.xds.rds.update_success", "server.xds.eds.update_success"]:
            print(f"  {stat}: {mesh.proxy_stat('front', stat)}")
    finally:
        mesh.close()
    print("stopped everything")


if __name__ == "__main__":
    main(*sys.argv[1:4])
