"""Global injectivity of each layer and of a network, with evidence the checker re-verifies.

Untrusted engine: floats, HiGHS LPs and MILPs, random search. Every CERTIFIED and REFUTED
verdict it returns has first been re-verified by the trusted code of
:mod:`theorychk.check.injectivity` (the same functions the checker runs), except the
``evidence_kind: "solver"`` claims of the large-size sufficient condition, which are labelled.

The criterion (Puthawala et al. [1], directed spanning sets, with bias)
----------------------------------------------------------------------
For ``x -> ReLU(W x + b)`` with ``W`` of shape ``(m, d)`` let ``S(x) = {j : <w_j, x> + b_j >= 0}``.
The layer is injective iff ``{w_j : j in S(x)}`` spans ``R^d`` for every ``x``. It must be
"``>= 0``": with "``> 0``" and ``b = 0`` the condition fails at ``x = 0`` for every ``W``.

Exact decision for small ``d`` (the hyperplane algorithm)
--------------------------------------------------------
The layer is *not* injective iff (a) ``rank W < d``, or (b) some linear hyperplane ``L`` spanned
by ``d - 1`` independent rows admits ``x`` with ``<w_j, x> + b_j < 0`` for every row ``w_j`` not in
``L``. Proof: (b) => not injective: ``S(x)`` lies in ``L``, so it does not span. Not injective and
rank ``d`` => (b): take ``x`` with ``V = span S(x) != R^d``; extend a basis of ``V`` drawn from
``S(x)`` by rows of ``W`` (they span ``R^d``) to ``d - 1`` independent rows; their span ``L``
contains ``S(x)``, so every row off ``L`` is outside ``S(x)``, i.e. strictly negative at ``x``.

Each candidate is one LP, ``max t  s.t.  <w_j, x> + t <= -b_j`` (rows off ``L``), ``t <= 1``:
``t* > 0`` gives a witness point, ``t* <= 0`` gives, through its dual, a Farkas certificate
(``lambda >= 0``, ``lambda != 0``, ``sum lambda_j w_j = 0``, ``sum lambda_j b_j >= 0``; the
alternative theorem and its proof are in :mod:`theorychk.check.injectivity`). Certificates are
rebuilt exactly from the LP's support (an exact kernel, see :func:`_exact_farkas`) and re-used:
one certificate covers every hyperplane that contains no row of its support, so far fewer LPs
than hyperplanes are solved.

Witness pairs: ``x`` (exact rational) with every row off ``L`` negative and ``Delta`` the normal of
``L``; ``x' = x + eps Delta`` with ``eps`` small enough that the off rows stay negative. Rows in ``L``
see no change, so ``ReLU(W x + b) == ReLU(W x' + b)`` — checked by an exact forward pass.

Larger ``d``
------------
A witness search (random points whose active set is rank-deficient, then a greedy LP descent
that forces rows negative one at a time) and the sufficient condition: if every half-space
``{w : <w, x> + b >= 0}`` holds at least ``s`` rows (``s`` from a MILP: solver evidence) and
``sub_rank(W, s) = d`` (exact, :func:`theorychk.invariants.subrank.sub_rank`), the layer is
injective.

References
----------
[1] Puthawala, Kothari, Lassas, Dokmanic, de Hoop, "Globally injective ReLU networks",
    JMLR 23(105), 2022.
[2] Lei, Jiang, Wang, Ye, Zhang, "Inverting deep generative models, one layer at a time"
    (paper 001), Lemma 1 — claims injectivity w.h.p. at expansion 2.1; contradicted, see
    ``docs/injectivity.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import highspy
import numpy as np

from theorychk import exact
from theorychk._highs import new_highs
from theorychk.check.injectivity import (
    candidate_hyperplanes,
    check_farkas,
    check_layer_pair,
    check_network_pair,
    integer_rows,
)
from theorychk.errors import CertificateError, InvalidInput
from theorychk.network import Layer, Network
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline, progress
from theorychk.verdict import Status, jsonable

__all__ = [
    "LEMMA1_RATIO",
    "PUTHAWALA_LOWER",
    "PUTHAWALA_UPPER",
    "LayerInjectivity",
    "NetworkInjectivity",
    "layer_injectivity",
    "network_injectivity",
    "injectivity_probability",
    "thresholds",
]

#: Paper 001, Assumption 1 + Lemma 1: i.i.d. Gaussian ``W`` with ``m >= 2.1 d`` claimed injective w.h.p.
LEMMA1_RATIO = 2.1
#: Puthawala et al. [1], abstract: i.i.d. Gaussian bias-free layers are non-injective w.h.p.
#: below expansion about 3.4 and injective w.h.p. above about 10.5 (asymptotically in ``d``).
PUTHAWALA_LOWER = 3.4
PUTHAWALA_UPPER = 10.5

#: Tolerances of the float stages (recorded in every result; none of them decides a verdict).
TOLERANCES = {
    "lp_margin": 1e-9,  # t* above this: try the primal witness first
    "dual_support": 1e-9,  # relative size of a dual value to enter the certificate's support
    "sample_rank": 1e-9,  # relative singular value below which a sampled active set looks singular
    "highs_primal_feasibility_tolerance": 1e-9,
    "highs_dual_feasibility_tolerance": 1e-9,
}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def thresholds(m: int, d: int, *, has_bias: bool, relu: bool = True) -> dict[str, Any]:
    """How the expansion ``m / d`` of a ReLU layer compares with the known thresholds.

    * ``m >= 2d`` is necessary for injectivity on ``R^d``, with or without bias: for a direction
      ``v`` with no nonzero row orthogonal to it, ``S(R v)`` and ``S(-R v)`` (``R`` large) use
      disjoint sets of nonzero rows, so one of them has fewer than ``d``.
    * Paper 001, Lemma 1 claims injectivity w.h.p. for Gaussian bias-free ``W`` with ``m >= 2.1 d``.
    * Puthawala et al.: non-injective w.h.p. below about 3.4, injective w.h.p. above about 10.5.
    """
    ratio = m / d
    if not relu:
        regime = "invertible activation: injective iff rank W = d (expansion thresholds do not apply)"
    elif m < 2 * d:
        regime = "below 2: never injective on R^d"
    elif ratio < PUTHAWALA_LOWER:
        regime = "2 to 3.4: Gaussian layers non-injective w.h.p. for large d (Puthawala et al.)"
    elif ratio < PUTHAWALA_UPPER:
        regime = "3.4 to 10.5: between Puthawala et al.'s bounds"
    else:
        regime = "above 10.5: Gaussian layers injective w.h.p. (Puthawala et al.)"
    return {
        "expansion": ratio,
        "necessary_m_ge_2d": (m >= 2 * d) if relu else None,
        "lemma1_paper001_claims_injective": relu and (not has_bias) and ratio >= LEMMA1_RATIO,
        "puthawala_lower": PUTHAWALA_LOWER,
        "puthawala_upper": PUTHAWALA_UPPER,
        "regime": regime,
    }


Pair = tuple[tuple[Fraction, ...], tuple[Fraction, ...]]


@dataclass(frozen=True)
class LayerInjectivity:
    """The verdict on one layer: CERTIFIED injective, REFUTED (with ``witness``) or UNKNOWN.

    ``evidence`` is the JSON-ready evidence of the claim (rationals as ``"p/q"``);
    ``evidence_kind`` is ``"exact"`` (re-verifiable) or ``"solver"`` (MILP-proven). ``bounds``
    holds the best bounds of the large-size path (half-space depth, sub-rank); ``stats`` the
    work done (hyperplanes, LPs, Farkas certificates, samples).
    """

    status: Status
    method: str
    reason: str
    layer: int | None
    shape: tuple[int, int]
    activation: str
    has_bias: bool
    thresholds: dict[str, Any]
    witness: Pair | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    evidence_kind: str = "exact"
    domain: dict[str, Any] | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)
    seed: int | None = None
    elapsed: float = 0.0

    @property
    def injective(self) -> bool | None:
        return {Status.CERTIFIED: True, Status.REFUTED: False}.get(self.status)

    @property
    def expansion(self) -> float:
        return self.shape[0] / self.shape[1]

    @property
    def claims(self) -> list[dict[str, Any]]:
        """The ``layer_injective`` claim of this result, for a certificate."""
        claim: dict[str, Any] = {
            "kind": "layer_injective",
            "status": self.status.value,
            "layer": 0 if self.layer is None else self.layer,
            "hypotheses": [f"activation {self.activation}",
                           "domain " + ("R^d" if self.domain is None else "given")],
            "method": self.method,
            "evidence_kind": self.evidence_kind,
            "evidence": self.evidence,
        }
        if self.domain is not None:
            claim["domain"] = self.domain
        if self.status is Status.UNKNOWN:
            claim["reason"] = self.reason
        return [claim]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "status": self.status.value,
            "method": self.method,
            "reason": self.reason,
            "layer": self.layer,
            "shape": list(self.shape),
            "activation": self.activation,
            "has_bias": self.has_bias,
            "thresholds": jsonable(self.thresholds),
            "witness": None if self.witness is None else {"x": jsonable(self.witness[0]),
                                                          "x_prime": jsonable(self.witness[1])},
            "evidence_kind": self.evidence_kind,
            "evidence": jsonable(self.evidence),
            "domain": self.domain,
            "bounds": jsonable(self.bounds),
            "stats": jsonable(self.stats),
            "tolerances": jsonable(self.tolerances),
            "seed": self.seed,
            "elapsed": self.elapsed,
        }
        return out


@dataclass(frozen=True)
class NetworkInjectivity:
    """Per-layer verdicts and the network's: CERTIFIED when every layer is injective, REFUTED
    with latent codes ``z != z'`` and ``G(z) == G(z')`` (exact), else UNKNOWN with the reason."""

    status: Status
    reason: str
    layers: tuple[LayerInjectivity, ...]
    witness: Pair | None = None
    witness_source: str = ""
    domain: dict[str, Any] | None = None
    seed: int | None = None
    elapsed: float = 0.0

    @property
    def injective(self) -> bool | None:
        return {Status.CERTIFIED: True, Status.REFUTED: False}.get(self.status)

    @property
    def claims(self) -> list[dict[str, Any]]:
        """One ``layer_injective`` claim per layer, then the ``network_injective`` claim."""
        out = [c for layer in self.layers for c in layer.claims]
        claim: dict[str, Any] = {"kind": "network_injective", "status": self.status.value,
                                 "hypotheses": ["every layer injective => network injective"]}
        if self.status is Status.CERTIFIED:
            solver = any(layer.evidence_kind == "solver" for layer in self.layers)
            claim.update(method="layer-wise", evidence_kind="solver" if solver else "exact",
                         evidence={"layers": [layer.evidence for layer in self.layers]})
        elif self.status is Status.REFUTED:
            claim.update(method=self.witness_source, evidence_kind="exact", evidence={"witness": {
                "z": jsonable(self.witness[0]), "z_prime": jsonable(self.witness[1])}})  # type: ignore[index]
        else:
            claim.update(method="layer-wise", evidence_kind="exact", evidence={}, reason=self.reason)
        if self.domain is not None:
            claim["domain"] = self.domain
        out.append(claim)
        return out

    def summary(self) -> list[dict[str, Any]]:
        """One row per layer plus a row for the network, for a table."""
        rows = []
        for r in self.layers:
            rows.append({
                "layer": r.layer, "shape": f"{r.shape[0]}x{r.shape[1]}", "activation": r.activation,
                "bias": r.has_bias, "expansion": round(r.expansion, 3), "status": r.status.value,
                "method": r.method, "reason": r.reason, "regime": r.thresholds.get("regime", ""),
                "elapsed_s": round(r.elapsed, 3),
            })
        rows.append({"layer": "network", "shape": "x".join(map(str, self._widths())), "activation": "",
                     "bias": "", "expansion": "", "status": self.status.value,
                     "method": self.witness_source or "layer-wise", "reason": self.reason, "regime": "",
                     "elapsed_s": round(self.elapsed, 3)})
        return rows

    def _widths(self) -> list[int]:
        return [self.layers[0].shape[1], *(r.shape[0] for r in self.layers)] if self.layers else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "witness": None if self.witness is None else {"z": jsonable(self.witness[0]),
                                                          "z_prime": jsonable(self.witness[1])},
            "witness_source": self.witness_source,
            "domain": self.domain,
            "seed": self.seed,
            "elapsed": self.elapsed,
            "layers": [layer.to_dict() for layer in self.layers],
        }


# --------------------------------------------------------------------------------------------
# Domains (boxes and balls in the input space of a layer)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Domain:
    """A closed box (``lower``/``upper``, ``None`` = unbounded side) or a ball; exact numbers."""

    lower: tuple[Fraction | None, ...] | None = None
    upper: tuple[Fraction | None, ...] | None = None
    center: tuple[Fraction, ...] | None = None
    radius: Fraction | None = None

    @property
    def is_ball(self) -> bool:
        return self.radius is not None

    def spec(self) -> dict[str, Any]:
        if self.is_ball:
            return {"ball": {"center": jsonable(self.center), "radius": jsonable(self.radius)}}
        return {"box": {"lower": jsonable(self.lower), "upper": jsonable(self.upper)}}

    def boxes(self) -> tuple[tuple[list, list], tuple[list, list]]:
        """``(outer, inner)`` boxes: outer contains the domain (certify), inner lies in it (refute)."""
        if not self.is_ball:
            box = (list(self.lower), list(self.upper))  # type: ignore[arg-type]
            return box, box
        c, r = self.center, self.radius
        d = len(c)  # type: ignore[arg-type]
        # A rational rho <= r / sqrt(d): the open inner box then lies in the open ball.
        rho = r * Fraction(math.isqrt(10**12 // d), 10**6)  # type: ignore[operator]
        outer = ([v - r for v in c], [v + r for v in c])  # type: ignore[union-attr]
        inner = ([v - rho for v in c], [v + rho for v in c])  # type: ignore[union-attr]
        return outer, inner

    def contains(self, x: Sequence[Fraction]) -> bool:
        if self.is_ball:
            r2 = self.radius**2  # type: ignore[operator]
            return sum((a - c) ** 2 for a, c in zip(x, self.center)) <= r2  # type: ignore[arg-type]
        return all((lo is None or lo <= v) and (up is None or v <= up)
                   for lo, v, up in zip(self.lower, x, self.upper))  # type: ignore[arg-type]

    def interior_point(self) -> tuple[Fraction, ...]:
        if self.is_ball:
            return tuple(self.center)  # type: ignore[arg-type]
        out = []
        for lo, up in zip(self.lower, self.upper):  # type: ignore[arg-type]
            if lo is not None and up is not None:
                out.append((lo + up) / 2)
            elif lo is not None:
                out.append(lo + 1)
            elif up is not None:
                out.append(up - 1)
            else:
                out.append(Fraction(0))
        return tuple(out)


def _parse_domain(domain: Any, d: int) -> _Domain | None:
    if domain is None:
        return None
    if isinstance(domain, _Domain):
        return domain
    if not isinstance(domain, dict) or len(domain) != 1 or next(iter(domain)) not in ("box", "ball"):
        raise InvalidInput("domain must be None, {'box': {'lower': [...], 'upper': [...]}} or "
                           f"{{'ball': {{'center': [...], 'radius': r}}}}; got {domain!r}")
    body = domain.get("box") or domain.get("ball")
    if not isinstance(body, dict):
        raise InvalidInput(f"domain body must be a dict; got {body!r}")

    def vec(key: str) -> tuple[Fraction, ...]:
        v = body.get(key)
        if v is None or len(v) != d:
            raise InvalidInput(f"domain {key} must have length {d}; got {v!r}")
        return tuple(exact.rational(a) for a in v)

    if "box" in domain:
        lo, up = vec("lower"), vec("upper")
        if any(a >= b for a, b in zip(lo, up)):
            raise InvalidInput("domain box must have lower < upper in every coordinate")
        return _Domain(lower=lo, upper=up)
    r = exact.rational(body.get("radius"))
    if r <= 0:
        raise InvalidInput(f"domain ball radius must be positive; got {r}")
    return _Domain(center=vec("center"), radius=r)


# --------------------------------------------------------------------------------------------
# The per-hyperplane LP (HiGHS, warm-started)
# --------------------------------------------------------------------------------------------


class _HyperplaneLP:
    """``max t  s.t.  <w_j, x> + t <= -b_j`` (active rows), box rows ``x_i + t <= u_i``,
    ``-x_i + t <= -l_i``, ``t <= 1``; rows are normalised to unit length (a positive scaling,
    which changes neither feasibility nor the support of the dual). Rows are switched off by
    freeing their bounds, so one model serves every candidate."""

    def __init__(self, W: np.ndarray, b: np.ndarray, lower: Sequence[float | None] | None,
                 upper: Sequence[float | None] | None) -> None:
        m, d = W.shape
        rows = np.concatenate([W, b[:, None]], axis=1)
        norms = np.linalg.norm(rows, axis=1)
        norms[norms == 0] = 1.0
        self.norms = norms
        self.m, self.d = m, d
        a = [np.r_[W[j] / norms[j], 1.0] for j in range(m)]
        rhs = list(-b / norms)
        self.box: list[tuple[int, int]] = []  # (coordinate, +1 upper / -1 lower)
        for i in range(d):
            for sign, bounds in ((1, upper), (-1, lower)):
                if bounds is not None and bounds[i] is not None:
                    e = np.zeros(d + 1)
                    e[i], e[d] = sign, 1.0
                    a.append(e)
                    rhs.append(sign * float(bounds[i]))
                    self.box.append((i, sign))
        A = np.array(a)
        self.rhs = np.array(rhs)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = d + 1, A.shape[0]
        lp.col_cost_ = np.r_[np.zeros(d), -1.0]
        lp.col_lower_ = np.full(d + 1, -inf)
        lp.col_upper_ = np.r_[np.full(d, inf), 1.0]
        lp.row_lower_ = np.full(A.shape[0], -inf)
        lp.row_upper_ = self.rhs.copy()
        nz_r, nz_c = np.nonzero(A)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = d + 1, A.shape[0]
        lp.a_matrix_.start_ = np.searchsorted(nz_r, np.arange(A.shape[0] + 1)).astype(np.int32)
        lp.a_matrix_.index_ = nz_c.astype(np.int32)
        lp.a_matrix_.value_ = A[nz_r, nz_c]
        h = new_highs(presolve="off", random_seed=0,
                      primal_feasibility_tolerance=TOLERANCES["highs_primal_feasibility_tolerance"],
                      dual_feasibility_tolerance=TOLERANCES["highs_dual_feasibility_tolerance"])
        h.passModel(lp)
        self.h = h
        self.n_rows = A.shape[0]
        self.idx = np.arange(self.n_rows, dtype=np.int32)
        self.solves = 0
        self.errors = 0  # runs HiGHS itself failed (status kError), reported in the UNKNOWN reason

    def solve(self, free_rows: int) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        """Rows in the bitmask ``free_rows`` are switched off. Returns ``(t, x, lambda, mu)``
        with ``lambda >= 0`` per layer row (original scale) and ``mu >= 0`` per box row, or
        ``None`` if HiGHS did not reach optimality."""
        up = self.rhs.copy()
        for j in range(self.m):
            if free_rows >> j & 1:
                up[j] = highspy.kHighsInf
        self.h.changeRowsBounds(self.n_rows, self.idx, np.full(self.n_rows, -highspy.kHighsInf), up)
        if self.h.run() == highspy.HighsStatus.kError:
            self.errors += 1
        self.solves += 1
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.h.clearSolver()
            return None
        sol = self.h.getSolution()
        col = np.array(sol.col_value)
        dual = -np.array(sol.row_dual)  # HiGHS: a <= row of a min problem has a dual <= 0
        dual[dual < 0] = 0.0
        lam = dual[: self.m] / self.norms
        return float(col[-1]), col[:-1], lam, dual[self.m:]


# --------------------------------------------------------------------------------------------
# Exact reconstruction: witness pairs and Farkas certificates
# --------------------------------------------------------------------------------------------


def _rationalize(x: Sequence[float]) -> list[list[Fraction]]:
    """Candidate rational points near a float point, simplest first, the exact float last."""
    out = []
    for den in (1, 16, 2**10, 2**20, 2**40):
        out.append([Fraction(float(v)).limit_denominator(den) for v in x])
    out.append([Fraction(float(v)) for v in x])
    return out


class _LayerData:
    """The exact integer form of a layer and the bookkeeping the exact stages share."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.W, self.b, self.scale = integer_rows(layer)
        self.m, self.d = layer.n_out, layer.n_in

    def pre(self, x: Sequence[Fraction]) -> list[Fraction]:
        """Pre-activations in integer units (``(W x + b) / scale``): the signs are those of ``W x + b``."""
        return [sum((a * v for a, v in zip(row, x)), Fraction(0)) + bj for row, bj in zip(self.W, self.b)]

    def active(self, x: Sequence[Fraction]) -> int:
        return sum(1 << j for j, v in enumerate(self.pre(x)) if v >= 0)

    def normal(self, rows_mask: int) -> tuple[Fraction, ...] | None:
        """A nonzero vector orthogonal to the rows in the mask (``None`` if they span ``R^d``)."""
        rows = [self.W[j] for j in range(self.m) if rows_mask >> j & 1]
        if not rows:
            return tuple(Fraction(int(i == 0)) for i in range(self.d))
        basis = exact.nullspace(rows)
        return basis[0] if basis else None


