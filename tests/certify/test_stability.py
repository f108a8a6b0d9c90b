"""Stability claims: the guaranteed errors hold on sampled noise, and the checker re-derives them."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from theorychk.certify.certificate import build_certificate
from theorychk.certify.stability import STABILITY_KINDS, eigen_bounds
from theorychk.check.core import check_certificate, trace
from theorychk.network import Layer, Network
from theorychk.testing import strategies as tst

F = Fraction
EPS = F(1, 64)


def _layer_lp(net: Network, j: int, x_hat: np.ndarray, eps: float, ell: float, norm: str,
              rng: np.random.Generator) -> np.ndarray:
    """One step of Algorithm 1 (l_inf, random objective) or Algorithm 2 (l_1) of Lei et al. at the
    true noise level ``eps`` of ``x_hat``; for an invertible activation the pre-activation is inverted."""
    layer = net.layers[j]
    w, b = layer.weight, layer.bias
    n, d = w.shape
    relu = layer.activation.spec == "relu"
    target = x_hat if relu else layer.activation.inverse(x_hat)
    tol = eps if relu else ell * eps
    two_sided = (x_hat > eps) if relu else np.ones(n, dtype=bool)
    nonneg = j > 0 and net.layers[j - 1].activation.spec == "relu"
    xb = [(0, None) if nonneg else (None, None)] * d
    slack = 1e-9 * max(1.0, float(np.abs(target).max()))
    if norm == "inf":
        a_ub = np.vstack([w, -w[two_sided]])
        b_ub = np.r_[target - b + tol, -(target - b)[two_sided] + tol] + slack
        res = linprog(rng.standard_normal(d), A_ub=a_ub, b_ub=b_ub, bounds=xb, method="highs")
        assert res.status == 0, res.message  # x* is feasible
        return res.x
    # l_1: min sum e  s.t. W x + b - t <= e on all rows, -(W x + b - t) <= e on the two-sided rows
    eye = np.eye(n)
    a_ub = np.vstack([np.c_[w, -eye], np.c_[-w[two_sided], -eye[two_sided]]])
    b_ub = np.r_[target - b, -(target - b)[two_sided]] + slack
    res = linprog(np.r_[np.zeros(d), np.ones(n)], A_ub=a_ub, b_ub=b_ub, bounds=xb + [(0, None)] * n, method="highs")
    assert res.status == 0, res.message
    return res.x[:d]


def _chain(net: Network, y: np.ndarray, claim: dict, norm: str, rng: np.random.Generator) -> np.ndarray:
    x = y
    for entry in claim["evidence"]["layers"]:
        x = _layer_lp(net, entry["layer"], x, float(F(entry["noise_out"])), float(F(entry["lipschitz"])), norm, rng)
    return x


def _noise(rng: np.random.Generator, n: int, eps: float, norm: str) -> np.ndarray:
    e = rng.uniform(-1, 1, n)
    if norm == "1":
        return e / np.abs(e).sum() * eps * rng.uniform(0.5, 1.0)
    if norm == "2":
        return e / np.linalg.norm(e) * eps * rng.uniform(0.5, 1.0)
    return e * eps


def _check_lei(net: Network, z: list[Fraction], cert: dict, seed: int) -> int:
    rng = np.random.default_rng(seed)
    zf = np.array([float(v) for v in z])
    y = net.forward(zf)
    checked = 0
    for claim in cert["claims"]:
        if claim["kind"] not in ("lei_linf", "lei_l1") or claim["status"] != "CERTIFIED":
            continue
        norm = "inf" if claim["kind"] == "lei_linf" else "1"
        bound, eps = float(F(claim["evidence"]["bound"])), float(F(claim["evidence"]["noise"]))
        for _ in range(5):
            z_hat = _chain(net, y + _noise(rng, y.size, eps, norm), claim, norm, rng)
            err = np.abs(z_hat - zf).max() if norm == "inf" else np.abs(z_hat - zf).sum()
            assert err <= bound * (1 + 1e-6) + 1e-7, (claim["kind"], err, bound)
        checked += 1
    return checked


def _check_oracle(net: Network, z: list[Fraction], cert: dict) -> None:
    """E||x_hat_i - x_i||^2 = sigma^2 trace(A A^T), A = Wb_i^+ ... Wb_L^+: inside the certified interval."""
    claim = next(c for c in cert["claims"] if c["kind"] == "aberdam_oracle")
    if claim["status"] != "CERTIFIED":
        return
    tr = trace(net, z)
    sigma2 = float(F(claim["evidence"]["sigma"])) ** 2
    a = None
    bounds = {b["of"]: b for b in claim["evidence"]["bounds"]}
    for j in reversed(range(net.depth)):
        rows = tr.observed_rows(j)
        cols = tr.support(j - 1) if j else list(range(net.latent_dim))
        pinv = np.linalg.pinv(net.layers[j].weight[np.ix_(rows, cols)])
        if a is not None:  # the next stage reads the estimate on this layer's observed rows
            pinv = pinv @ a[rows_prev_index(rows, prev_cols)]
        a, prev_cols = pinv, cols
        expected = sigma2 * np.trace(a @ a.T)
        b = bounds["z" if j == 0 else f"x_{j}"]
        assert float(F(b["lower"])) * (1 - 1e-9) <= expected <= float(F(b["upper"])) * (1 + 1e-9), (j, expected, b)


def rows_prev_index(rows: list[int], prev_cols: list[int]) -> list[int]:
    """Positions of ``rows`` (units of x_{j+1}) inside the support ``prev_cols`` estimated one stage up."""
    where = {c: i for i, c in enumerate(prev_cols)}
    return [where[r] for r in rows]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tst.expansive_networks(latent_dim=(1, 3), depth=(1, 2), expansion=(2.0, 4.0),
                              final=("relu", "identity", "leaky_relu:0.25"), hidden=("relu",)),
       st.integers(0, 2**32 - 1))
def test_stability_bounds_hold_on_sampled_noise(net, seed):
    z = [F(float(v)) for v in np.random.default_rng(seed).standard_normal(net.latent_dim).astype(np.float32)]
    cert = build_certificate(net, z, source="test", kinds=STABILITY_KINDS, noise=EPS)
    report = check_certificate(cert, net)
    for claim, found in zip(cert["claims"], report.claims, strict=True):
        assert found.outcome == ("VERIFIED" if claim["status"] == "CERTIFIED" else "NO_CLAIM"), (claim, found)
    _check_lei(net, z, cert, seed)
    _check_oracle(net, z, cert)


def test_lei_chain_is_certified_on_an_expansive_net():
    rng = np.random.default_rng(3)
    net = Network([Layer(rng.standard_normal((12, 2)), None, "relu"), Layer(rng.standard_normal((30, 12)), None, "relu")])
    z = [F(1, 2), F(-3, 4)]
    cert = build_certificate(net, z, source="test", kinds=("lei_linf", "lei_l1", "aberdam_oracle"), noise=F(1, 1000))
    statuses = {c["kind"]: c["status"] for c in cert["claims"]}
    assert statuses == {"lei_linf": "CERTIFIED", "lei_l1": "CERTIFIED", "aberdam_oracle": "CERTIFIED"}
    assert _check_lei(net, z, cert, 0) == 2
    _check_oracle(net, z, cert)
    assert check_certificate(cert, net).verified


def test_aberdam_thm2_bound_holds_when_supports_are_recovered():
    from theorychk.solvers.pursuit import layered_basis_pursuit

    rng = np.random.default_rng(7)
    # sparse hidden layer (s_1 = 1) and an orthogonal-ish last layer: coherence hypotheses hold
    net = Network([Layer(np.array([[1.0], [-1.0], [0.5]]), np.array([0.0, 0.0, -2.0]), "relu"),
                   Layer(np.eye(3) + 0.05 * rng.standard_normal((3, 3)), None, "identity")])
    z = [F(3, 2)]
    eps = F(1, 100)
    cert = build_certificate(net, z, source="test", kinds=("aberdam_thm2",), noise=eps)
    claim = cert["claims"][0]
    assert claim["status"] == "CERTIFIED", claim["reason"]
    assert check_certificate(cert, net).verified
    bound = float(F(claim["evidence"]["bound"]))
    tr = trace(net, z)
    y = net.forward(np.array([1.5]))
    recovered = 0
    for _ in range(20):
        run = layered_basis_pursuit(net, y + _noise(rng, 3, float(eps), "2"), noise=float(eps), sparsity=[1])
        if np.array_equal(np.flatnonzero(run.hidden[0][0]), tr.support(0)):
            recovered += 1
            assert np.linalg.norm(run.latent[0] - 1.5) < bound, (run.latent, bound)
    assert recovered > 0


def test_eigen_bounds_enclose_the_spectrum():
    g = [[F(2), F(1)], [F(1), F(2)]]  # eigenvalues 1 and 3
    lo, hi = eigen_bounds(g)
    assert 0 < lo <= 1 and 3 <= hi < F(301, 100)
    assert eigen_bounds([[F(1), F(1)], [F(1), F(1)]]) is None  # singular: no positive lower bound


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tst.expansive_networks(latent_dim=(1, 3), depth=(1, 3), expansion=(2.0, 5.0),
                              final=("relu", "identity", "leaky_relu:0.25"), hidden=("relu",)),
       st.integers(0, 2**32 - 1))
def test_stability_bounds_hold_on_sampled_noise_many(net, seed):
    test_stability_bounds_hold_on_sampled_noise.hypothesis.inner_test(net, seed)

