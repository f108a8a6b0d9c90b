"""The exact ground truth for small nets: every preimage of ``y = G(z*)``, by activation patterns.

For each activation pattern of the hidden layers, ``G`` is affine on the pattern's region and the
set of latents with that pattern and ``G(z) = y`` is a polyhedron (equalities, strict ``>`` for
on-units, ``<=`` for off-units). Patterns are enumerated depth first, pruning infeasible prefixes;
each polyhedron is decided by Fourier–Motzkin elimination over the rationals (``flint.fmpq``)
with strict inequalities tracked, after the equalities are eliminated,, which also produces an exact point. Only for latent dimension <= 3 and a
handful of units: this is the oracle of the soundness tests, not an engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import flint

from theorychk.check.core import trace
from theorychk.network import Network

Q = flint.fmpq  # exact like Fraction, an order of magnitude faster
Con = tuple[tuple[Q, ...], Q, bool]  # a . z <= b  (a . z < b when strict)


def q(x: Fraction | int | float) -> Q:
    x = Fraction(x)
    return Q(x.numerator, x.denominator)


def _normalise(cons: list[Con]) -> list[Con] | None:
    """Drop trivial constraints (None if one is violated) and keep the tightest per direction."""
    best: dict[tuple[Q, ...], tuple[Q, bool]] = {}
    for a, b, strict in cons:
        scale = max(abs(v) for v in a) if a else Q(0)
        if scale == 0:
            if b < 0 or (b == 0 and strict):
                return None
            continue
        a, b = tuple(v / scale for v in a), b / scale
        old = best.get(a)
        if old is None or b < old[0] or (b == old[0] and strict and not old[1]):
            best[a] = (b, strict)
    return [(a, b, s) for a, (b, s) in best.items()]


def fm_point(cons: Sequence[Con], k: int) -> list[Q] | None:
    """An exact point satisfying every constraint, or ``None`` if there is none."""
    norm = _normalise(list(cons))
    if norm is None:
        return None
    if k == 0:
        return []
    pos, neg, rest = [], [], []
    for a, b, s in norm:
        (pos if a[-1] > 0 else neg if a[-1] < 0 else rest).append((a, b, s))
    new = [(a[:-1], b, s) for a, b, s in rest]
    for ap, bp, sp in pos:
        for an, bn, sn in neg:
            cp, cn = ap[-1], -an[-1]
            new.append((tuple(x / cp + y / cn for x, y in zip(ap[:-1], an[:-1])), bp / cp + bn / cn, sp or sn))
    sub = fm_point(new, k - 1)
    if sub is None:
        return None
    lo: tuple[Q, bool] | None = None
    hi: tuple[Q, bool] | None = None
    for a, b, s in pos + neg:
        v = (b - sum(x * y for x, y in zip(a[:-1], sub))) / a[-1]
        if a[-1] > 0 and (hi is None or v < hi[0] or (v == hi[0] and s)):
            hi = (v, s)
        if a[-1] < 0 and (lo is None or v > lo[0] or (v == lo[0] and s)):
            lo = (v, s)
    if lo and hi:
        if lo[0] < hi[0]:
            x = (lo[0] + hi[0]) / 2
        elif lo[0] == hi[0] and not lo[1] and not hi[1]:
            x = lo[0]
        else:  # pragma: no cover - FM guarantees consistency
            raise AssertionError("Fourier-Motzkin inconsistency")
    elif lo:
        x = lo[0] + 1 if lo[1] else lo[0]
    elif hi:
        x = hi[0] - 1 if hi[1] else hi[0]
    else:
        x = Q(0)
    return sub + [x]


def _eliminate(eqs: list[tuple[list[Q], Q]], k: int) -> tuple[list[Q], list[list[Q]]] | None:
    """Solutions of ``a . z = b`` as ``z0 + N t`` (``N`` has one column per free variable), or None."""
    rows = [list(a) + [b] for a, b in eqs]
    pivots: list[int] = []
    r = 0
    for c in range(k):
        p = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        piv = rows[r][c]
        rows[r] = [v / piv for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                f = rows[i][c]
                rows[i] = [x - f * y for x, y in zip(rows[i], rows[r])]
        pivots.append(c)
        r += 1
    if any(all(v == 0 for v in row[:k]) and row[k] != 0 for row in rows[r:]):
        return None
    free = [c for c in range(k) if c not in pivots]
    z0 = [Q(0)] * k
    for i, c in enumerate(pivots):
        z0[c] = rows[i][k]
    basis = []
    for f in free:
        v = [Q(0)] * k
        v[f] = Q(1)
        for i, c in enumerate(pivots):
            v[c] = -rows[i][f]
        basis.append(v)
    return z0, basis


def _affine(w: Sequence[Sequence[Q]], b: Sequence[Q], a: list[list[Q]], c: list[Q]
            ) -> tuple[list[list[Q]], list[Q]]:
    """``W (A z + c) + b`` as ``(A', c')``."""
    k = len(a[0]) if a else 0
    a2 = [[sum((w[r][i] * a[i][j] for i in range(len(a))), Q(0)) for j in range(k)] for r in range(len(w))]
    c2 = [sum((w[r][i] * c[i] for i in range(len(c))), Q(0)) + b[r] for r in range(len(w))]
    return a2, c2


def preimage_witness(
    net: Network,
    z_star: Sequence[Fraction],
    *,
    max_on: Sequence[int | None] | None = None,
    box: Fraction | None = None,
    delta: Fraction | None = None,
) -> list[Fraction] | None:
    """An exact ``z`` with ``G(z) = G(z*)``, ``z != z*`` — or ``None`` if there is none.

    ``max_on[j]`` (per layer ``j < L - 1``, ``None`` = no limit) bounds the number of on-units of
    hidden layer ``j``: the sparsity ``||x_{j+1}||_0`` for a ReLU layer. ``box`` adds
    ``||z||_inf <= box``; ``delta`` asks for ``||z - z*||_inf >= delta`` instead of ``z != z*``.
    Hidden layers: relu, leaky_relu, identity; last layer: relu, leaky_relu, identity.
    """
    k = net.latent_dim
    tr = trace(net, [Fraction(v) for v in z_star])
    zs = [q(v) for v in z_star]
    box = None if box is None else q(box)
    delta = None if delta is None else q(delta)
    layers = [([[q(float(v)) for v in row] for row in layer.weight], [q(float(v)) for v in layer.bias],
               layer.activation.spec) for layer in net.layers]
    base: list[Con] = []
    if box is not None:
        for i in range(k):
            e = tuple(Q(int(j == i)) for j in range(k))
            base += [(e, box, False), (tuple(-v for v in e), box, False)]

    def unit(a: list[Q], c: Q, on: bool) -> Con:
        # on: a.z + c > 0  <=>  -a.z < c ;  off: a.z + c <= 0  <=>  a.z <= -c
        return (tuple(-v for v in a), c, True) if on else (tuple(a), -c, False)

    def leaf(a: list[list[Q]], c: list[Q], cons: list[Con]) -> list[Fraction] | None:
        w, b, spec = layers[-1]
        u_a, u_c = _affine(w, b, a, c)
        name, *p = spec.split(":")
        y = tr.outputs[-1]
        ineq, eqs = list(cons), []
        for r in range(len(w)):
            if name == "relu" and y[r] == 0:
                ineq.append((tuple(u_a[r]), -u_c[r], False))
                continue
            target = q(y[r] if name != "leaky_relu" or y[r] > 0 else y[r] / Fraction(float(p[0])))
            eqs.append((u_a[r], target - u_c[r]))
        sol = _eliminate(eqs, k)
        if sol is None:
            return None
        z0, basis = sol
        d = len(basis)

        def sub(con: Con) -> Con:  # a . (z0 + N t) <= b  in the free parameters t
            a_, b_, s_ = con
            return tuple(sum((x * v[i] for i, x in enumerate(a_)), Q(0)) for v in basis), \
                b_ - sum((x * z for x, z in zip(a_, z0)), Q(0)), s_

        base_t = [sub(con) for con in ineq]
        if fm_point(base_t, d) is None:
            return None
        for i in range(k):
            e = tuple(Q(int(j == i)) for j in range(k))
            for sign in (1, -1):
                # sign * (z_i - z*_i) >= delta  (or > 0):  -sign * z_i <= -sign * z*_i - delta
                bound = -sign * zs[i] - (delta if delta is not None else 0)
                t = fm_point(base_t + [sub((tuple(-sign * v for v in e), bound, delta is None))], d)
                if t is not None:
                    return [Fraction(int((z0[j] + sum((tv * v[j] for tv, v in zip(t, basis)), Q(0))).p),
                                     int((z0[j] + sum((tv * v[j] for tv, v in zip(t, basis)), Q(0))).q))
                            for j in range(k)]
        return None

    def dfs(j: int, a: list[list[Q]], c: list[Q], cons: list[Con]) -> list[Fraction] | None:
        if j == len(layers) - 1:
            return leaf(a, c, cons)
        w, b, spec = layers[j]
        u_a, u_c = _affine(w, b, a, c)
        name, *p = spec.split(":")
        if name == "identity":
            return dfs(j + 1, u_a, u_c, cons)
        slope = Q(0) if name == "relu" else q(float(p[0]))
        limit = None if max_on is None else max_on[j]

        def branch(r: int, on_count: int, cons: list[Con], pattern: list[bool]) -> list[Fraction] | None:
            if fm_point(cons, k) is None:
                return None
            if r == len(w):
                a2 = [u_a[q] if pattern[q] else [slope * v for v in u_a[q]] for q in range(len(w))]
                c2 = [u_c[q] if pattern[q] else slope * u_c[q] for q in range(len(w))]
                return dfs(j + 1, a2, c2, cons)
            for on in (True, False):
                if on and limit is not None and on_count >= limit:
                    continue
                found = branch(r + 1, on_count + on, cons + [unit(u_a[r], u_c[r], on)], pattern + [on])
                if found is not None:
                    return found
            return None

        return branch(0, 0, cons, [])

    ident = [[Q(int(i == j)) for j in range(k)] for i in range(k)]
    return dfs(0, ident, [Q(0)] * k, base)