def _pair_from_point(data: _LayerData, x: Sequence[Fraction], allowed: int, dom: _Domain | None
                     ) -> Pair | None:
    """An exact witness pair from a point ``x`` at which every row outside the bitmask ``allowed``
    is strictly negative and the rows in ``allowed`` do not span: ``x' = x + eps * Delta`` with
    ``Delta`` orthogonal to ``allowed``. ``None`` if the premises fail exactly."""
    z = data.pre(x)
    if any(z[j] >= 0 for j in range(data.m) if not allowed >> j & 1):
        return None
    if dom is not None and not _interior(dom, x):
        return None
    delta = data.normal(allowed)
    if delta is None:
        return None
    eps = Fraction(1)
    for j in range(data.m):
        if allowed >> j & 1:
            continue
        slope = sum((a * v for a, v in zip(data.W[j], delta)), Fraction(0))
        if slope > 0:  # keep z_j + eps * slope < 0
            eps = min(eps, -z[j] / slope / 2)
    if dom is not None:
        eps = min(eps, _room(dom, x, delta))
    eps = _simplify_below(eps)
    y = tuple(a + eps * v for a, v in zip(x, delta))
    x = tuple(x)
    try:
        check_layer_pair(data.layer, {"x": jsonable(list(x)), "x_prime": jsonable(list(y))},
                         None if dom is None else _check_dom(dom))
    except CertificateError:
        return None
    return x, y


