"""End to end, the whole mesh on loopback: trellis-cp on an App Mesh folder, one trellis-proxy
per virtual node, the sample apps, traffic through the front service (scripts/lib/mesh.py).

Checks that weight edits reach the proxies and change the split; that 20 consecutive edits
under steady load fail no request; that an invalid edit is rejected (reported by the cp) while
traffic continues on the old config; and that the proxies keep serving while the control plane
is down, reconnect when it is back, and take the next change. Every wait and load loop is
bounded; every process is stopped at the end.

Usage: mesh_e2e_test.py REPO_ROOT TRELLIS_PROXY TRELLIS_CP"""

import json
import os
import sys
import time
import unittest

REPO, PROXY, CP = (os.path.abspath(p) for p in sys.argv[1:4])
sys.path.insert(0, os.path.join(REPO, "scripts/lib"))
from mesh import Mesh, SteadyLoad, http_get, wait_until  # noqa: E402

RDS = "server.xds.rds.update_success"


class MeshE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(REPO, PROXY, CP)
        try:
            cls.mesh.start_apps()
            cls.mesh.start_cp()
            cls.mesh.start_proxies()
        except Exception:
            cls.mesh.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.close()

    def edit_and_wait(self, red, blue, green):
        before = self.mesh.proxy_stat("front", RDS)
        if self.mesh.set_weights(red, blue, green):
            self.mesh.wait_for_update("front", RDS, before)

    def test_1_weight_edits_change_the_split(self):
        self.edit_and_wait(100, 0, 0)
        self.assertEqual(self.mesh.split(50), {"red": 50})
        self.edit_and_wait(0, 100, 0)
        self.assertEqual(self.mesh.split(50), {"blue": 50})
        self.edit_and_wait(50, 0, 50)
        counts = self.mesh.split(400)
        self.assertEqual(set(counts), {"red", "green"}, counts)
        self.assertAlmostEqual(counts["red"] / 400, 0.5, delta=0.1)

    def test_2_twenty_edits_under_steady_load_fail_nothing(self):
        load = SteadyLoad(self.mesh, threads=4, max_seconds=120).start()
        try:
            wait_until("load to flow", lambda: sum(load.counts.values()) > 20)
            weights = [(100, 0, 0), (0, 100, 0), (0, 0, 100), (50, 50, 0), (0, 50, 50)]
            for i in range(20):
                self.edit_and_wait(*weights[i % len(weights)])
        finally:
            load.stop()
        self.assertEqual(load.failures, [], f"{len(load.failures)} failed requests: {load.failures[:5]}")
        self.assertGreater(sum(load.counts.values()), 100)
        self.assertEqual(set(load.counts) - {"red", "blue", "green"}, set(), load.counts)

    def test_3_invalid_edit_is_rejected_and_traffic_continues(self):
        self.edit_and_wait(0, 0, 100)
        status, body = http_get(self.mesh.cp_admin, "/status")
        good_builds = json.loads(body)
        with open(self.mesh.route_path()) as f:
            route = json.load(f)
        route["spec"]["httpRoute"]["action"]["weightedTargets"][0]["weight"] = 101  # App Mesh allows 0-100
        self.mesh.write_file("colorteller-route.json", json.dumps(route))

        def reported():
            status, body = http_get(self.mesh.cp_admin, "/status")
            return "101" in body and "weight" in body

        wait_until("the cp to report the invalid weight", reported)
        self.assertEqual(self.mesh.split(30), {"green": 30})
        self.assertTrue(good_builds)
        self.edit_and_wait(100, 0, 0)  # a valid edit after it is served again
        self.assertEqual(self.mesh.split(20), {"red": 20})

    def test_4_proxies_survive_a_control_plane_restart(self):
        self.edit_and_wait(100, 0, 0)
        port = self.mesh.cp_port
        self.mesh.stop_cp()
        self.assertEqual(self.mesh.split(30), {"red": 30})
        self.mesh.set_weights(0, 0, 100)  # edited while the cp is down
        self.assertEqual(self.mesh.split(10), {"red": 10})
        before = self.mesh.proxy_stat("front", RDS)
        self.mesh.start_cp(port)
        # The proxy reconnects by itself (backoff at most 30 s) and takes the change.
        self.mesh.wait_for_update("front", RDS, before, timeout=60)
        self.assertEqual(self.mesh.split(20), {"green": 20})
        self.assertEqual(self.mesh.proxy_stat("front", "server.control_plane.connected_state"), 1)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
