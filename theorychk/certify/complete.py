r"""``complete`` — decide per-signal uniqueness exactly, with a branching certificate. Untrusted.

Given the exact trace of ``y = G(z*)`` (fully connected net, piecewise-linear hidden activations:
ReLU, LeakyReLU, PLU, identity), decide whether ``z*`` is the only ``z`` with ``G(z) = y`` — in
``R^k``, or in the latent box ``||z||_inf <= R`` when one is given. CERTIFIED carries a tree the
checker (:mod:`theorychk.check.complete`) replays in exact arithmetic; REFUTED an exact second
preimage; UNKNOWN (time limit, or a leaf the search could not close) says how much was explored.

**Pinning** (the ``polytope`` claim's argument). Going down from the output, while the preimage
polytope ``P_j`` of layer ``j`` is the single point ``x*_j`` (:func:`~theorychk.certify.signal.polytope_layer`,
with its exact evidence), every preimage ``z'`` has ``x'_j = x*_j``. Let ``t`` be the first layer
where that fails (``t = -1``: every layer pinned, ``z' = z*``, no tree). Every preimage then
satisfies ``x'_{t+1} = x*_{t+1}`` — the *sub-problem* below ``t``.

**The lifted sub-problem.** Variables ``v = (z, x_1, ..., x_t)``, ``h_i = W_i x_i + b_i``. The rows
(named as in :mod:`theorychk.check.complete`): layer ``t`` reproduces its output (``h_{t,r} = u*_r``
on the observed rows, ``h_{t,r} <= 0`` on a ReLU layer's off rows), the box when given, and one
group per hidden unit ``(i, r)``, ``i < t``: the linear description of the region a branch fixed
(ReLU on: ``x = h, h >= 0``; off: ``x = 0, h <= 0``; LeakyReLU(a) off: ``x = a h, h <= 0``; PLU: its
three pieces), or else a convex relaxation of the activation's graph (ReLU: ``x >= 0, x >= h``;
LeakyReLU(a <= 1): ``x >= h, x >= a h``; PLU(a, c): ``|x - a h| <= c (1 - a)``).

**Why the tree covers every preimage.** Let ``z'`` be a preimage and ``v'`` its lifted point (its
hidden layers). ``v'`` satisfies the top rows (pinning) and the box (if ``z'`` is in it). At the
root every unit is relaxed, and the graph of each activation lies inside its relaxation, so
``v'`` is in the root's polyhedron. At a branch on unit ``(i, r)`` the regions are closed and
cover ``R``: ``h'_{i,r}`` lies in one of them, and there ``x'_{i+1,r} = act(h'_{i,r})`` satisfies
that region's rows; so ``v'`` lies in some child, and by induction in some leaf. A Farkas leaf is
empty, so ``v'`` lies in a point leaf, which is ``{v*}`` or empty: ``v' = v*`` and ``z' = z*``.

**The search.** Depth first. At each node: if ``v*`` is in the node and the equality rows have
rank ``D = dim v`` modulo a prime (certificate: a basis of them and the prime) the leaf is a
point; else an LP (HiGHS) over the node: infeasible — a Farkas leaf (multipliers from the dual LP,
re-solved exactly on its support); a point violating some open unit's activation — branch on the
worst unit; a point that is a true preimage away from ``z*`` — REFUTED once
:func:`~theorychk.certify.signal.exact_preimage` makes it exact; ``v*`` itself — the tangent cone
at ``v*`` decides: ``{0}`` (a strictly positive combination of the tight rows is zero and they
span: a point leaf), or a direction ``d`` in it, which either leaves the graph of an open unit
(branch on it) or is a direction of true preimages (REFUTED with ``z* + eps d_z`` made exact).
Every leaf the search emits is first replayed by the checker's own rules (a bug fails loudly).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import math

import flint
import numpy as np

from theorychk import exact
from theorychk.certify.signal import exact_preimage, make_claim, polytope_layer, round_onto_affine
from theorychk.check.complete import Lifted, regions, replay
from theorychk.check.core import Trace, trace
from theorychk.errors import CertificateError
from theorychk.network import Activation, row_model
from theorychk._highs import INF, Model, Program
from theorychk.runtime import TIME_LIMIT_REASON, Deadline
from theorychk.verdict import EngineStatus, Status, jsonable

__all__ = ["STATEMENT", "complete_claim", "search", "statement"]

STATEMENT = "z* is the unique z with G(z) = y{box} (exact branching certificate)"


def statement(latent_box: Fraction | None) -> str:
    """The ``complete`` claim's statement in the latent box ``||z||_inf <= latent_box`` (``None``: ``R^k``).

    >>> statement(Fraction(1, 2))
    'z* is the unique z with G(z) = y and ||z||_inf <= 1/2 (exact branching certificate)'
    """
    return STATEMENT.format(box="" if latent_box is None else f" and ||z||_inf <= {latent_box}")


#: An open unit counts as violated at an LP point when ``|x - act(h)| > VIOLATION_TOL * (1 + |h|)``.
VIOLATION_TOL = 1e-7
#: LP multipliers below this (relative to the largest) are read as zero.
SUPPORT_TOL = 1e-9
PRIME = exact.DEFAULT_PRIME
#: Exact multipliers longer than this (bits of numerator and denominator) are replaced by the rows
#: the checker re-solves them from (exact vertex multipliers of float weights run to thousands of bits).
MULTIPLIER_BITS = 128


def _bits(v: Fraction) -> int:
    return v.numerator.bit_length() + v.denominator.bit_length()


def _slope(act: Activation, h: Fraction, dh: float) -> float:
    """Directional derivative of the activation at the exact ``h`` in direction ``dh`` (per unit
    ``dh``): the slope of the piece ``h + t dh`` enters for small ``t > 0``."""
    piece = act.piece(h)  # a breakpoint counts to its left piece ...
    if dh > 0 and h == piece.hi:  # ... and moving right from it enters the next one
        piece = act.regions[act.regions.index(piece) + 1]
    return float(piece.slope)


class _Search:
    def __init__(self, tr: Trace, top: int, box: Fraction | None, deadline: Deadline) -> None:
        self.tr, self.top, self.box, self.deadline = tr, top, box, deadline
        self.sys = Lifted(tr, top, box)
        self.net = tr.net
        self.dim = self.sys.dim
        self.units = self.sys.units()
        self.all_units = [(i, r) for i in range(top) for r in range(self.net.widths[i + 1])]
        self.w = [np.asarray(layer.weight, dtype=np.float64) for layer in self.net.layers]
        self.b = [np.asarray(layer.bias, dtype=np.float64) for layer in self.net.layers]
        self.vstar = np.concatenate([np.array([float(v) for v in tr.inputs[i]]) for i in range(top + 1)])
        # Rows independent of the path: the top layer's and the box's.
        self.fixed_keys: list[str] = []
        self.fixed_rows: list[tuple[str, np.ndarray, float]] = []
        off = self.sys.offsets[top]
        for r in range(len(tr.pre[top])):
            k, _, _, const = self.sys.row(f"t{r}", {})[3]
            a = np.zeros(self.dim)
            a[off:off + self.net.widths[top]] = self.w[top][r]
            self.fixed_keys.append(f"t{r}")
            self.fixed_rows.append((k, a, float(const) - self.b[top][r]))
        if box is not None:
            for q in range(self.net.latent_dim):
                for s in "+-":
                    a = np.zeros(self.dim)
                    a[q] = 1.0 if s == "+" else -1.0
                    self.fixed_keys.append(f"z{q}{s}")
                    self.fixed_rows.append(("le", a, float(box)))
        self.tight_fixed = {k for k in self.fixed_keys if self._tight(k, {})}
        self.nodes = 0
        self.closed = 0

    # ---- rows ---------------------------------------------------------------------------------

    def _tight(self, key: str, path: dict) -> bool:
        _, lhs, const = self.sys.value_at_star(key, path)
        return lhs == const

    def unit_float_rows(self, i: int, r: int, path: dict) -> list[tuple[str, str, np.ndarray, float]]:
        out = []
        for k, (kind, cx, ch, const) in enumerate(self.sys.unit_rows(i, r, path)):
            a = np.zeros(self.dim)
            if cx:
                a[self.sys.offsets[i + 1] + r] = float(cx)
            rhs = float(const)
            if ch:
                off = self.sys.offsets[i]
                a[off:off + self.net.widths[i]] += float(ch) * self.w[i][r]
                rhs -= float(ch) * self.b[i][r]
            out.append((f"u{i}.{r}.{k}", kind, a, rhs))
        return out

    def system(self, path: dict) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
        keys, kinds, rows, rhs = list(self.fixed_keys), [k for k, _, _ in self.fixed_rows], \
            [a for _, a, _ in self.fixed_rows], [b for _, _, b in self.fixed_rows]
        for i, r in self.all_units:
            for key, kind, a, b in self.unit_float_rows(i, r, path):
                keys.append(key)
                kinds.append(kind)
                rows.append(a)
                rhs.append(b)
        return keys, kinds, np.array(rows).reshape(len(rows), self.dim), np.array(rhs)

    def contains_star(self, path: dict) -> bool:
        return all(self._tight(f"u{i}.{r}.{k}", path) if kind == "eq" else
                   self.sys.value_at_star(f"u{i}.{r}.{k}", path)[1] <= kind_const
                   for (i, r) in path
                   for k, (kind, _, _, kind_const) in enumerate(self.sys.unit_rows(i, r, path)))

    # ---- LPs ----------------------------------------------------------------------------------

    def lp_point(self, path: dict, kinds: list[str], a: np.ndarray, b: np.ndarray) -> tuple[str, np.ndarray | None]:
        cost = np.zeros(self.dim)
        # pull open ReLU / LeakyReLU outputs down onto their graph: a convex (max of its pieces)
        # activation's x >= act(h) is its relaxation, so minimising x meets the graph
        for i, r in self.units:
            if (i, r) not in path and row_model(self.net.layers[i].activation).convex:
                cost[self.sys.offsets[i + 1] + r] = 1.0
        lo = np.where(np.array(kinds) == "eq", b, -INF) if len(b) else b
        # Unbounded with the pull-down objective: drop it; HiGHS's "Unknown" (numerical trouble on
        # the free columns): try again with presolve.
        for c, presolve in ((cost, "off"), (np.zeros(self.dim), "off"), (cost, "on"), (np.zeros(self.dim), "on")):
            m = Model(Program(a, cost=c, col_lower=-INF, col_upper=INF, row_lower=lo, row_upper=b), presolve=presolve)
            res = m.solve(self.deadline)
            if res.status in (EngineStatus.OPTIMAL, EngineStatus.INFEASIBLE, EngineStatus.TIME_LIMIT):
                break
        if res.status is EngineStatus.OPTIMAL and res.x is not None:
            return EngineStatus.OPTIMAL, res.x
        return res.label, None

    def farkas(self, path: dict, keys: list[str], kinds: list[str], a: np.ndarray, b: np.ndarray
               ) -> dict[str, Fraction] | list[str] | None:
        m = len(keys)
        le = np.array(kinds) == "le"
        mat = np.vstack([a.T, b[None, :]])
        rhs = np.r_[np.zeros(self.dim), -1.0]
        model = Model(Program(mat, cost=le.astype(float), col_lower=np.where(le, 0.0, -INF), col_upper=INF,
                              row_lower=rhs, row_upper=rhs))
        res = model.solve(self.deadline)
        if res.status is not EngineStatus.OPTIMAL or res.x is None:
            return None
        lam = res.x
        scale = max(1.0, float(np.max(np.abs(lam))))
        support = [c for c in range(m) if abs(lam[c]) > SUPPORT_TOL * scale]
        mults = self.sys.farkas_on([keys[c] for c in support], path)
        if mults is None or any(kinds[c] == "le" and mults.get(keys[c], 0) < 0 for c in support):
            return None
        if max(_bits(v) for v in mults.values()) > MULTIPLIER_BITS:
            return sorted(mults)  # the support: the checker re-solves it (far shorter than the rationals)
        return mults

    # ---- point leaves and directions ----------------------------------------------------------

    def _independent(self, keys: list[str], path: dict) -> list[str] | None:
        """A subset of ``keys`` of rank ``D`` modulo :data:`PRIME`, or ``None``."""
        rows = self.sys.int_rows(keys, path)
        if len(rows) < self.dim:
            return None
        # Pivot columns of the transpose's echelon form name independent rows.
        t = flint.nmod_mat(self.dim, len(rows), [rows[c][d] % PRIME for d in range(self.dim)
                                                   for c in range(len(rows))], PRIME)
        red, rank = t.rref()
        if int(rank) < self.dim:
            return None
        piv, col = [], 0
        for d in range(int(rank)):
            while int(red[d, col]) == 0:
                col += 1
            piv.append(keys[col])
            col += 1
        return piv

    def point_leaf(self, path: dict, keys: list[str], kinds: list[str]) -> tuple[dict | None, list[str], list[str]]:
        """``(leaf, eq rows, tight inequality rows)``; ``leaf`` ``None`` when the rows do not certify."""
        eq = [k for k, kd in zip(keys, kinds) if kd == "eq"]
        basis = self._independent(eq, path)
        if basis is not None:
            return {"rows": basis, "prime": PRIME, "zero": {}}, eq, []
        tight = [k for k, kd in zip(keys, kinds) if kd == "le" and (k in self.tight_fixed if k[0] in "tz"
                                                                   else self._tight(k, path))]
        return None, eq, tight

    def positive_zero(self, path: dict, eq: list[str], tight: list[str], a_of: dict[str, np.ndarray]
                      ) -> dict | None:
        """A point leaf from ``lam >= 1`` on ``tight``, free on ``eq``, ``sum = 0`` (LP, then exact)."""
        if not tight or self._independent(eq + tight, path) is None:
            return None
        cols = np.array([a_of[k] for k in eq + tight]).T
        n_eq = len(eq)
        model = Model(Program(cols, cost=np.r_[np.zeros(n_eq), np.ones(len(tight))],
                              col_lower=np.r_[np.full(n_eq, -INF), np.ones(len(tight))], col_upper=INF,
                              row_lower=0.0, row_upper=0.0))
        res = model.solve(self.deadline)
        if res.status is not EngineStatus.OPTIMAL or res.x is None:
            return None
        lam = res.x
        ones = [k for k, v in zip(tight, lam[n_eq:]) if abs(v - 1) <= 1e-9]
        free = [k for k, v in zip(eq, lam[:n_eq]) if abs(v) > SUPPORT_TOL] + [k for k in tight if k not in ones]
        mults = self.sys.zero_on(ones, free, path)
        if mults is None or any(mults.get(k, 0) <= 0 for k in tight):
            return None
        short = max((_bits(v) for v in mults.values()), default=0) <= MULTIPLIER_BITS
        return {"rows": eq + tight, "prime": PRIME, "zero": mults if short else {"ones": ones, "solve": free}}

    def direction(self, eq_a: np.ndarray, tight_a: np.ndarray) -> np.ndarray | None:
        """A nonzero ``d`` with ``eq_a d = 0`` and ``tight_a d <= 0`` (float), or ``None``."""
        rows = np.vstack([eq_a, tight_a]) if len(tight_a) else eq_a
        if rows.shape[0] == 0:
            return np.eye(self.dim)[0]
        _, s, vt = np.linalg.svd(rows)
        rank = int(np.sum(s > 1e-10 * max(1.0, float(s[0]))))
        if rank < self.dim:
            return vt[-1]
        n_t = len(tight_a)
        a = np.vstack([eq_a, tight_a, tight_a.sum(axis=0)[None, :]])
        lo = np.r_[np.zeros(len(eq_a)), np.full(n_t, -INF), -INF]
        hi = np.r_[np.zeros(len(eq_a)), np.zeros(n_t), -1.0]
        res = Model(Program(a, cost=0.0, col_lower=-INF, col_upper=INF, row_lower=lo, row_upper=hi)).solve(self.deadline)
        if res.status is not EngineStatus.OPTIMAL or res.x is None or not np.any(res.x):
            return None
        return res.x / float(np.max(np.abs(res.x)))

    def worst_unit(self, v: np.ndarray, path: dict) -> tuple[tuple[int, int] | None, float]:
        worst, best = None, 0.0
        for i, r in self.units:
            if (i, r) in path:
                continue
            h = float(self.w[i][r] @ v[self.sys.offsets[i]:self.sys.offsets[i] + self.net.widths[i]] + self.b[i][r])
            x = v[self.sys.offsets[i + 1] + r]
            viol = abs(x - float(self.net.layers[i].activation(np.array(h)))) / (1.0 + abs(h))
            if viol > best:
                worst, best = (i, r), viol
        return (worst, best) if best > VIOLATION_TOL else (None, best)

    def direction_unit(self, d: np.ndarray, path: dict) -> tuple[tuple[int, int] | None, float]:
        """The open unit whose graph ``v* + eps d`` leaves the most (relative), and that amount."""
        worst, best = None, 0.0
        scale = float(np.max(np.abs(d)))
        for i, r in self.units:
            if (i, r) in path:
                continue
            dh = float(self.w[i][r] @ d[self.sys.offsets[i]:self.sys.offsets[i] + self.net.widths[i]])
            dx = d[self.sys.offsets[i + 1] + r]
            viol = abs(dx - _slope(self.net.layers[i].activation, self.tr.pre[i][r], dh) * dh) / scale
            if viol > best:
                worst, best = (i, r), viol
        return (worst, best) if best > 1e-9 else (None, best)

    def nearest_kink_unit(self, v: np.ndarray, path: dict) -> tuple[int, int] | None:
        best, unit = np.inf, None
        for i, r in self.units:
            if (i, r) in path:
                continue
            h = float(self.w[i][r] @ v[self.sys.offsets[i]:self.sys.offsets[i] + self.net.widths[i]] + self.b[i][r])
            dist = min(abs(h - kink) for kink in self.net.layers[i].activation.breakpoints)
            if dist < best:
                best, unit = dist, (i, r)
        return unit

    def witness(self, v: np.ndarray, path: dict) -> list[Fraction] | None:
        """An exact second preimage near the lifted float point ``v`` (a preimage up to rounding).

        First on the activation pattern of ``v``'s latent (:func:`exact_preimage`); an LP vertex
        sits on kinks, where that pattern is ambiguous, so then every open unit is fixed to the
        region its ``(h, x)`` is nearest, the now exact polyhedron is pushed away from ``z*`` by an
        LP, and its vertex is solved exactly from the tight rows. Accepted only after an exact
        forward pass reproduces ``y``."""
        z2 = self._witness_on_pattern(v[: self.net.latent_dim])
        return z2 if z2 is not None else self._witness_vertex(v, path)

    def _witness_vertex(self, v: np.ndarray, path: dict) -> list[Fraction] | None:
        k = self.net.latent_dim
        full = dict(path)
        for i, r in self.units:
            if (i, r) in path:
                continue
            h = float(self.w[i][r] @ v[self.sys.offsets[i]:self.sys.offsets[i] + self.net.widths[i]] + self.b[i][r])
            x = v[self.sys.offsets[i + 1] + r]
            best = None
            for region, rows in regions(self.tr.specs[i]).items():
                res = sum(abs(float(cx) * x + float(ch) * h - float(c)) if kind == "eq"
                          else max(0.0, float(cx) * x + float(ch) * h - float(c)) for kind, cx, ch, c in rows)
                if best is None or res < best[0]:
                    best = (res, region)
            full[(i, r)] = best[1]
        keys, kinds, a, b = self.system(full)
        q = int(np.argmax(np.abs(v[:k] - self.vstar[:k])))
        sign = 1.0 if v[q] >= self.vstar[q] else -1.0
        gap = abs(v[q] - self.vstar[q])
        if gap == 0:
            return None
        push = np.zeros(self.dim)
        push[q] = sign
        a2 = np.vstack([a, push[None, :]])
        lo = np.r_[np.where(np.array(kinds) == "eq", b, -INF), sign * self.vstar[q] + 0.5 * gap]
        hi = np.r_[b, sign * self.vstar[q] + 2.0 * gap]
        res = Model(Program(a2, cost=-push, col_lower=-INF, col_upper=INF, row_lower=lo,
                            row_upper=hi)).solve(self.deadline)
        if res.status is not EngineStatus.OPTIMAL or res.x is None:
            return None
        x = res.x
        tight = [key for key, kind, row, rhs in zip(keys, kinds, a, b)
                 if kind == "eq" or abs(row @ x - rhs) <= 1e-9 * (1.0 + abs(rhs))]
        cols = self.sys.columns(tight, full).transpose()
        mat = flint.fmpq_mat(len(tight), self.dim)
        rhs = []
        for i in range(len(tight)):
            for j in range(self.dim):
                mat[i, j] = cols[i, j]
            rhs.append(Fraction(int(cols[i, self.dim].p), int(cols[i, self.dim].q)))
        sol = exact.solve(mat, rhs)
        if sol is None:
            return None
        # The push row that bounds the LP is not a row of the polyhedron, so the tight rows can
        # leave directions free; exact.solve then sets the free variables to 0, which can be far
        # from x and outside the polyhedron. Move along the exact nullspace to the point nearest x.
        sol = round_onto_affine(sol, exact.nullspace(mat), x, max_denominator=1 << 40)
        return self._accept(sol[:k])

    def _accept(self, z2: list[Fraction]) -> list[Fraction] | None:
        from theorychk.check.core import trace

        tr = self.tr
        if z2 == list(tr.inputs[0]) or (self.box is not None and max(abs(t) for t in z2) > self.box):
            return None
        t2 = trace(self.net, z2)
        same = t2.outputs[-1] == tr.outputs[-1] if tr.outputs[-1] is not None else t2.pre[-1] == tr.pre[-1]
        return z2 if same else None

    def _witness_on_pattern(self, z: np.ndarray) -> list[Fraction] | None:
        tr = self.tr
        out = list(tr.outputs[-1]) if tr.outputs[-1] is not None else None
        zs = list(tr.inputs[0])
        z2 = exact_preimage(self.net, z, target_out=out, target_pre=None if out is not None else list(tr.pre[-1]),
                            latent_box=self.box)
        if z2 is None or list(z2) == zs:
            return None
        return list(z2)

    # ---- one node -----------------------------------------------------------------------------

    def node(self, path: dict) -> tuple[str, Any]:
        """``("farkas"|"point", leaf)``, ``("branch", unit)``, ``("refute", z2)`` or ``("open", why)``."""
        keys, kinds, a, b = self.system(path)
        inside = self.contains_star(path)
        tight: list[str] = []
        if inside:
            leaf, eq, tight = self.point_leaf(path, keys, kinds)
            if leaf is not None:
                return "point", leaf
        status, v = self.lp_point(path, kinds, a, b)
        if status == EngineStatus.INFEASIBLE:
            if inside:
                return "open", "LP reports a node containing v* infeasible"
            mults = self.farkas(path, keys, kinds, a, b)
            return ("farkas", mults) if mults is not None else ("open", "Farkas multipliers could not be made exact")
        if v is None:
            return "open", TIME_LIMIT_REASON if status == EngineStatus.TIME_LIMIT else f"LP ended with status {status}"
        unit, _ = self.worst_unit(v, path)
        if unit is not None:
            return "branch", unit
        k = self.net.latent_dim
        zs = self.vstar[:k]
        if np.max(np.abs(v[:k] - zs), initial=0.0) > 1e-6 * (1.0 + np.max(np.abs(zs), initial=0.0)):
            z2 = self.witness(v, path)
            if z2 is not None:
                return "refute", z2
        if not inside:
            unit = self.nearest_kink_unit(v, path)
            return ("branch", unit) if unit is not None else ("open", "a true preimage near z* could not be made exact")
        a_of = dict(zip(keys, a))
        leaf = self.positive_zero(path, eq, tight, a_of)
        if leaf is not None:
            return "point", leaf
        d = self.direction(np.array([a_of[k] for k in eq]).reshape(len(eq), self.dim),
                           np.array([a_of[k] for k in tight]).reshape(len(tight), self.dim))
        if d is None:
            return "open", "no point certificate and no direction out of v*"
        unit, _ = self.direction_unit(d, path)
        if unit is not None:
            return "branch", unit
        # d keeps every unit on its graph: z* + eps d_z are preimages (eps below every kink / slack).
        slack = b - a @ self.vstar
        ad = a @ d
        lim = [s / t for s, t in zip(slack, ad) if t > 1e-12 and s > 1e-12]
        for i, r in self.all_units:
            kinks = self.net.layers[i].activation.breakpoints
            dh = float(self.w[i][r] @ d[self.sys.offsets[i]:self.sys.offsets[i] + self.net.widths[i]])
            h = float(self.tr.pre[i][r])
            lim += [abs(h - kk) / abs(dh) for kk in kinks if abs(dh) > 1e-12 and abs(h - kk) > 1e-12]
        eps = 0.5 * min(lim, default=1.0)
        if np.max(np.abs(d[:k]), initial=0.0) * eps > 1e-12:
            z2 = self.witness(self.vstar + eps * d, path) or self._dyadic_step(d[:k], eps)
            if z2 is not None:
                return "refute", z2
        return "open", "a direction of preimages at z* could not be made exact"

    def _dyadic_step(self, dz: np.ndarray, eps: float) -> list[Fraction] | None:
        """``z* + t d'`` for ``d'`` the direction rounded to a few dyadic grids and dyadic ``t <= eps``,
        kept only if an exact forward pass reproduces ``y`` (the pattern-based repair fails when
        ``z*`` itself sits on a kink: every nearby pattern then differs from ``z*``'s)."""
        zs = list(self.tr.inputs[0])
        target = self.tr.outputs[-1] if self.tr.outputs[-1] is not None else self.tr.pre[-1]
        top = float(np.max(np.abs(dz)))
        for bits in (2, 6, 12, 24):
            dq = [Fraction(round(float(v) / top * 2**bits), 2**bits) for v in dz]
            if not any(dq):
                continue
            t = Fraction(2) ** math.floor(math.log2(max(eps, 1e-300)))
            for _ in range(8):
                zq = [a + t * b for a, b in zip(zs, dq)]
                if self.box is not None and any(abs(v) > self.box for v in zq):
                    t /= 4
                    continue
                tr2 = trace(self.net, zq)
                got = tr2.outputs[-1] if self.tr.outputs[-1] is not None else tr2.pre[-1]
                if got == target and zq != zs:
                    return zq
                t /= 4
        return None


def search(tr: Trace, top: int, *, latent_box: Fraction | None, deadline: Deadline
           ) -> tuple[str, Any, dict[str, int]]:
    """Branch and bound below layer ``top``: ``("tree", tree, counts)``, ``("refute", z2, counts)``
    or ``("unknown", reason, counts)`` (counts: ``nodes``, ``closed`` leaves, ``open`` nodes)."""
    s = _Search(tr, top, latent_box, deadline)
    root: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], dict]] = [(root, {})]
    counts = {"nodes": 0, "closed": 0, "open": 0}
    while stack:
        if deadline.expired():
            counts["open"] = len(stack)
            return "unknown", TIME_LIMIT_REASON, counts
        holder, path = stack.pop()
        counts["nodes"] += 1
        what, val = s.node(path)
        if what == "refute":
            return "refute", val, counts
        if what == "open":
            counts["open"] = len(stack) + 1
            return "unknown", val, counts
        if what == "branch":
            i, r = val
            holder["unit"] = [i, r]
            holder["children"] = {}
            for region in reversed(list(regions(tr.specs[i]))):
                child: dict[str, Any] = {}
                holder["children"][region] = child
                stack.append((child, {**path, (i, r): region}))
            holder["children"] = {reg: holder["children"][reg] for reg in regions(tr.specs[i])}
            continue
        holder[what] = val
        counts["closed"] += 1
    return "tree", root, counts


