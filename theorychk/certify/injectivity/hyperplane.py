"""The exact decision for a ReLU layer of small input dimension: the hyperplane method.

With ``rank W = d`` the layer is not injective iff some hyperplane spanned by ``d - 1`` rows
admits a point at which every row off it is strictly negative (the criterion and its proof are
in the package docstring). Each candidate hyperplane is one LP (:class:`~.lp._HyperplaneLP`):
a positive optimum gives an exact witness pair, a nonpositive one an exact Farkas certificate
that is re-used for every hyperplane containing no row of its support.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorychk.certify.injectivity.domain import _Domain, _finite, _floats
from theorychk.certify.injectivity.evidence import _exact_farkas, _LayerData, _pair_from_point, _rationalize
from theorychk.certify.injectivity.lp import _HyperplaneLP
from theorychk.certify.injectivity.results import TOLERANCES, Pair
from theorychk.check.injectivity import candidate_hyperplanes
from theorychk.runtime import Deadline, progress
from theorychk.errors import Reason, TimeLimitReached
from theorychk.verdict import Status, jsonable


@dataclass
class _Exact:
    status: Status
    reason: str = ""
    witness: Pair | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def _hyperplane_method(data: _LayerData, dom: _Domain | None, deadline: Deadline,
                       hints: list[int], quiet: bool = True) -> _Exact:
    """Decide injectivity of a ReLU layer with ``rank W = d`` over all candidate hyperplanes."""
    layer = data.layer
    try:
        hyps = candidate_hyperplanes(data.W, data.d, stop=deadline.expired if deadline.seconds else None)
    except TimeLimitReached:
        return _Exact(Status.UNKNOWN, f"{Reason.TIME_LIMIT} during the hyperplane enumeration")
    stats: dict[str, Any] = {"hyperplanes": len(hyps), "lps": 0, "farkas": 0}
    outer = inner = None
    if dom is not None:
        outer, inner = dom.boxes()
    lp = _HyperplaneLP(layer.weight, layer.bias, _floats(outer, 0), _floats(outer, 1))
    inner_lp = None
    # Order: hyperplanes holding more rows first (fewer constraints: likelier witnesses), then
    # those the best sampled points nearly satisfy (fewest off-hyperplane active rows).
    few = hints[:4]

    def key(h: tuple[tuple[int, ...], int]) -> tuple[int, int]:
        mem = h[1]
        return (-mem.bit_count(), min(((a & ~mem).bit_count() for a in few), default=0))

    hyps.sort(key=key)
    pool: list[tuple[int, int]] = []  # (support mask, certificate index), most recently useful first
    farkas: list[dict[str, Any]] = []
    assigned: list[list[Any]] = []
    undecided = 0
    with progress("hyperplanes", total=len(hyps), quiet=quiet) as bar:
        for n_done, (basis, members) in enumerate(hyps):
            bar.advance()
            if n_done % 64 == 0 and deadline.expired():
                stats.update(covered=n_done, undecided=undecided, lps=lp.solves, farkas=len(farkas))
                return _Exact(Status.UNKNOWN, f"{Reason.TIME_LIMIT} after {n_done} of {len(hyps)} hyperplanes",
                              stats=stats)
            hit = next((p for p, (mask, _) in enumerate(pool) if not mask & members), None)
            if hit is not None:
                entry = pool.pop(hit)
                pool.insert(0, entry)
                assigned.append([list(basis), entry[1]])
                continue
            res = lp.solve(members)
            if res is None:
                undecided += 1
                continue
            t, x, lam, mu = res
            pair = None
            if t > TOLERANCES["lp_margin"]:
                pair = _lp_witness(data, x, members, dom)
                if pair is None and dom is not None and dom.is_ball:
                    if inner_lp is None:
                        inner_lp = _HyperplaneLP(layer.weight, layer.bias, _floats(inner, 0),
                                                 _floats(inner, 1))
                    res2 = inner_lp.solve(members)
                    if res2 is not None and res2[0] > TOLERANCES["lp_margin"]:
                        pair = _lp_witness(data, res2[1], members, dom)
                    if pair is None:
                        undecided += 1  # feasible in the outer box, not shown inside the ball
                        continue
                if pair is not None:
                    stats.update(lps=lp.solves, farkas=len(farkas), hyperplane=list(basis))
                    return _Exact(Status.REFUTED, witness=pair, stats=stats)
            found = _exact_farkas(data, lam, mu, lp.box, members, _finite(outer))
            if found is None:
                if t <= TOLERANCES["lp_margin"]:
                    pair = _lp_witness(data, x, members, dom)
                    if pair is not None:
                        stats.update(lps=lp.solves, farkas=len(farkas), hyperplane=list(basis))
                        return _Exact(Status.REFUTED, witness=pair, stats=stats)
                undecided += 1
                continue
            entry, mask = found
            farkas.append(entry)
            pool.insert(0, (mask, len(farkas) - 1))
            assigned.append([list(basis), len(farkas) - 1])
    stats.update(lps=lp.solves + (inner_lp.solves if inner_lp else 0), farkas=len(farkas),
                 undecided=undecided)
    if undecided:
        why = "LP could not be turned into exact evidence" if dom is None or not dom.is_ball else \
            "feasible in the box around the ball but no witness inside the ball (or LP failure)"
        errors = lp.errors + (inner_lp.errors if inner_lp else 0)
        if errors:
            why = f"HiGHS returned an error on {errors} LPs"
            stats["highs_errors"] = errors
        return _Exact(Status.UNKNOWN, f"{undecided} hyperplanes undecided: {why}", stats=stats)
    evidence: dict[str, Any] = {"rank": data.d, "farkas": farkas, "hyperplanes": assigned}
    if outer is not None:
        evidence["box"] = {"lower": jsonable(list(outer[0])), "upper": jsonable(list(outer[1]))}
    return _Exact(Status.CERTIFIED, evidence=evidence, stats=stats)



def _lp_witness(data: _LayerData, x: np.ndarray, members: int, dom: _Domain | None) -> Pair | None:
    for xq in _rationalize(x):
        pair = _pair_from_point(data, xq, members, dom)
        if pair is not None:
            return pair
    return None

