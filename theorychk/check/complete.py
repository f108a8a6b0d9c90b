"""Verifier of the ``complete`` uniqueness claim: replay a branching tree over the open units.

The statement and the proof that the tree covers every preimage are in
:mod:`theorychk.certify.complete`; this module is the trusted half. From the network, the exact
trace of ``z*`` and the path of branch decisions alone it rebuilds, at every leaf, the constraint
system of the *lifted sub-problem*: variables ``v = (z, x_1, ..., x_t)`` (``t`` = ``evidence.top``,
the first layer from the output whose preimage polytope is not a single point), rows

* ``t{r}`` — layer ``t``'s output is fixed: ``h_{t,r} = u*_r`` on the observed rows, ``h_{t,r} <= 0``
  on the off rows of a ReLU layer (``h_{i,r} = W_i[r] . x_i + b_i[r]``, an affine form in ``v``);
* ``z{q}+`` / ``z{q}-`` — the latent box ``z_q <= R`` / ``-z_q <= R`` (when the claim has one);
* ``u{i}.{r}.{k}`` — the ``k``-th row of unit ``r`` of hidden layer ``i < t``: its region's linear
  description when the path fixed the region, else the convex relaxation of :data:`RELAXATION`
  (a valid outer bound of the activation's graph everywhere).

Every row is ``cx * x_{i+1,r} + ch * h_{i,r} (= or <=) const`` (:data:`REGIONS`). A leaf is closed
by ``{"farkas": {row: multiplier}}`` — or ``{"farkas": [row, ...]}``, a support on which the
checker solves for the multipliers itself (exact rational row reduction; a vertex of the dual is
unique on its support, and its exact multipliers run to hundreds of digits) — (multipliers ``>= 0`` on inequalities; the combination of the
rows is ``0`` and of the right-hand sides ``< 0``: the leaf is empty) or by ``{"point": {"rows":
R, "prime": p, "zero": {row: multiplier}}}`` (every row of ``R`` tight at ``v*``; ``R`` has rank
``D = dim v`` — modulo the prime ``p``, or over Q when ``p`` is ``null``; the multipliers are
supported on ``R``, strictly positive on its inequalities and combine to ``0``: then every
``d`` with ``v* + d`` in the leaf has ``a . d <= 0`` on ``R``'s inequalities, so ``= 0`` on all of
them, ``a . d = 0`` on its equalities, so ``d = 0``: the leaf is ``{v*}`` or empty). A branch
``{"unit": [i, r], "children": {region: node}}`` must name an open branchable unit and have one
child per region of its activation (the regions are closed and cover R).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import flint

from theorychk import exact
from theorychk.check import ClaimCheck, Outcome
from theorychk.check.activations import REGIONS, Row, regions, relaxation
from theorychk.check.core import Trace
from theorychk.check.rationals import need, parse_rational
from theorychk.check.signal import exact_verifier, polytope_point, verify_second_preimage
from theorychk.errors import CertificateError

__all__ = ["REGIONS", "relaxation", "regions", "Lifted", "Row"]

F0, F1 = Fraction(0), Fraction(1)
#: Most nodes a tree may have (a bound on the checker's work; the search stops well before).
MAX_NODES = 2_000_000


_KEY = re.compile(r"t(\d+)|z(\d+)([+-])|u(\d+)\.(\d+)\.(\d+)")


class Lifted:
    """The lifted sub-problem below layer ``top`` of the exact trace ``tr`` (module docstring).

    Rows are addressed by their keys; :meth:`row` rebuilds one from the net, the signal and the
    ``path`` (``{(i, r): region}``), raising :class:`CertificateError` if it does not exist there.
    """

    def __init__(self, tr: Trace, top: int, box: Fraction | None) -> None:
        self.tr, self.top, self.box = tr, top, box
        widths = tr.net.widths
        self.offsets = [sum(widths[:i]) for i in range(top + 1)]
        self.dim = sum(widths[: top + 1])
        self.observed = set(tr.observed_rows(top))
        self._wq: dict[tuple[int, int], list[Fraction]] = {}

    def units(self) -> list[tuple[int, int]]:
        """Hidden units of layers ``0 .. top - 1`` whose activation has regions (branchable)."""
        return [(i, r) for i in range(self.top) if self.tr.specs[i].split(":")[0] in REGIONS
                for r in range(self.tr.net.widths[i + 1])]

    def unit_rows(self, i: int, r: int, path: dict[tuple[int, int], str]) -> list[Row]:
        spec = self.tr.specs[i]
        region = path.get((i, r))
        return relaxation(spec) if region is None else regions(spec)[region]

    def row(self, key: str, path: dict[tuple[int, int], str]) -> tuple[str, int, int, Row]:
        """``(key kind, layer, index, row)``: key kind ``"t"`` (``h_{top,r}``), ``"z"`` (``z_q``, row
        on ``cx`` only) or ``"u"`` (unit ``(i, r)``)."""
        m = _KEY.fullmatch(key) if isinstance(key, str) else None
        if m is None:
            raise CertificateError(f"complete: bad row key {key!r}")
        if m.group(1) is not None:
            r = int(m.group(1))
            if r >= self.tr.net.widths[self.top + 1]:
                raise CertificateError(f"complete: row {key!r} out of range")
            if r in self.observed:
                return "t", self.top, r, ("eq", F0, F1, self.tr.pre[self.top][r])
            if not self.tr.relu(self.top):  # pragma: no cover - every row is observed then
                raise CertificateError(f"complete: row {key!r} is not a row of the system")
            return "t", self.top, r, ("le", F0, F1, F0)
        if m.group(2) is not None:
            q = int(m.group(2))
            if self.box is None or q >= self.tr.net.latent_dim:
                raise CertificateError(f"complete: row {key!r} is not a row of the system (no latent box or "
                                       "out of range)")
            return "z", 0, q, ("le", F1 if m.group(3) == "+" else -F1, F0, self.box)
        i, r, k = int(m.group(4)), int(m.group(5)), int(m.group(6))
        if i >= self.top or r >= self.tr.net.widths[i + 1]:
            raise CertificateError(f"complete: row {key!r}: no such unit below layer {self.top}")
        rows = self.unit_rows(i, r, path)
        if k >= len(rows):
            raise CertificateError(f"complete: row {key!r}: unit ({i}, {r}) has {len(rows)} rows at this node")
        return "u", i, r, rows[k]

    def value_at_star(self, key: str, path: dict[tuple[int, int], str]) -> tuple[str, Fraction, Fraction]:
        """``(kind, lhs(v*), const)`` of a row, exactly from the trace."""
        what, i, r, (kind, cx, ch, const) = self.row(key, path)
        if what == "z":
            return kind, cx * self.tr.inputs[0][r], const
        x = self.tr.inputs[i + 1][r] if what == "u" else F0
        return kind, cx * x + ch * self.tr.pre[i][r], const

    def wrow(self, i: int, r: int) -> list[Fraction]:
        if (i, r) not in self._wq:
            z, scale = self.tr.integer_weight(i)
            self._wq[(i, r)] = [scale * v for v in z[r]]
        return self._wq[(i, r)]

    def combine(self, mults: dict[str, Fraction], path: dict[tuple[int, int], str], where: str,
                free_eq: bool = True) -> tuple[list[Fraction], Fraction, list[str]]:
        """``(sum mult * a, sum mult * b, kinds)`` over the rows, in the lifted coordinates, exactly.

        Inequality rows need multipliers ``>= 0`` (raises otherwise)."""
        hco: dict[int, dict[int, Fraction]] = {}
        coef = [F0] * self.dim
        rhs = F0
        kinds = []
        for key, lam in mults.items():
            what, i, r, (kind, cx, ch, const) = self.row(key, path)
            if kind == "le" and lam < 0:
                raise CertificateError(f"{where}: negative multiplier {lam} on inequality {key}")
            kinds.append(kind)
            rhs += lam * const
            if what == "z":
                coef[r] += lam * cx
                continue
            if what == "u" and cx != 0:
                coef[self.offsets[i + 1] + r] += lam * cx
            if ch != 0:
                hco.setdefault(i, {})
                hco[i][r] = hco[i].get(r, F0) + lam * ch
        for i, col in hco.items():
            rows = sorted(r for r, v in col.items() if v != 0)
            if not rows:
                continue
            b = self.tr.net.layers[i].bias
            rhs -= sum((col[r] * Fraction(float(b[r])) for r in rows), F0)
            lam = flint.fmpq_mat(1, len(rows), [flint.fmpq(col[r].numerator, col[r].denominator) for r in rows])
            prod = lam * self.tr.weight(i, rows)
            off = self.offsets[i]
            for c in range(prod.ncols()):
                v = prod[0, c]
                if v != 0:
                    coef[off + c] += Fraction(int(v.p), int(v.q))
        return coef, rhs, kinds

    def columns(self, keys: list[str], path: dict[tuple[int, int], str]) -> Any:
        """The rows as the columns of a ``(D + 1) x len(keys)`` ``fmpq_mat``: coefficients, then right-hand side."""
        mat = flint.fmpq_mat(self.dim + 1, len(keys))
        for j, key in enumerate(keys):
            coef, rhs, _ = self.combine({key: F1}, path, "columns")
            for d, v in enumerate(coef + [rhs]):
                if v:
                    mat[d, j] = flint.fmpq(v.numerator, v.denominator)
        return mat

    def farkas_on(self, keys: list[str], path: dict[tuple[int, int], str]) -> dict[str, Fraction] | None:
        """Multipliers on ``keys`` with ``sum lam a = 0``, ``sum lam b = -1`` (the solution the rational
        row reduction gives: free variables 0), or ``None`` when there is none."""
        if not keys:
            return None
        sol = exact.solve(self.columns(keys, path), [F0] * self.dim + [-F1])
        return None if sol is None else {k: v for k, v in zip(keys, sol) if v != 0}

    def zero_on(self, ones: list[str], solve: list[str], path: dict[tuple[int, int], str]
                ) -> dict[str, Fraction] | None:
        """Multipliers ``1`` on ``ones`` and, on ``solve``, the exact solution (free variables 0) of
        ``sum lam a = -sum_{ones} a``; ``None`` when there is none."""
        target = [F0] * self.dim
        if ones:
            coef, _, _ = self.combine({k: F1 for k in ones}, path, "zero")
            target = [-c for c in coef]
        mults = {k: F1 for k in ones}
        if solve:
            mat = self.columns(solve, path)
            sol = exact.solve(_drop_last_row(mat), target)
            if sol is None:
                return None
            mults.update({k: v for k, v in zip(solve, sol) if v != 0})
        elif any(target):
            return None
        return mults

    def int_rows(self, keys: list[str], path: dict[tuple[int, int], str]) -> list[list[int]]:
        """The rows' coefficient vectors in the lifted coordinates, each scaled to coprime-free integers
        (a nonzero scaling per row: the rank is unchanged)."""
        out = []
        for key in keys:
            what, i, r, (_, cx, ch, _) = self.row(key, path)
            vec = [0] * self.dim
            if what == "z":
                vec[r] = 1 if cx != 0 else 0
                out.append(vec)
                continue
            z, scale = self.tr.integer_weight(i)
            if ch == 0:
                if what == "u" and cx != 0:
                    vec[self.offsets[i + 1] + r] = 1
                out.append(vec)
                continue
            # ch * scale * Z[r] + cx e  ==  (ch * scale) * (Z[r] + cx / (ch * scale) e)
            extra = cx / (ch * scale) if what == "u" else F0
            den = extra.denominator
            off = self.offsets[i]
            for c, v in enumerate(z[r]):
                vec[off + c] = v * den
            if extra:
                vec[self.offsets[i + 1] + r] += extra.numerator
            out.append(vec)
        return out

    def rank(self, keys: list[str], path: dict[tuple[int, int], str], prime: int | None) -> int:
        rows = self.int_rows(keys, path)
        if not rows:
            return 0
        flat = [v for row in rows for v in row]
        if prime is None:
            return int(flint.fmpz_mat(len(rows), self.dim, flat).rank())
        return int(flint.nmod_mat(len(rows), self.dim, [v % prime for v in flat], prime).rank())


def _drop_last_row(mat: Any) -> Any:
    out = flint.fmpq_mat(mat.nrows() - 1, mat.ncols())
    for i in range(mat.nrows() - 1):
        for j in range(mat.ncols()):
            out[i, j] = mat[i, j]
    return out


# --------------------------------------------------------------------------------------------
# The verifier
# --------------------------------------------------------------------------------------------


def _sparse(value: Any, where: str) -> dict[str, Fraction]:
    if not isinstance(value, dict):
        raise CertificateError(f"{where}: expected an object {{row: rational}}, got {type(value).__name__}")
    return {k: parse_rational(v, f"{where}[{k}]") for k, v in value.items()}


def _farkas(sys_: Lifted, path: dict[tuple[int, int], str], value: Any, where: str) -> None:
    if isinstance(value, list):  # a support: the multipliers are the exact solution on these rows
        if not all(isinstance(k, str) for k in value) or len(set(value)) != len(value):
            raise CertificateError(f"{where}: a support must list distinct row keys")
        mults = sys_.farkas_on(value, path)
        if mults is None:
            raise CertificateError(f"{where}: no exact Farkas multipliers on the support rows")
    else:
        mults = _sparse(value, where)
    coef, rhs, _ = sys_.combine(mults, path, where)
    if any(c != 0 for c in coef):
        raise CertificateError(f"{where}: the Farkas combination of the rows is not zero")
    if not rhs < 0:
        raise CertificateError(f"{where}: the Farkas combination of the right-hand sides is {rhs}, not < 0")


def _point(sys_: Lifted, path: dict[tuple[int, int], str], value: Any, where: str) -> None:
    rows = need(value, "rows", list, where)
    if not all(isinstance(k, str) for k in rows) or len(set(rows)) != len(rows):
        raise CertificateError(f"{where}: rows must be distinct row keys")
    prime = value.get("prime")
    if prime is not None:
        if not isinstance(prime, int) or isinstance(prime, bool) or not 2 <= prime < 2**63 \
                or not flint.fmpz(prime).is_prime():
            raise CertificateError(f"{where}: prime {prime!r} is not a prime below 2^63")
    kinds = {}
    for key in rows:
        kind, lhs, const = sys_.value_at_star(key, path)
        if lhs != const:
            raise CertificateError(f"{where}: row {key} is not tight at v* ({lhs} != {const})")
        kinds[key] = kind
    got = sys_.rank(rows, path, prime)
    if got != sys_.dim:
        how = f"modulo {prime}" if prime is not None else "over Q"
        raise CertificateError(f"{where}: the rows have rank {got} {how}, not {sys_.dim}")
    zero = need(value, "zero", dict, where)
    if set(zero) == {"ones", "solve"}:  # multipliers 1 on "ones", the exact solution on "solve"
        ones, solve = zero["ones"], zero["solve"]
        if not (isinstance(ones, list) and isinstance(solve, list) and all(isinstance(k, str) for k in ones + solve)
                and len(set(ones + solve)) == len(ones) + len(solve)):
            raise CertificateError(f"{where}.zero: 'ones' and 'solve' must list distinct row keys")
        mults = sys_.zero_on(ones, solve, path)
        if mults is None:
            raise CertificateError(f"{where}.zero: no exact multipliers on the 'solve' rows")
    else:
        mults = _sparse(zero, f"{where}.zero")
    outside = sorted(set(mults) - set(rows))
    if outside:
        raise CertificateError(f"{where}: multiplier on row {outside[0]} outside the rows")
    for key, kind in kinds.items():
        if kind == "le" and not mults.get(key, F0) > 0:
            raise CertificateError(f"{where}: inequality row {key} needs a positive multiplier")
    coef, _, _ = sys_.combine(mults, path, where)
    if any(c != 0 for c in coef):
        raise CertificateError(f"{where}: the multipliers do not combine to zero")


def replay(sys_: Lifted, tree: Any, where: str = "complete.tree") -> dict[str, int]:
    """Check every node and leaf of ``tree``; returns the counts ``{"branches", "farkas", "point"}``."""
    counts = {"branches": 0, "farkas": 0, "point": 0}
    branchable = set(sys_.units())
    stack: list[tuple[Any, dict[tuple[int, int], str], str]] = [(tree, {}, where)]
    while stack:
        node, path, at = stack.pop()
        if sum(counts.values()) > MAX_NODES:
            raise CertificateError(f"complete: more than {MAX_NODES} nodes")
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise CertificateError(f"{at}: a node is a branch, a farkas leaf or a point leaf")
        if "farkas" in node and len(node) == 1:
            _farkas(sys_, path, node["farkas"], f"{at}.farkas")
            counts["farkas"] += 1
        elif "point" in node and len(node) == 1:
            _point(sys_, path, node["point"], f"{at}.point")
            counts["point"] += 1
        elif set(node) == {"unit", "children"}:
            unit = node["unit"]
            if not (isinstance(unit, list) and len(unit) == 2 and all(isinstance(v, int) for v in unit)):
                raise CertificateError(f"{at}.unit: expected [layer, index], got {unit!r:.60}")
            u = (unit[0], unit[1])
            if u not in branchable or u in path:
                raise CertificateError(f"{at}: unit {list(u)} is not an open branchable unit below layer {sys_.top}")
            children = need(node, "children", dict, at)
            want = set(regions(sys_.tr.specs[u[0]]))
            if set(children) != want:
                raise CertificateError(f"{at}: unit {list(u)} needs exactly one child per region "
                                       f"{sorted(want)}; got {sorted(children)}")
            counts["branches"] += 1
            for region, child in children.items():
                stack.append((child, {**path, u: region}, f"{at}.{region}"))
        else:
            raise CertificateError(f"{at}: a node is a branch, a farkas leaf or a point leaf; got keys "
                                   f"{sorted(node)}")
    return counts


def check_pinned(tr: Trace, top: int, pinned: Any, where: str) -> None:
    """Layers ``top + 1 .. L - 1``: each preimage polytope is a single point (``polytope`` evidence)."""
    if not isinstance(pinned, list):
        raise CertificateError(f"{where}: expected a list of layer entries")
    got = []
    for n, entry in enumerate(pinned):
        j = need(entry, "layer", int, f"{where}[{n}]")
        got.append(j)
        at = f"complete pinned layer {j}"
        if not top < j < tr.net.depth:
            raise CertificateError(f"{at}: not above the sub-problem's layer {top}")
        polytope_point(tr, j, entry, at)
    if sorted(got) != list(range(top + 1, tr.net.depth)):
        raise CertificateError(f"{where}: the pinned layers must be exactly {top + 1}..{tr.net.depth - 1}; "
                               f"got {sorted(got)}")


@exact_verifier("complete", refutable=True)
def _complete(claim: dict[str, Any], tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    ev = need(claim, "evidence", dict, "complete")
    box = ev.get("latent_box")
    box = None if box is None else parse_rational(box, "complete.latent_box")
    if box is not None and box <= 0:
        raise CertificateError("complete: latent_box must be positive")
    if claim["status"] == "REFUTED":
        z2 = verify_second_preimage(claim, tr, "complete")
        if box is not None and max(abs(v) for v in z2) > box:
            raise CertificateError("complete: the second latent lies outside the latent box")
        dist = max(abs(a - b) for a, b in zip(z2, tr.inputs[0]))
        if "distance" in ev and parse_rational(ev["distance"], "complete.distance") != dist:
            raise CertificateError(f"complete: distance does not equal ||second_latent - z*||_inf = {dist}")
        return ClaimCheck("complete", Outcome.VERIFIED, "exact second preimage")
    if box is not None and max(abs(v) for v in tr.inputs[0]) > box:
        raise CertificateError("complete: z* lies outside the latent box")
    top = need(ev, "top", int, "complete.evidence")
    if not -1 <= top < tr.net.depth:
        raise CertificateError(f"complete: top layer {top} out of range")
    check_pinned(tr, top, need(ev, "pinned", list, "complete.evidence"), "complete.pinned")
    if top == -1:
        if ev.get("tree") is not None:
            raise CertificateError("complete: every layer is pinned; the tree must be null")
        return ClaimCheck("complete", Outcome.VERIFIED, "every layer's preimage polytope is a single point")
    counts = replay(Lifted(tr, top, box), ev.get("tree"))
    size = need(ev, "size", dict, "complete.evidence")
    if size != counts:
        raise CertificateError(f"complete: size {size} does not match the tree {counts}")
    return ClaimCheck("complete", Outcome.VERIFIED, f"branching tree replayed below layer {top}: "
                      f"{counts['branches']} branches, {counts['farkas']} Farkas and {counts['point']} point leaves")