def _check_dom(dom: _Domain) -> dict[str, Any] | None:
    """The domain in the form :func:`theorychk.check.injectivity.check_layer_pair` takes."""
    if dom.is_ball:
        return {"ball": (list(dom.center), dom.radius**2)}  # type: ignore[arg-type, operator]
    if any(v is None for v in (*dom.lower, *dom.upper)):  # type: ignore[misc]
        return None  # internal unbounded boxes (orthants) are checked by the caller
    return {"box": (list(dom.lower), list(dom.upper))}  # type: ignore[arg-type]


def _interior(dom: _Domain, x: Sequence[Fraction]) -> bool:
    if dom.is_ball:
        r2 = dom.radius**2  # type: ignore[operator]
        return sum((a - c) ** 2 for a, c in zip(x, dom.center)) < r2  # type: ignore[arg-type]
    return all((lo is None or lo < v) and (up is None or v < up)
               for lo, v, up in zip(dom.lower, x, dom.upper))  # type: ignore[arg-type]


def _room(dom: _Domain, x: Sequence[Fraction], delta: Sequence[Fraction]) -> Fraction:
    """A positive ``eps`` with ``x + eps * delta`` still in the domain (``x`` interior)."""
    if dom.is_ball:
        # |x - c| < r: |x + e delta - c| <= |x - c| + e |delta|_1 ... use a rational bound:
        # (r^2 - |x - c|^2) / (2 (|x - c|_1 + 1) |delta|_1 + |delta|_1^2) keeps it inside.
        r2 = dom.radius**2  # type: ignore[operator]
        gap = r2 - sum((a - c) ** 2 for a, c in zip(x, dom.center))  # type: ignore[arg-type]
        n1 = sum(abs(v) for v in delta)
        off = sum(abs(a - c) for a, c in zip(x, dom.center))  # type: ignore[arg-type]
        return min(Fraction(1), gap / (2 * off * n1 + n1 * n1 + 1) / 2)
    eps = Fraction(1)
    for lo, v, up, dv in zip(dom.lower, x, dom.upper, delta):  # type: ignore[arg-type]
        if dv > 0 and up is not None:
            eps = min(eps, (up - v) / dv / 2)
        if dv < 0 and lo is not None:
            eps = min(eps, (lo - v) / dv / 2)
    return eps


