"""The stability constants at the cost of the question (issue 16 item 3): ``lei_linf`` / ``lei_l1``
state a certified lower bound on ``c_inf`` / ``c_1`` unless the exact constant is cheap, and
``exact_constants=True`` makes it exact wherever the exact engines reach; the eigenvalue enclosures
behind ``aberdam_oracle`` / ``aberdam_thm2`` are decided by the checker's own test."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest

from theorychk.certify import stability
from theorychk.certify.certificate import build_certificate, sample_latents
from theorychk.check.core import check_certificate, trace
from theorychk.check.stability import _shift_pd
from theorychk.network import Layer, Network

F = Fraction


def mid_net() -> Network:
    """14 -> 60 -> 80: the first layer's ``|J| k^3`` lies between the cheap limit and the exact reach."""
    rng = np.random.default_rng(5)
    return Network([Layer(rng.standard_normal((60, 14)).astype(np.float32), None, "relu"),
                    Layer(rng.standard_normal((80, 60)).astype(np.float32), None, "identity")], name="mid")


def _layers(cert: dict, kind: str) -> dict[int, dict]:
    claim = next(c for c in cert["claims"] if c["kind"] == kind)
    assert claim["status"] == "CERTIFIED", claim.get("reason")
    return {e["layer"]: e for e in claim["evidence"]["layers"]}


@pytest.fixture(scope="module")
def pair() -> tuple[Network, dict, dict]:
    net = mid_net()
    z = sample_latents(net, 1, 0)[0]
    kw = dict(source="t", noise=F(1, 1000), kinds=("lei_linf", "lei_l1"), as_printed=False)
    default = json.loads(json.dumps(build_certificate(net, z, **kw)))
    exact = json.loads(json.dumps(build_certificate(net, z, exact_constants=True, **kw)))
    return net, default, exact


def test_first_layer_sits_between_the_cheap_limit_and_the_exact_reach(pair):
    net, default, _ = pair
    hyp = next(h for h in next(c for c in default["claims"] if c["kind"] == "lei_linf")["hypotheses"]
               if h["name"].startswith("layer 0"))
    cost = hyp["values"]["rows"] * net.latent_dim ** 3
    assert stability.EXACT_CINF_LIMIT < cost <= stability.EXACT_CINF_REACH


def test_default_states_a_lower_bound_exact_constants_the_constant(pair):
    net, default, exact = pair
    low, ex = _layers(default, "lei_linf")[0], _layers(exact, "lei_linf")[0]
    assert low["constant"] == "lower_bound" and set(low["c_evidence"]) == {"method", "y"}
    assert ex["constant"] == "exact" and "x" in ex["c_evidence"]
    assert 0 < F(low["c_lower"]) <= F(ex["c_lower"]) and F(low["c_lower"]) >= F(ex["c_lower"]) * F(95, 100)
    # the guarantee only loosens with the bound; the same statuses, both replayed by the checker
    assert F(next(c for c in default["claims"] if c["kind"] == "lei_linf")["evidence"]["bound"]) >= \
        F(next(c for c in exact["claims"] if c["kind"] == "lei_linf")["evidence"]["bound"])
    assert [c["status"] for c in default["claims"]] == [c["status"] for c in exact["claims"]]
    for cert in (default, exact):
        assert check_certificate(cert, net).verified


# Small layers keep the exact constant by default: tests/check/test_stability.py pins the "inj"
# net's lei_linf / lei_l1 layers "exact" (and "lower_bound" with EXACT_CINF_LIMIT = 0).


# --- eigenvalue enclosures, decided by the checker's test ------------------------------------------


def test_zoo_gram_enclosures_are_tight_and_the_checkers():
    from theorychk import zoo

    net = zoo.load("vae784-relu")
    tr = trace(net, [F(v) for v in sample_latents(net, 2, 0)[1]])
    for j, cols in ((0, None), (1, tr.support(0))):
        g, s = tr.gram(j, tr.observed_rows(j), cols), tr.int_layer(j).scale ** 2
        lo, hi = stability._eigen_bounds(g, s)
        assert _shift_pd(g, s, lo, 1) and _shift_pd(g, s, hi, -1)  # lo I < s G < hi I, as the checker decides
        ev = np.linalg.eigvalsh(g.ints().astype(float)) * float(s)
        assert ev[0] * (1 - 2e-3) <= lo < ev[0] and ev[-1] < hi <= ev[-1] * (1 + 2e-3)  # within 0.2 %


def test_c1_kernel_rays_only_when_cheap_unless_exact_constants():
    # 3 -> 10 -> 30: layer 0's C(|J|, 2) kernel-ray subsets lie between the cheap cap and the exact cap
    rng = np.random.default_rng(2)
    net = Network([Layer(rng.standard_normal((10, 3)).astype(np.float32), None, "relu"),
                   Layer(rng.standard_normal((30, 10)).astype(np.float32), None, "identity")])
    z = sample_latents(net, 1, 0)[0]
    kw = dict(source="t", noise=F(1, 1000), kinds=("lei_l1",), as_printed=False)
    default = json.loads(json.dumps(build_certificate(net, z, **kw)))
    exact = json.loads(json.dumps(build_certificate(net, z, exact_constants=True, **kw)))
    rows = next(h for h in default["claims"][0]["hypotheses"] if h["name"].startswith("layer 0"))["values"]["rows"]
    assert stability.KERNEL_CHEAP_CAP < math.comb(rows, 2) <= stability.KERNEL_CERTIFY_CAP
    low, ex = _layers(default, "lei_l1")[0], _layers(exact, "lei_l1")[0]
    assert (low["constant"], low["c_evidence"]["method"]) == ("lower_bound", "approx_left_inverse")
    assert (ex["constant"], ex["c_evidence"]["method"]) == ("exact", "kernel_rays")
    assert 0 < F(low["c_lower"]) <= F(ex["c_lower"])
    for cert in (default, exact):
        assert check_certificate(cert, net).verified


def test_exact_constants_never_changes_a_status():
    """Six nearly parallel rows (``1 + i 2^-51``): the float left inverse proves no bound, so the
    default path reaches for the exact engine before giving up -- as ``exact_constants=True``
    does -- instead of ending UNKNOWN where the exact kernel rays certify (a review found that)."""
    net = Network([Layer(np.array([[1.0, 1.0 + i * 2.0 ** -51] for i in range(1, 7)]), None, "identity")])
    kw = dict(source="t", noise=F(1, 1000), kinds=("lei_linf", "lei_l1"), as_printed=False)
    statuses = []
    for exact in (False, True):
        cert = build_certificate(net, [F(1, 2), F(1, 3)], exact_constants=exact, **kw)
        report = check_certificate(cert, net)
        statuses.append([(c["kind"], c["status"], o.outcome.value) for c, o in zip(cert["claims"], report.claims)])
    assert statuses[0] == statuses[1]
    assert ("lei_l1", "CERTIFIED", "VERIFIED") in statuses[0]