def complete_claim(tr: Trace, *, latent_box: Fraction | None = None, deadline: Deadline | None = None
                   ) -> dict[str, Any]:
    """The ``complete`` claim for the exact trace ``tr`` (module docstring)."""
    deadline = deadline or Deadline(None)
    net = tr.net
    base = {"latent_box": latent_box}

    def claim(status: Status, evidence: dict[str, Any], reason: str = "") -> dict[str, Any]:
        return make_claim("complete", status, statement=statement(latent_box), evidence={**base, **evidence},
                          reason=reason)

    if latent_box is not None and max(abs(v) for v in tr.inputs[0]) > latent_box:
        return claim(Status.UNKNOWN, {}, f"z* lies outside the latent box ||z||_inf <= {latent_box}")
    pinned, top = [], -1
    for j in reversed(range(net.depth)):
        ok, ev = polytope_layer(tr, j, deadline=deadline)
        if ok is True:
            pinned.append(ev)
            continue
        top = j
        break
    if top == -1:
        return claim(Status.CERTIFIED, {"top": -1, "pinned": pinned, "tree": None})
    what, val, counts = search(tr, top, latent_box=latent_box, deadline=deadline)
    if what == "refute":
        z2 = val
        dist = max(abs(a - b) for a, b in zip(z2, tr.inputs[0]))
        return claim(Status.REFUTED, {"second_latent": z2, "distance": dist})
    if what == "unknown":
        return claim(Status.UNKNOWN, {"top": top, "explored": counts}, val)
    sys_ = Lifted(tr, top, latent_box)
    val = jsonable(val)  # replay exactly what the certificate will hold
    try:
        size = replay(sys_, val, "complete.tree (self-check)")
    except CertificateError as exc:  # the search emitted a leaf its checker rejects: a bug, said plainly
        return claim(Status.UNKNOWN, {"top": top, "explored": counts}, f"search bug: {exc}")
    return claim(Status.CERTIFIED, {"top": top, "pinned": pinned, "tree": val, "size": size})