def _simplify_below(eps: Fraction) -> Fraction:
    """A simple positive rational ``<= eps`` (a power of two), for readable witnesses."""
    if eps <= 0:
        return eps
    k = 0
    while Fraction(1, 2**k) > eps:
        k += 1
    return Fraction(1, 2**k)


def _exact_farkas(data: _LayerData, lam: np.ndarray, mu: np.ndarray, box_rows: list[tuple[int, int]],
                  members: int, box: tuple[list, list] | None) -> tuple[dict[str, Any], int] | None:
    """Rebuild an exact Farkas certificate from an LP dual; ``(entry, support mask)`` or ``None``.

    The float dual only proposes a support ``P``. The certificate is taken from the exact kernel
    of the columns ``{w_j : j in P}`` (and ``+-e_i`` for box rows): if it is one-dimensional its
    generator is the only candidate up to scale; otherwise the float dual is projected onto it
    (any rational combination of kernel vectors satisfies the identity exactly). Entries that
    come out nonpositive are dropped from ``P`` and the kernel recomputed; a second attempt also
    imposes "bias term = 0" (for duals that sit exactly on it). The result is verified by the
    checker's own :func:`~theorychk.check.injectivity.check_farkas`.
    """
    d = data.d
    scale = data.scale
    top = max(float(lam.max(initial=0.0)), float(mu.max(initial=0.0)))
    if top <= 0:
        return None
    # Columns: ('w', j) with the integer row W_int[j] (lambda' = lambda * scale), ('e', k) box row k.
    cut = TOLERANCES["dual_support"] * top
    cols = [("w", j) for j in range(data.m) if lam[j] > cut and not members >> j & 1]
    cols += [("e", k) for k in range(len(mu)) if mu[k] > cut]
    # Float proposal in kernel units: column ('w', j) carries lambda_j * scale (W = scale * W_int).
    target_all = {("w", j): lam[j] * float(scale) for j in range(data.m)}
    for k in range(len(mu)):
        target_all[("e", k)] = mu[k]
    if box is not None:
        lo, up = box

    def vector(col: tuple[str, int]) -> list[int | Fraction]:
        kind, j = col
        if kind == "w":
            return list(data.W[j])
        i, sign = box_rows[j]
        return [sign if t == i else 0 for t in range(d)]

    def bias_term(col: tuple[str, int]) -> Fraction:
        # Contribution of one unit of the column to  sum lambda b - mu_up.u + mu_lo.l  (lambda' units)
        kind, j = col
        if kind == "w":
            return Fraction(data.b[j])
        i, sign = box_rows[j]
        return -Fraction(up[i]) if sign > 0 else Fraction(lo[i])

    for with_bias_eq in (False, True):
        support = list(cols)
        for _ in range(4):
            if not support or not any(c[0] == "w" for c in support):
                break
            mat = [[vector(c)[i] for c in support] for i in range(d)]
            if with_bias_eq:
                mat.append([bias_term(c) for c in support])
            basis = exact.nullspace(mat)
            if not basis:
                break
            y = np.array([float(target_all[c]) for c in support])
            if len(basis) == 1:
                v = list(basis[0])
                if sum(float(a) * t for a, t in zip(v, y)) < 0:
                    v = [-a for a in v]
            else:
                K = np.array([[float(a) for a in vec] for vec in basis]).T
                coef, *_ = np.linalg.lstsq(K, y, rcond=None)
                v = [sum((Fraction(float(c)) * vec[i] for c, vec in zip(coef, basis)), Fraction(0))
                     for i in range(len(support))]
            bad = [c for c, a in zip(support, v) if a <= 0]
            if bad:
                support = [c for c, a in zip(support, v) if a > 0]
                continue
            entry = _farkas_entry(data, support, v, box_rows)
            try:
                mask = check_farkas(entry, 0, data.W, data.b, scale, None if box is None else (lo, up))
            except CertificateError:
                break
            if mask & members:
                break
            return entry, mask
    return None


