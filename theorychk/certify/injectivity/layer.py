"""The verdict on one layer: :func:`layer_injectivity`.

Rank first (``rank W < d`` refutes, an invertible activation with full column rank certifies),
then for ReLU a sampled witness, then the exact hyperplane method when ``C(m, d - 1)`` is small
enough, else the greedy witness search and the sufficient condition (half-space depth MILP +
sub-rank).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk._validation import NON_NEGATIVE_INT, POSITIVE_INT, SECONDS, check
from theorychk import exact
from theorychk.certify.injectivity.domain import _Domain, _parse_domain, _room
from theorychk.certify.injectivity.evidence import _LayerData, _simplify_below
from theorychk.certify.injectivity.hyperplane import _hyperplane_method
from theorychk.certify.injectivity.results import TOLERANCES, LayerInjectivity, Pair, thresholds
from theorychk.certify.injectivity.sufficient import _depth_milp
from theorychk.certify.injectivity.witness import _greedy_witness, _sample_witness
from theorychk.errors import InvalidInput, Reason
from theorychk.network import Layer, row_model
from theorychk.runtime import Deadline
from theorychk.verdict import Status, jsonable


def _zero_pair(data: _LayerData, dom: _Domain | None) -> Pair:
    """``rank W < d``: ``x`` and ``x + eps v`` with ``W v = 0`` have equal pre-activations."""
    v = exact.nullspace(data.layer.weight)[0]
    x = (dom.interior_point() if dom is not None else tuple(Fraction(0) for _ in range(data.d)))
    eps = Fraction(1) if dom is None else _simplify_below(_room(dom, x, v))
    return tuple(x), tuple(a + eps * c for a, c in zip(x, v))


def layer_injectivity(
    layer: Layer,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    max_exact_candidates: int = 100_000,
    domain: Any = None,
    layer_index: int | None = None,
    samples: int = 2048,
    milp_time_limit: float = 60.0,
    quiet: bool = True,
) -> LayerInjectivity:
    """Decide whether ``x -> act(W x + b)`` is injective (on ``domain``), with evidence.

    Parameters
    ----------
    layer : Layer
        ``weight`` of shape ``(m, d)``.
    time_limit : float, optional
        Seconds; on expiry the answer is UNKNOWN with reason ``"time limit ..."``.
    seed : int, optional
        Seeds the random witness search (recorded in the result).
    max_exact_candidates : int
        The exact hyperplane method runs when ``C(m, d - 1)`` is at most this; beyond it the
        witness search and the sufficient condition (half-space depth MILP + sub-rank) run.
    domain : dict, optional
        ``{"box": {"lower": [...], "upper": [...]}}`` or ``{"ball": {"center": [...], "radius": r}}``
        (numbers as floats, ints, Fractions or ``"p/q"``): injectivity on that set of inputs.
        A ball is certified through its bounding box and refuted by witnesses inside it.
    layer_index : int, optional
        The layer's position in its network (written into the claim).
    samples : int
        Random points tried by the witness search before any LP.
    milp_time_limit : float
        Seconds for the half-space-depth MILP of the large-size path (its dual bound at the
        limit is still a valid lower bound).
    quiet : bool
        No progress bar.

    Returns
    -------
    LayerInjectivity
        ``status``: CERTIFIED (injective), REFUTED (``witness``: ``x != x'`` with equal outputs,
        exact rationals), UNKNOWN (``reason``).

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[1.0, 2.0], [0.0, 1.0]])
    >>> layer_injectivity(Layer(np.vstack([B, -B]), None, "relu")).status.value
    'CERTIFIED'
    >>> r = layer_injectivity(Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu"), seed=0)
    >>> r.status.value, r.thresholds["necessary_m_ge_2d"]
    ('REFUTED', False)
    """
    start = time.perf_counter()
    if not isinstance(layer, Layer):
        raise InvalidInput(f"layer must be a theorychk Layer; got {type(layer).__name__}", argument="layer",
                           got=type(layer).__name__)
    check("time_limit", time_limit, [SECONDS, None])
    check("max_exact_candidates", max_exact_candidates, [POSITIVE_INT])
    check("seed", seed, [NON_NEGATIVE_INT, None])
    check("samples", samples, [NON_NEGATIVE_INT])
    check("layer_index", layer_index, [NON_NEGATIVE_INT, None])
    check("milp_time_limit", milp_time_limit, [SECONDS])
    deadline = Deadline(time_limit)
    rng = np.random.default_rng(seed)
    m, d = layer.weight.shape
    dom = _parse_domain(domain, d)
    act = layer.activation
    base = dict(layer=layer_index, shape=(m, d), activation=act.spec, has_bias=layer.has_bias,
                thresholds=thresholds(m, d, has_bias=layer.has_bias, relu=not act.invertible),
                domain=None if dom is None else dom.spec(),
                tolerances={**TOLERANCES, "max_exact_candidates": max_exact_candidates,
                            "milp_time_limit": milp_time_limit}, seed=seed)

    def done(status: Status, method: str, reason: str = "", **kw: Any) -> LayerInjectivity:
        pair = kw.get("witness")
        if pair is not None and "evidence" not in kw:
            kw["evidence"] = {"witness": {"x": jsonable(list(pair[0])), "x_prime": jsonable(list(pair[1]))}}
        return LayerInjectivity(status=status, method=method, reason=reason,
                                elapsed=time.perf_counter() - start, **base, **kw)

    data = _LayerData(layer)
    r = exact.rank(layer.weight)
    if r < d:
        return done(Status.REFUTED, "rank", f"rank W = {r} < {d}", witness=_zero_pair(data, dom),
                    stats={"rank": r})
    if act.invertible:
        return done(Status.CERTIFIED, "full column rank", evidence={"rank": r}, stats={"rank": r})
    if row_model(act).family != "relu":  # the sampling criterion (Puthawala et al.) is for ReLU layers
        return done(Status.UNKNOWN, "none", f"no injectivity criterion for activation {act.spec!r}")

    pair, min_active, hints = _sample_witness(data, rng, samples, dom, deadline=deadline)
    stats: dict[str, Any] = {"rank": r, "samples": samples}
    if pair is not None:
        return done(Status.REFUTED, "sampled point with a rank-deficient active set", witness=pair,
                    stats=stats)
    n_cand = math.comb(m, d - 1)
    if n_cand <= max_exact_candidates:
        res = _hyperplane_method(data, dom, deadline, hints, quiet=quiet)
        stats.update(res.stats)
        if res.status is Status.REFUTED:
            return done(Status.REFUTED, "hyperplanes (LP witness)", witness=res.witness, stats=stats)
        if res.status is Status.CERTIFIED:
            return done(Status.CERTIFIED, "hyperplanes (exact Farkas certificates)", evidence=res.evidence,
                        stats=stats)
        return done(Status.UNKNOWN, "hyperplanes", res.reason, stats=stats)
    return _large_layer(data, dom, deadline, rng, hints, min_active, stats, done, milp_time_limit)


def _large_layer(data: _LayerData, dom: _Domain | None, deadline: Deadline, rng: np.random.Generator,
                 hints: list[int], min_active: int | None, stats: dict[str, Any], done: Any,
                 milp_time_limit: float) -> LayerInjectivity:
    """Beyond the exact method: greedy witness search, then the sufficient condition."""
    from theorychk.invariants.subrank import sub_rank  # engine-side only

    m, d = data.m, data.d
    starts = sorted(set(hints), key=lambda a: a.bit_count())[:4] or [(1 << m) - 1]
    pair, lps = _greedy_witness(data, rng, deadline, dom, starts, max_lps=40 * m)
    stats["lps"] = lps
    if pair is not None:
        return done(Status.REFUTED, "greedy LP witness search", witness=pair, stats=stats)
    bounds: dict[str, Any] = {"halfspace_depth_upper": min_active}
    if deadline.expired():
        return done(Status.UNKNOWN, "witness search", Reason.TIME_LIMIT, bounds=bounds, stats=stats)
    if dom is not None:
        return done(Status.UNKNOWN, "witness search", "the sufficient condition is implemented for R^d only",
                    bounds=bounds, stats=stats)
    milp = _depth_milp(data.layer, deadline, milp_time_limit)
    bounds["halfspace_depth_lower"] = milp["lower"]
    bounds["milp"] = milp
    s = milp["lower"]
    if s < d:
        return done(Status.UNKNOWN, "half-space depth (MILP) + sub-rank",
                    f"half-space depth lower bound {s} < d = {d}: the sufficient condition cannot apply",
                    bounds=bounds, stats=stats)
    rem = deadline.remaining()
    sr = sub_rank(data.layer.weight, min(s, m), time_limit=None if rem is None else max(rem, 1.0))
    bounds["sub_rank"] = sr.to_dict()
    if sr.value == d:
        evidence = {"rank": d, "halfspace_depth_lower": s, "milp": milp, "sub_rank": sr.to_dict()}
        return done(Status.CERTIFIED, "half-space depth (MILP) + sub-rank", evidence=evidence,
                    evidence_kind="solver", bounds=bounds, stats=stats)
    why = sr.reason or f"sub_rank(W, {s}) = {sr.value} < d"
    return done(Status.UNKNOWN, "half-space depth (MILP) + sub-rank", f"sufficient condition not met: {why}",
                bounds=bounds, stats=stats)

