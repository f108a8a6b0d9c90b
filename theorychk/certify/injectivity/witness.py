"""Witness search for a non-injective layer: random points whose active set looks
rank-deficient, and a greedy LP descent that forces rows negative one at a time. Every pair
returned is exact and has passed the checker."""

from __future__ import annotations

import numpy as np

from theorychk.certify.injectivity.domain import _Ball, _Domain, _floats, _interior
from theorychk.certify.injectivity.evidence import _LayerData, _pair_from_point, _rationalize
from theorychk.certify.injectivity.lp import _HyperplaneLP
from theorychk.certify.injectivity.results import TOLERANCES, Pair
from theorychk.network import Layer
from theorychk.runtime import Deadline


def _sample_points(layer: Layer, rng: np.random.Generator, n: int, dom: _Domain | None) -> np.ndarray:
    d = layer.n_in
    W, b = layer.weight, layer.bias
    if dom is not None:
        if isinstance(dom, _Ball):
            c = np.array([float(v) for v in dom.center], dtype=float)
            g = rng.standard_normal((n, d))
            g /= np.linalg.norm(g, axis=1, keepdims=True)
            return c + g * float(dom.radius) * rng.random((n, 1)) ** (1 / d)
        lo = np.array([-1e3 if v is None else float(v) for v in dom.lower])
        up = np.array([1e3 if v is None else float(v) for v in dom.upper])
        return lo + (up - lo) * rng.random((n, d))
    g = rng.standard_normal((n, d))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    if not np.any(b):
        return g
    norms = np.linalg.norm(W, axis=1)
    ok = norms > 0
    rho = float(np.median(np.abs(b[ok]) / norms[ok])) if ok.any() else 1.0
    rho = rho if rho > 0 else 1.0
    return g * rho * 10 ** rng.uniform(-1.5, 1.5, size=(n, 1))


#: Active-set matrices per batched SVD in :func:`_sample_witness`, the granularity of its deadline
#: checks (256 of them for a 784 x 196 convolution took over a minute in one call).
_SVD_CHUNK = 16


def _singular_values(m: np.ndarray) -> np.ndarray:
    """Singular values of a batch of matrices (its own function so that a time-limit test can make
    each batch cost a known number of fake seconds)."""
    return np.linalg.svd(m, compute_uv=False)


def _sample_witness(data: _LayerData, rng: np.random.Generator, n: int, dom: _Domain | None,
                    tries: int = 4, deadline: Deadline | None = None) -> tuple[Pair | None, int | None, list[int]]:
    """Random points whose active set ``S(x)`` looks rank-deficient, verified exactly.

    Returns ``(pair, min_active, best_active_masks)``: the smallest exact ``|S(x)|`` seen among
    the verified points (an upper bound on the half-space depth) and the active sets of the
    most promising points (used to order the LPs). With ``deadline``, the scoring and the exact
    checks stop when it passes (what was not looked at is only not found: the search is a
    heuristic for REFUTED, every pair it returns is exact).
    """
    expired = deadline.expired if deadline is not None else (lambda: False)
    layer = data.layer
    W, b = layer.weight, layer.bias
    d = data.d
    X = _sample_points(layer, rng, n, dom)
    Z = X @ W.T + b
    A = Z >= 0
    counts = A.sum(axis=1)
    score = counts.astype(float)
    few = np.flatnonzero(counts >= d)
    if few.size:
        sel = few[np.argsort(counts[few])[: min(256, few.size)]]
        for start in range(0, sel.size, _SVD_CHUNK):
            if expired():
                break
            part = sel[start : start + _SVD_CHUNK]
            sv = _singular_values(A[part][:, :, None] * W[None, :, :])
            small = sv[:, -1] <= TOLERANCES["sample_rank"] * np.maximum(sv[:, 0], 1e-300)
            score[part[small]] = -1.0  # looks rank-deficient: try first
    order = np.argsort(score, kind="stable")
    best_masks: list[int] = []
    min_active = None
    for idx in order[: max(tries, 8)]:
        if expired():
            break
        cands = _rationalize(X[idx])
        xe = cands[-1]  # the float point itself, exactly
        if dom is not None and not _interior(dom, xe):
            continue
        act = data.active(xe)
        min_active = act.bit_count() if min_active is None else min(min_active, act.bit_count())
        best_masks.append(act)
        if len(best_masks) > tries:
            continue
        for xq in (cands[2], xe):  # a nearby point with small denominators first: readable witnesses
            a = data.active(xq)
            if (dom is None or _interior(dom, xq)) and data.normal(a) is not None:
                pair = _pair_from_point(data, xq, a, dom)
                if pair is not None:
                    return pair, min_active, best_masks
    return None, min_active, best_masks



def _greedy_witness(data: _LayerData, rng: np.random.Generator, deadline: Deadline, dom: _Domain | None,
                    starts: list[int], max_lps: int) -> tuple[Pair | None, int]:
    """Force rows negative one at a time (an LP each) until the rest no longer spans.

    A max-feasible-subsystem heuristic: from a point's active set ``S``, try to move a row
    ``r in S`` to the negative side keeping the others negative (one LP: the strict system of
    the off rows plus ``r``); stop when ``S`` is rank-deficient, then build the exact pair.
    """
    layer = data.layer
    box = None if dom is None else dom.boxes()[1]
    lp = _HyperplaneLP(layer.weight, layer.bias, _floats(box, 0), _floats(box, 1))
    for active in starts:
        while lp.solves < max_lps and not deadline.expired():
            if data.normal(active) is not None:
                # The strict system of the rows off `active` must be feasible (it held at the start
                # or after the last successful LP); the LP supplies a point with a margin.
                res = lp.solve(active)
                if res is not None and res[0] > TOLERANCES["lp_margin"]:
                    for xq in _rationalize(res[1]):
                        pair = _pair_from_point(data, xq, active, dom)
                        if pair is not None:
                            return pair, lp.solves
                break
            moved = False
            cand = [j for j in range(data.m) if active >> j & 1]
            rng.shuffle(cand)
            for r in cand[:12]:
                trial = active & ~(1 << r)
                res = lp.solve(trial)
                if res is not None and res[0] > TOLERANCES["lp_margin"]:
                    active = trial
                    moved = True
                    break
            if not moved:
                break
        if lp.solves >= max_lps or deadline.expired():
            break
    return None, lp.solves