def _farkas_entry(data: _LayerData, support: list[tuple[str, int]], v: list[Any],
                  box_rows: list[tuple[int, int]]) -> dict[str, Any]:
    """The certificate in checker form, scaled to primitive integers (it is homogeneous)."""
    lam: dict[int, Fraction] = {}
    mu_up = [Fraction(0)] * data.d
    mu_lo = [Fraction(0)] * data.d
    for (kind, j), a in zip(support, v):
        a = Fraction(a)
        if kind == "w":
            lam[j] = a / data.scale  # lambda' = lambda * scale
        else:
            i, sign = box_rows[j]
            (mu_up if sign > 0 else mu_lo)[i] += a
    vals = list(lam.values()) + mu_up + mu_lo
    den = math.lcm(*(q.denominator for q in vals))
    ints = [q * den for q in vals]
    g = math.gcd(*(int(q) for q in ints)) or 1
    rows = sorted(lam)
    entry: dict[str, Any] = {"rows": rows, "multipliers": [jsonable(lam[j] * den / g) for j in rows]}
    if box_rows:
        entry["box_upper"] = [jsonable(q * den / g) for q in mu_up]
        entry["box_lower"] = [jsonable(q * den / g) for q in mu_lo]
    return entry


# --------------------------------------------------------------------------------------------
# Witness search by sampling
# --------------------------------------------------------------------------------------------


def _sample_points(layer: Layer, rng: np.random.Generator, n: int, dom: _Domain | None) -> np.ndarray:
    d = layer.n_in
    W, b = layer.weight, layer.bias
    if dom is not None:
        if dom.is_ball:
            c = np.array([float(v) for v in dom.center], dtype=float)  # type: ignore[union-attr]
            g = rng.standard_normal((n, d))
            g /= np.linalg.norm(g, axis=1, keepdims=True)
            return c + g * float(dom.radius) * rng.random((n, 1)) ** (1 / d)
        lo = np.array([-1e3 if v is None else float(v) for v in dom.lower])  # type: ignore[union-attr]
        up = np.array([1e3 if v is None else float(v) for v in dom.upper])  # type: ignore[union-attr]
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


def _sample_witness(data: _LayerData, rng: np.random.Generator, n: int, dom: _Domain | None,
                    tries: int = 4) -> tuple[Pair | None, int | None, list[int]]:
    """Random points whose active set ``S(x)`` looks rank-deficient, verified exactly.

    Returns ``(pair, min_active, best_active_masks)``: the smallest exact ``|S(x)|`` seen among
    the verified points (an upper bound on the half-space depth) and the active sets of the
    most promising points (used to order the LPs).
    """
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
        M = A[sel][:, :, None] * W[None, :, :]
        sv = np.linalg.svd(M, compute_uv=False)
        small = sv[:, -1] <= TOLERANCES["sample_rank"] * np.maximum(sv[:, 0], 1e-300)
        score[sel[small]] = -1.0  # looks rank-deficient: try first
    order = np.argsort(score, kind="stable")
    best_masks: list[int] = []
    min_active = None
    for idx in order[: max(tries, 8)]:
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


