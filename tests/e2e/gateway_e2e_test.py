"""End to end, the virtual gateway on loopback (scripts/lib/gateway_mesh.py): trellis-cp on the
gateway fixture, a trellis-proxy as the virtual gateway, the two color versions as echoing apps.

Checks that /color through the gateway splits between color-v1 and color-v2 as the router's
90/10 says, within bounds taken from the binomial distribution (the proxy picks each request's
target at random with those weights); that the versions receive Host color.local and the path
with /color rewritten to / (App Mesh's default rewrites), query kept; that the gateway answers
its health check path itself and 404s a path no gateway route matches; and that a proxy given
an identity trellis-cp would never serve refuses to start, saying why.

Usage: gateway_e2e_test.py REPO_ROOT TRELLIS_PROXY TRELLIS_CP"""

import math
import os
import subprocess
import sys
import unittest

REPO, PROXY, CP = (os.path.abspath(p) for p in sys.argv[1:4])
sys.path.insert(0, os.path.join(REPO, "scripts/lib"))
from gateway_mesh import GatewayMesh  # noqa: E402

REQUESTS = 400
P_V1 = 0.9          # the route's weights: 90/10
FALSE_ALARM = 1e-6  # the chance a correct proxy fails this test


def binomial_bounds(n, p, alpha):
    """The smallest interval [lo, hi] with P(X < lo) <= alpha/2 and P(X > hi) <= alpha/2 for
    X ~ Binomial(n, p), from the exact distribution."""
    pmf = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    lo, below = 0, 0.0
    while below + pmf[lo] <= alpha / 2:
        below += pmf[lo]
        lo += 1
    hi, above = n, 0.0
    while above + pmf[hi] <= alpha / 2:
        above += pmf[hi]
        hi -= 1
    return lo, hi


class GatewayE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = GatewayMesh(REPO, PROXY, CP)
        try:
            cls.mesh.start_apps()
            cls.mesh.start_cp()
            cls.mesh.start_gateway()
        except Exception:
            cls.mesh.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.close()

    def test_split_follows_the_routers_weights(self):
        versions, _ = self.mesh.gateway_split(REQUESTS)
        self.assertEqual(set(versions), {"color-v1", "color-v2"}, versions)
        lo, hi = binomial_bounds(REQUESTS, P_V1, FALSE_ALARM)
        self.assertLess(hi, REQUESTS)  # the bounds can tell 90/10 from 100/0
        self.assertTrue(lo <= versions["color-v1"] <= hi,
                        f"color-v1 got {versions['color-v1']} of {REQUESTS}; expected {lo}-{hi} for p={P_V1}")

    def test_backends_see_the_rewritten_host_and_path(self):
        _, answers = self.mesh.gateway_split(50)
        for body in answers:
            self.assertRegex(body, r"^color-v[12] host=color.local path=/$")
        status, body = self.mesh.request("/color?shade=dark")
        self.assertEqual(status, 200)
        self.assertRegex(body, r"^color-v[12] host=color.local path=/\?shade=dark$")

    def test_health_check_and_unrouted_paths(self):
        self.assertEqual(self.mesh.request("/healthz"), (200, "healthy"))
        status, _ = self.mesh.request("/elsewhere")
        self.assertEqual(status, 404)

    def test_proxy_refuses_an_identity_the_cp_never_serves(self):
        bootstrap = os.path.join(REPO, "config/examples/sidecar-bootstrap.yaml")
        env = dict(os.environ, APPMESH_VIRTUAL_NODE_NAME="mesh/color-mesh/virtualGateway/color.gateway")
        run = subprocess.run([PROXY, "-c", bootstrap], env=env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("APPMESH_VIRTUAL_NODE_NAME=\"mesh/color-mesh/virtualGateway/color.gateway\": "
                      "virtualGateway name \"color.gateway\": '.' is not allowed", run.stdout + run.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
