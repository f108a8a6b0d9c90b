"""Exact evidence rebuilt from float proposals: witness pairs from points, Farkas certificates
from LP duals, each re-verified by the checker's own functions before it is returned."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk import exact
from theorychk.certify.injectivity.domain import _check_dom, _Domain, _interior, _room
from theorychk.certify.injectivity.results import TOLERANCES, Pair
from theorychk.check.injectivity import check_farkas, check_layer_pair, integer_rows
from theorychk.errors import CertificateError
from theorychk.network import Layer
from theorychk.verdict import jsonable


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