# --------------------------------------------------------------------------------------------
# The exact hyperplane method
# --------------------------------------------------------------------------------------------


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
    except InterruptedError:
        return _Exact(Status.UNKNOWN, "time limit during the hyperplane enumeration")
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
                return _Exact(Status.UNKNOWN, f"time limit after {n_done} of {len(hyps)} hyperplanes",
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


def _floats(box: tuple[list, list] | None, side: int) -> list[float | None] | None:
    return None if box is None else [None if v is None else float(v) for v in box[side]]


def _finite(box: tuple[list, list] | None) -> tuple[list, list] | None:
    """The box for the exact Farkas check; an unbounded side has no row, hence multiplier 0."""
    if box is None:
        return None
    lo, up = ([Fraction(0) if v is None else v for v in side] for side in box)
    return lo, up


def _lp_witness(data: _LayerData, x: np.ndarray, members: int, dom: _Domain | None) -> Pair | None:
    for xq in _rationalize(x):
        pair = _pair_from_point(data, xq, members, dom)
        if pair is not None:
            return pair
    return None


# --------------------------------------------------------------------------------------------
# Larger d: greedy witness search and the sufficient condition
# --------------------------------------------------------------------------------------------


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


def _depth_milp(layer: Layer, deadline: Deadline, time_cap: float) -> dict[str, Any]:
    """A lower bound on ``min_x |S(x)|`` (the half-space depth) by a MILP: solver evidence.

    Relaxation solved: ``min #{j : <(w_j, b_j), y> > 0}`` over ``y = (x, tau)``, ``tau >= 0``,
    ``||y||_inf = 1`` (``tau`` omitted without bias; ``x = 0`` is then handled by the rank).
    Every ``x`` gives ``y = (x, 1)/||(x, 1)||_inf`` with ``S(x)`` containing the rows counted, so
    the optimum is ``<= min_x |S(x)|``: a valid lower bound (weaker by the ties at the optimum,
    at most ``d`` rows for generic data). Binary ``a_j = 0`` forces ``<(w_j, b_j), y> <= 0``
    (big-M ``||(w_j, b_j)||_1``, exact on the box); ``u_i^+-`` pick a coordinate at ``+-1``.
    """
    W, b = layer.weight, layer.bias
    m, d = W.shape
    bias = bool(np.any(b))
    A = np.concatenate([W, b[:, None]], axis=1) if bias else W.copy()
    n = A.shape[1]
    A = A / np.maximum(np.abs(A).sum(axis=1, keepdims=True), 1e-300)  # positive row scaling
    # columns: y (n), a (m), u_plus (n), u_minus (n; not for tau)
    nu = n
    ncol = n + m + 2 * nu
    inf = highspy.kHighsInf
    lower = np.r_[-np.ones(n), np.zeros(m + 2 * nu)]
    upper = np.ones(ncol)
    if bias:
        lower[n - 1] = 0.0
        upper[n + m + nu + n - 1] = 0.0  # tau cannot be -1
    rows, lo, up = [], [], []
    for j in range(m):
        r = np.zeros(ncol)
        r[:n] = A[j]
        r[n + j] = -1.0  # big-M = ||row||_1 = 1 after scaling
        rows.append(r), lo.append(-inf), up.append(0.0)
    for i in range(n):
        r = np.zeros(ncol)
        r[i], r[n + m + i] = 1.0, -2.0  # y_i >= -1 + 2 u+_i
        rows.append(r), lo.append(-1.0), up.append(inf)
        r = np.zeros(ncol)
        r[i], r[n + m + nu + i] = 1.0, 2.0  # y_i <= 1 - 2 u-_i
        rows.append(r), lo.append(-inf), up.append(1.0)
    r = np.zeros(ncol)
    r[n + m:] = 1.0
    rows.append(r), lo.append(1.0), up.append(inf)
    M = np.array(rows)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, M.shape[0]
    lp.col_cost_ = np.r_[np.zeros(n), np.ones(m), np.zeros(2 * nu)]
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_, lp.row_upper_ = np.array(lo), np.array(up)
    nz_r, nz_c = np.nonzero(M)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = ncol, M.shape[0]
    lp.a_matrix_.start_ = np.searchsorted(nz_r, np.arange(M.shape[0] + 1)).astype(np.int32)
    lp.a_matrix_.index_ = nz_c.astype(np.int32)
    lp.a_matrix_.value_ = M[nz_r, nz_c]
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * n + [highspy.HighsVarType.kInteger] * (m + 2 * nu)
    h = new_highs(random_seed=0, mip_feasibility_tolerance=1e-9)
    rem = deadline.remaining()
    h.setOptionValue("time_limit", float(time_cap if rem is None else max(min(rem, time_cap), 0.5)))
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    bound = float(info.mip_dual_bound)
    lower_bound = max(0, math.ceil(bound - 1e-6)) if math.isfinite(bound) else 0
    return {"lower": lower_bound, "dual_bound": bound, "objective": float(info.objective_function_value),
            "status": status,
            "formulation": "min #{j: <(w_j,b_j),(x,tau)> > 0}, tau >= 0, ||(x,tau)||_inf = 1"}


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


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
        raise InvalidInput(f"layer must be a theorychk Layer; got {type(layer).__name__}")
    if not (isinstance(max_exact_candidates, int) and max_exact_candidates >= 1):
        raise InvalidInput(f"max_exact_candidates must be a positive integer; got {max_exact_candidates!r}")
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
    if act.name != "relu":
        return done(Status.UNKNOWN, "none", f"no injectivity criterion for activation {act.spec!r}")

    pair, min_active, hints = _sample_witness(data, rng, samples, dom)
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
        return done(Status.UNKNOWN, "witness search", "time limit", bounds=bounds, stats=stats)
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


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------


def _act_inverse(spec: str, y: Fraction) -> Fraction | None:
    """The exact preimage of one value under a bijective piecewise-linear activation."""
    name, *params = spec.split(":")
    if name == "identity":
        return y
    if name == "leaky_relu":
        s = exact.rational(float(params[0]))
        return y if y > 0 else y / s
    if name == "plu":
        a, c = exact.rational(float(params[0])), exact.rational(float(params[1]))
        if y > c:
            return (y - c) / a + c
        if y < -c:
            return (y + c) / a - c
        return y
    return None


def _solve_with_inequalities(eq: list[list[Fraction]], rhs: list[Fraction], le: list[list[Fraction]],
                             le_rhs: list[Fraction], n: int) -> tuple[Fraction, ...] | None:
    """An exact ``v`` with ``eq v = rhs`` and ``le v <= le_rhs``: the affine solution set
    ``v0 + N c`` exactly, a float LP for ``c`` (max margin), then an exact check."""
    v0 = exact.solve(eq, rhs) if eq else tuple(Fraction(0) for _ in range(n))
    if v0 is None:
        return None
    N = exact.nullspace(eq) if eq else tuple(tuple(Fraction(int(i == k)) for i in range(n)) for k in range(n))

    def ok(v: Sequence[Fraction]) -> bool:
        return all(sum((a * x for a, x in zip(row, v)), Fraction(0)) <= r for row, r in zip(le, le_rhs))

    if ok(v0):
        return tuple(v0)
    if not N or not le:
        return None
    from scipy.optimize import linprog  # engine-side only

    Nf = np.array([[float(a) for a in vec] for vec in N]).T  # n x k
    L = np.array([[float(a) for a in row] for row in le])
    slack = np.array([float(r) for r in le_rhs]) - L @ np.array([float(a) for a in v0])
    k = Nf.shape[1]
    # max s  s.t.  L N c + s <= slack,  s <= 1
    res = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.c_[L @ Nf, np.ones(len(le))], b_ub=slack,
                  bounds=[(None, None)] * k + [(None, 1.0)], method="highs")
    if res.status != 0 or res.x[-1] < 0:
        return None
    for cq in _rationalize(res.x[:k]):
        v = tuple(a + sum((c * vec[i] for c, vec in zip(cq, N)), Fraction(0)) for i, a in enumerate(v0))
        if ok(v):
            return v
    return None


