"""The stability constants at the cost of the question (issue 16 item 3): ``lei_linf`` / ``lei_l1``
state a certified lower bound on ``c_inf`` / ``c_1`` unless the exact constant is cheap, and
``exact_constants=True`` makes it exact wherever the exact engines reach; the definiteness tests
behind ``aberdam_oracle`` / ``aberdam_thm2`` decide from exact float-found evidence as the checker
decides from its characteristic polynomial."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import flint
import numpy as np
import pytest

from theorychk.certify import stability
from theorychk.certify._intlinalg import ShiftedDefiniteness, _definiteness_proof, gram
from theorychk.certify.certificate import build_certificate, sample_latents
from theorychk.check.core import check_certificate, trace
from theorychk.check.rationals import is_positive_definite
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


# --- positive definiteness from float-found exact evidence ----------------------------------------


def test_definiteness_proof_is_never_wrong_and_usually_decides():
    rng = np.random.default_rng(7)
    decided = {True: 0, False: 0, None: 0}
    for _ in range(300):
        k = int(rng.integers(1, 9))
        a = rng.integers(-50, 51, (k + int(rng.integers(0, 4)), k))
        g = (a.T @ a).astype(object)
        ev = np.linalg.eigvalsh((a.T @ a).astype(float))
        # shifts just inside / outside the spectrum, and at an eigenvalue rounded to a rational
        q = F(float(ev[int(rng.integers(0, k))])).limit_denominator(1 << 20) + F(int(rng.integers(-3, 4)), 1 << 12)
        for sign in (1, -1):
            n = sign * (g * q.denominator - np.eye(k, dtype=object) * q.numerator)
            got = _definiteness_proof(n)
            truth = is_positive_definite(flint.fmpz_mat(n.tolist()))
            assert got is None or got == truth, (n, got, truth)
            decided[got] += 1
    assert decided[True] > 50 and decided[False] > 50


def test_definiteness_proof_never_proves_a_singular_gram():
    """Rank-deficient Grams are PSD, not PD: floats put their smallest eigenvalue at +-1e-16, and
    the Cholesky of the slightly shifted matrix may succeed; only the exact remainder's diagonal
    dominance tells them apart."""
    rng = np.random.default_rng(0)
    for _ in range(1000):
        k = int(rng.integers(2, 9))
        a = rng.integers(-50, 51, (int(rng.integers(1, k)), k))  # fewer rows than columns
        assert _definiteness_proof((a.T @ a).astype(object)) is not True


def test_zoo_gram_is_decided_without_the_charpoly_and_as_the_checker():
    from theorychk import zoo
    from theorychk.certify.signal import observed_rows, support

    net = zoo.load("vae784-relu")
    tr = trace(net, [F(v) for v in sample_latents(net, 2, 0)[1]])
    for j, cols in ((0, None), (1, support(tr, 0))):
        g, s = gram(tr.int_layer(j), observed_rows(tr, j), cols)
        pd = ShiftedDefiniteness(g, s)
        lo, hi = stability._eigen_bounds(g, s)
        for t, sign in ((lo, 1), (hi, -1), (lo * 2, -1)):
            assert pd.holds(t, sign) == _shift_pd(g, s, t, sign)
        assert pd._p is None  # every decision came from exact evidence, not the characteristic polynomial


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