def _preimage(layer: Layer, y: Sequence[Fraction], nonneg: bool) -> tuple[Fraction, ...] | None:
    """An exact input ``v`` with ``layer(v) == y`` (and ``v >= 0`` if ``nonneg``), or ``None``."""
    W = exact.to_fractions(layer.weight)
    b = [exact.rational(v) for v in layer.bias.tolist()]
    n = layer.n_in
    spec = layer.activation.spec
    if layer.activation.name == "relu":
        if any(v < 0 for v in y):
            return None
        eq = [list(W[j]) for j in range(len(y)) if y[j] > 0]
        rhs = [y[j] - b[j] for j in range(len(y)) if y[j] > 0]
        le = [list(W[j]) for j in range(len(y)) if y[j] == 0]
        le_rhs = [-b[j] for j in range(len(y)) if y[j] == 0]
    else:
        pre = [_act_inverse(spec, v) for v in y]
        if any(p is None for p in pre):
            return None
        eq, le, le_rhs = [list(r) for r in W], [], []
        rhs = [p - bj for p, bj in zip(pre, b)]  # type: ignore[operator]
    if nonneg:
        le = le + [[Fraction(-int(i == k)) for i in range(n)] for k in range(n)]
        le_rhs = le_rhs + [Fraction(0)] * n
    return _solve_with_inequalities(eq, rhs, le, le_rhs, n)


def _realize(net: Network, k: int, pair: Pair) -> Pair | None:
    """Latent codes whose layer-``k`` inputs are the witness pair, found exactly, or ``None``."""
    out = []
    for x in pair:
        v: Sequence[Fraction] | None = x
        for i in range(k - 1, -1, -1):
            nonneg = i > 0 and net.layers[i - 1].activation.name == "relu"
            v = _preimage(net.layers[i], v, nonneg)  # type: ignore[arg-type]
            if v is None:
                return None
        out.append(tuple(v))  # type: ignore[arg-type]
    return out[0], out[1]


def _latent_witness(net: Network, rng: np.random.Generator, n: int, dom: _Domain | None) -> Pair | None:
    """Latent ``z`` inside a linear region where the network's Jacobian is singular.

    On the open region around ``z`` (no pre-activation at a breakpoint) the network is affine
    with Jacobian ``J``; a null vector ``v`` of ``J`` (exact) and a step ``eps`` that keeps every
    pre-activation on its side give ``G(z) == G(z + eps v)``, checked exactly.
    """
    if not all(layer.activation.piecewise_linear for layer in net.layers):
        return None
    d = net.latent_dim
    if dom is not None:
        Z = _sample_points(net.layers[0], rng, n, dom)
    else:
        Z = rng.standard_normal((n, d)) * 10 ** rng.uniform(-1, 1, size=(n, 1))
    pre, _ = net.trace(Z)
    J = np.broadcast_to(np.eye(d), (n, d, d)).copy()
    for layer, p in zip(net.layers, pre):
        J = np.einsum("ij,njk->nik", layer.weight, J)
        J = _slopes(layer, p)[:, :, None] * J
    sv = np.linalg.svd(J, compute_uv=False)
    rel = sv[:, -1] / np.maximum(sv[:, 0], 1e-300)
    for idx in np.argsort(rel)[:4]:
        if rel[idx] > TOLERANCES["sample_rank"] and sv[idx, 0] > 0:
            break
        pair = _exact_latent_pair(net, [Fraction(float(v)) for v in Z[idx]], dom)
        if pair is not None:
            return pair
    return None


def _slopes(layer: Layer, pre: np.ndarray) -> np.ndarray:
    a = layer.activation
    if a.name == "relu":
        return (pre > 0).astype(float)
    if a.name == "leaky_relu":
        return np.where(pre > 0, 1.0, a.slope)  # type: ignore[attr-defined]
    if a.name == "plu":
        return np.where(np.abs(pre) <= a.c, 1.0, a.alpha)  # type: ignore[attr-defined]
    return np.ones_like(pre)


def _breaks(layer: Layer) -> list[Fraction]:
    a = layer.activation
    if a.name in ("relu", "leaky_relu"):
        return [Fraction(0)]
    if a.name == "plu":
        c = exact.rational(a.c)  # type: ignore[attr-defined]
        return [-c, c]
    return []


def _exact_latent_pair(net: Network, z: list[Fraction], dom: _Domain | None) -> Pair | None:
    import flint

    d = net.latent_dim
    x = z
    J = flint.fmpq_mat(d, d, [flint.fmpq(int(i == j)) for i in range(d) for j in range(d)])
    pres = []
    for layer in net.layers:
        p = [u + exact.rational(bj) for u, bj in zip(exact.matvec(layer.weight, x), layer.bias.tolist())]
        if any(p_ == c for p_ in p for c in _breaks(layer)):
            return None
        slopes = [Fraction(1) if not _breaks(layer) else _slope_exact(layer, v) for v in p]
        Wq = exact.to_fmpq_mat(layer.weight)
        J = Wq * J
        for i, s in enumerate(slopes):
            for j in range(d):
                J[i, j] = J[i, j] * flint.fmpq(s.numerator, s.denominator)
        pres.append((layer, p, slopes))
        x = list(exact.forward([(layer.weight, layer.bias, layer.activation.spec)], x)[0])
    basis = exact.nullspace(J)
    if not basis:
        return None
    v = list(basis[0])
    # Directional derivatives of every pre-activation along v; step eps keeps each on its piece.
    eps = Fraction(1)
    dx = v
    for layer, p, slopes in pres:
        dp = exact.matvec(layer.weight, dx)
        for pv, dv in zip(p, dp):
            if dv == 0:
                continue
            for c in _breaks(layer):
                gap = c - pv
                if (gap > 0) == (dv > 0):  # moving towards the breakpoint
                    eps = min(eps, gap / dv / 2)
        dx = [s * t for s, t in zip(slopes, dp)]
    z0 = tuple(z)
    if dom is not None:
        if not _interior(dom, z0):
            return None
        eps = min(eps, _room(dom, z0, v))
    eps = _simplify_below(eps)
    z1 = tuple(a + eps * c for a, c in zip(z0, v))
    try:
        check_network_pair(net, {"z": jsonable(list(z0)), "z_prime": jsonable(list(z1))},
                           None if dom is None else _check_dom(dom))
    except CertificateError:
        return None
    return z0, z1


def _slope_exact(layer: Layer, p: Fraction) -> Fraction:
    a = layer.activation
    if a.name == "relu":
        return Fraction(1) if p > 0 else Fraction(0)
    if a.name == "leaky_relu":
        return Fraction(1) if p > 0 else exact.rational(a.slope)  # type: ignore[attr-defined]
    if a.name == "plu":
        inside = abs(p) <= exact.rational(a.c)  # type: ignore[attr-defined]
        return Fraction(1) if inside else exact.rational(a.alpha)  # type: ignore[attr-defined]
    return Fraction(1)


def network_injectivity(
    net: Network,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    domain: Any = None,
    max_exact_candidates: int = 100_000,
    quiet: bool = True,
) -> NetworkInjectivity:
    """Per-layer injectivity and the network's, with evidence.

    The network is CERTIFIED injective when every layer is (layer 0 on ``domain`` if given,
    later layers on all of their input space): a composition of injective maps is injective.
    A non-injective layer 0 refutes the network (its witness pair is a pair of latent codes).
    A non-injective later layer ``k`` does not by itself: its witness inputs need not be outputs
    of layers ``0..k-1``. The engine then tries, exactly, (1) to pull the witness pair back
    through the earlier layers, (2) for a ReLU layer ``k - 1``, a witness with both points in
    the open positive orthant, pulled back likewise, and (3) a latent point in a linear region
    where the whole network's Jacobian is singular. If all fail: UNKNOWN, "layer k not
    injective; network undecided".

    Examples
    --------
    >>> import numpy as np
    >>> B = np.eye(2)
    >>> net = Network([Layer(np.vstack([B, -B]), None, "relu"), Layer(np.eye(4), None, "leaky_relu:0.1")])
    >>> network_injectivity(net).status.value
    'CERTIFIED'
    """
    start = time.perf_counter()
    if not isinstance(net, Network):
        raise InvalidInput(f"net must be a theorychk Network; got {type(net).__name__}")
    deadline = Deadline(time_limit)
    rng = np.random.default_rng(seed)
    dom = _parse_domain(domain, net.latent_dim)
    results: list[LayerInjectivity] = []
    for i, layer in enumerate(net.layers):
        rem = deadline.remaining()
        share = None if rem is None else max(rem / (net.depth - i), 1e-3)
        results.append(layer_injectivity(layer, time_limit=share, seed=int(rng.integers(2**31)),
                                         max_exact_candidates=max_exact_candidates,
                                         domain=dom if i == 0 else None, layer_index=i, quiet=quiet))

    def finish(status: Status, reason: str = "", witness: Pair | None = None,
               source: str = "") -> NetworkInjectivity:
        return NetworkInjectivity(status=status, reason=reason, layers=tuple(results), witness=witness,
                                  witness_source=source, domain=None if dom is None else dom.spec(),
                                  seed=seed, elapsed=time.perf_counter() - start)

    def inside(pair: Pair | None) -> bool:
        return pair is not None and pair[0] != pair[1] and (
            dom is None or (dom.contains(pair[0]) and dom.contains(pair[1])))

    if all(r.status is Status.CERTIFIED for r in results):
        return finish(Status.CERTIFIED, "every layer is injective")
    refuted = [r for r in results if r.status is Status.REFUTED]
    if results[0].status is Status.REFUTED:
        return finish(Status.REFUTED, "layer 0 is not injective", results[0].witness, "layer 0 witness")
    for r in refuted:
        k = r.layer
        pair = _realize(net, k, r.witness)  # type: ignore[arg-type]
        if inside(pair) and _network_pair_ok(net, pair, dom):  # type: ignore[arg-type]
            return finish(Status.REFUTED, f"layer {k} witness realized by the earlier layers", pair,
                          f"layer {k} witness pulled back")
        prev = net.layers[k - 1]
        # Only a previous ReLU layer whose image fills the orthant (full row rank) can produce an
        # arbitrary pair of positive points; otherwise this search would only waste time.
        if prev.activation.name == "relu" and exact.rank(prev.weight) == prev.n_out:
            orth = _Domain(lower=tuple(Fraction(0) for _ in range(net.layers[k].n_in)),
                           upper=tuple(None for _ in range(net.layers[k].n_in)))
            sub = layer_injectivity(net.layers[k], seed=int(rng.integers(2**31)), domain=orth,
                                    max_exact_candidates=max_exact_candidates, time_limit=_left(deadline))
            if sub.status is Status.REFUTED:
                pair = _realize(net, k, sub.witness)  # type: ignore[arg-type]
                if inside(pair) and _network_pair_ok(net, pair, dom):  # type: ignore[arg-type]
                    return finish(Status.REFUTED, f"layer {k} orthant witness realized by the earlier layers",
                                  pair, f"layer {k} orthant witness pulled back")
    if refuted:
        pair = _latent_witness(net, rng, 4096, dom)
        if pair is not None:
            return finish(Status.REFUTED, "singular network Jacobian on a linear region", pair,
                          "latent linear-region witness")
        ks = ", ".join(str(r.layer) for r in refuted)
        return finish(Status.UNKNOWN, f"layer {ks} not injective; network undecided")
    unknown = [r for r in results if r.status is Status.UNKNOWN]
    return finish(Status.UNKNOWN, "; ".join(f"layer {r.layer}: {r.reason}" for r in unknown))


def _left(deadline: Deadline) -> float | None:
    rem = deadline.remaining()
    return None if rem is None else max(rem, 1e-3)


def _network_pair_ok(net: Network, pair: Pair, dom: _Domain | None) -> bool:
    try:
        check_network_pair(net, {"z": jsonable(list(pair[0])), "z_prime": jsonable(list(pair[1]))},
                           None if dom is None else _check_dom(dom))
    except CertificateError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# The probability sweep (benchmark and experiments)
# --------------------------------------------------------------------------------------------


def injectivity_probability(d: int, ratio: float, draws: int, seed: int, bias: bool, *,
                            time_limit: float | None = None) -> dict[str, Any]:
    """Fraction of i.i.d. N(0, 1) ReLU layers ``R^d -> R^m``, ``m = ceil(ratio * d)``, that are
    injective, decided exactly (every decision carries verified evidence).

    Draw ``i`` uses ``numpy.random.default_rng([seed, i])`` for ``W`` (and ``b ~ N(0, 1)`` if
    ``bias``), so any single draw can be re-run alone. Returns counts, the fraction among the
    decided draws, and the time per decision.

    Examples
    --------
    >>> r = injectivity_probability(2, 1.5, 3, seed=0, bias=False)
    >>> r["m"], r["injective"], r["unknown"]
    (3, 0, 0)
    """
    m = math.ceil(ratio * d - 1e-9)
    counts = {Status.CERTIFIED: 0, Status.REFUTED: 0, Status.UNKNOWN: 0}
    times = []
    methods: dict[str, int] = {}
    for i in range(draws):
        rng = np.random.default_rng([seed, i])
        W = rng.standard_normal((m, d))
        b = rng.standard_normal(m) if bias else None
        t0 = time.perf_counter()
        res = layer_injectivity(Layer(W, b, "relu"), seed=i, time_limit=time_limit)
        times.append(time.perf_counter() - t0)
        counts[res.status] += 1
        methods[res.method] = methods.get(res.method, 0) + 1
    decided = counts[Status.CERTIFIED] + counts[Status.REFUTED]
    return {
        "d": d, "m": m, "ratio": ratio, "actual_ratio": m / d, "bias": bias, "draws": draws, "seed": seed,
        "injective": counts[Status.CERTIFIED], "not_injective": counts[Status.REFUTED],
        "unknown": counts[Status.UNKNOWN],
        "fraction_injective": counts[Status.CERTIFIED] / decided if decided else float("nan"),
        "mean_seconds": float(np.mean(times)) if times else 0.0,
        "max_seconds": float(np.max(times)) if times else 0.0,
        "methods": methods,
    }
