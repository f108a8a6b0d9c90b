"""Verifiers of the stability claims: ``lei_linf``, ``lei_l1``, ``aberdam_thm2``, ``aberdam_oracle``.

The checker recomputes every guaranteed error from the exact trace and the few numbers it cannot
derive cheaply, each re-verified: lower bounds on ``c_inf`` / ``c_1`` (integer dual vectors, one
per facet, by weak duality; an integer-scaled approximate left inverse ``L`` with
``c >= (1 - ||I - L A||) / ||L||``; or the exact minimum over kernel rays when at most
:data:`KERNEL_CAP`) — one integer matrix product with the integer-scaled weights each, never an
LP — and eigenvalue enclosures (``G - lo I`` and ``hi I - G`` positive definite: the signs of their
integer characteristic polynomials). For a large ``W_J`` the evidence of ``c`` is only a precision
(``"method": "left_inverse", "bits": b``): the checker computes an approximate left inverse itself
(floats, which only choose ``L``: any ``L`` gives a valid bound), rounds it to ``b``-bit integers and
verifies the bound with one exact product, cached per layer and row set, so a batch of one model's
certificates pays it once per layer when ``J`` is every row. A layer's
``c_lower`` must be at most what its evidence proves; ``"constant": "exact"`` must also be
attained (a primal ``x``, or the kernel-ray enumeration). The recomputed bound must equal the
certificate's. Statements: :mod:`theorychk.certify.stability`. Evidence written before issue 16
(sparse rational duals per facet, a rational ``L``, no ``constant``) is read into the same integer
form and states a lower bound.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import weakref

import flint
import numpy as np

from theorychk import exact
from theorychk.check import ClaimCheck, Outcome
from theorychk.check.activations import global_inverse_lipschitz, inverse_lipschitz_bound
from theorychk.check.core import Trace
from theorychk.check.intmat import IntLayer, IntProduct, int_product, submatrix
from theorychk.check.rationals import (
    is_positive_definite, need, parse_rational, parse_sparse, parse_vector, positive_definite_sum, sqrt_bounds,
)
from theorychk.check.signal import exact_verifier
from theorychk.errors import CertificateError

__all__ = ["KERNEL_CAP", "CONSTANTS", "THM2_CONDITION", "lei_rows", "lipschitz", "c_bound", "facet_dual_bound",
           "left_inverse_bound", "left_inverse_bounds", "derived_left_inverse", "LEFT_INVERSE_BITS", "witness_value", "check_constant", "aberdam_bound", "oracle_bounds"]

#: Most (k-1)-row subsets the checker enumerates to recompute c_1 exactly.
KERNEL_CAP = 5000
#: What a layer of ``lei_linf`` / ``lei_l1`` says its ``c_lower`` is: the constant itself (proven
#: attained) or a certified lower bound of it (all the guarantee needs).
CONSTANTS = ("exact", "lower_bound")
#: The condition bound (7) is proven under (Theorem 2 of paper 004, corrected): a CERTIFIED
#: ``aberdam_thm2`` claim must state it verbatim.
THM2_CONDITION = "exact support recovery S_hat_i = S_i at every layer"
#: Precisions (bits of the largest entry) a ``left_inverse`` evidence may ask the checker for.
LEFT_INVERSE_BITS = range(8, 41)
#: Bounds of checker-derived left inverses of whole layers (``J`` = every row), by layer content.
_WHOLE: weakref.WeakKeyDictionary[IntLayer, dict[int, dict[str, Fraction]]] = weakref.WeakKeyDictionary()


def lei_rows(tr: Trace, j: int, threshold: Fraction) -> list[int]:
    """Rows whose clean output exceeds ``threshold`` after a ReLU; all rows after an invertible activation."""
    if tr.relu(j):
        return tr.above(j, threshold)
    return list(range(tr.net.widths[j + 1]))


def lipschitz(tr: Trace, j: int, eps: Fraction) -> Fraction | None:
    """Lipschitz constant of layer ``j``'s inverse activation around its output (1 on ReLU rows)."""
    if tr.relu(j):
        return Fraction(1)
    constant = global_inverse_lipschitz(tr.specs[j])  # the same for every unit: no pre-activation read
    if constant is not None:
        return constant
    vals = [inverse_lipschitz_bound(tr.specs[j], u, eps) for u in tr.pre[j]]
    return None if any(v is None for v in vals) else max(vals)  # type: ignore[type-var]


def _rows_of(m: Any) -> list[list[Fraction]]:
    return [[exact.rational(m[i, j]) for j in range(m.ncols())] for i in range(m.nrows())]


def int_rows(value: Any, nrows: int, ncols: int, where: str) -> list[list[int]]:
    """``nrows`` lists of ``ncols`` JSON integers (an integer-scaled matrix of the evidence)."""
    # type() of every entry in one C-level pass (a JSON bool is an int subclass: rejected too)
    if not (isinstance(value, list) and len(value) == nrows and all(
            type(r) is list and len(r) == ncols for r in value)
            and set(map(type, itertools.chain.from_iterable(value))) <= {int}):
        raise CertificateError(f"{where}: expected {nrows} lists of {ncols} integers")
    return value


def _fmpz(rows: list[list[int]], ncols: int) -> flint.fmpz_mat:
    return flint.fmpz_mat(len(rows), ncols, list(itertools.chain.from_iterable(rows)))


def _integer_form(rows: list[list[Fraction]]) -> tuple[list[list[int]], Fraction]:
    """``rows == scale * Z`` with integer ``Z`` (common denominator)."""
    den = math.lcm(*(q.denominator for r in rows for q in r)) if any(rows) else 1
    return [[int(q * den) for q in r] for r in rows], Fraction(1, den)


def facet_dual_bound(za: flint.fmpz_mat, scale: Fraction, ys: list[list[int]]) -> Fraction:
    """``min_f max(0, 2|g_ff| - sum_l |g_fl|) / ||y_f||_1`` over integer dual vectors ``y_f`` (one per
    facet ``x_f = 1``, entries aligned with the rows of ``A = scale * za``), ``g_f = A^T y_f``: a lower
    bound on ``c_inf(A)`` by weak duality for any ``y`` (the scale of ``y_f`` cancels). One integer
    product ``Y za``."""
    k = za.ncols()
    g = (_fmpz(ys, za.nrows()) * za).tolist()
    best = None
    for f, (y, row) in enumerate(zip(ys, g)):
        ny = sum(map(abs, y))
        val = Fraction(max(0, int(2 * abs(row[f]) - sum(map(abs, row)))), ny) if ny else Fraction(0)
        best = val if best is None else min(best, val)
    return scale * best if best is not None and k else Fraction(0)


def left_inverse_bound(za: flint.fmpz_mat, sa: Fraction, zl: list[list[int]], sl: Fraction, norm: str) -> Fraction:
    """``(1 - ||I - L A||) / ||L||`` (induced l_inf or l_1 norm; 0 unless ``||I - L A|| < 1``) for
    ``L = sl * zl`` and ``A = sa * za``: ``x = L A x + (I - L A) x`` gives ``||x|| <= ||L|| ||A x|| +
    ||I - L A|| ||x||``. One integer product ``zl za``."""
    return left_inverse_bounds(za, sa, _fmpz(zl, za.nrows()), sl)[norm]


def left_inverse_bounds(za: flint.fmpz_mat, sa: Fraction, zl: flint.fmpz_mat, sl: Fraction) -> dict[str, Fraction]:
    """:func:`left_inverse_bound` in both norms (``"inf"``, ``"1"``) from the one product ``zl za``."""
    k = za.ncols()
    s = sl * sa
    num, den = s.numerator, s.denominator
    eye = flint.fmpz_mat(k, k, [den if a == b else 0 for a in range(k) for b in range(k)])
    e = (eye - (zl * za) * num).tolist()  # den (I - L A)
    rows_l = zl.tolist()
    norms = {"inf": (max((sum(map(abs, r)) for r in e), default=0), max((sum(map(abs, r)) for r in rows_l), default=0)),
             "1": (max((sum(map(abs, c)) for c in zip(*e)), default=0),
                   max((sum(map(abs, c)) for c in zip(*rows_l)), default=0))}
    return _bounds_of(norms, den, sl)


def _bounds_of(norms: dict[str, tuple[int, int]], den: int, sl: Fraction) -> dict[str, Fraction]:
    """Per norm, from ``(||den (I - L A)||, ||zl||)``: ``(1 - ||I - L A||) / ||L||`` or 0."""
    out = {}
    for norm, (n_e, n_l) in norms.items():
        q = Fraction(int(n_e), den)
        out[norm] = (1 - q) / (sl * int(n_l)) if q < 1 and n_l else Fraction(0)
    return out


def _left_inverse_bounds_int64(a: np.ndarray, sa: Fraction, zl: np.ndarray, sl: Fraction) -> dict[str, Fraction]:
    """:func:`left_inverse_bounds` for int64 ``a`` (rows of ``Z``) and ``zl``: the same numbers, with
    the product ``zl a`` by :func:`~theorychk.check.intmat.int_product` (exact) and the norms of
    ``zl`` in int64 (``|zl| <= 2**40`` and fewer than ``2**22`` terms per sum: no overflow)."""
    s = sl * sa
    num, den = s.numerator, s.denominator
    prod = int_product(zl, a)
    small = _small_residual(prod, num, den)
    if small is not None:  # |den I - num zl a| < 2**62: row and column sums on int64 halves
        hi, lo = small >> 31, small & (2**31 - 1)
        sums = {axis: [(int(h) << 31) + int(low) for h, low in zip(hi.sum(axis=axis), lo.sum(axis=axis))]
                for axis in (0, 1)}
        n_e = {"inf": max(sums[1]), "1": max(sums[0])}
    else:
        e = prod.ints() * -num
        e[np.diag_indices(e.shape[0])] += den  # den (I - L A)
        e = np.abs(e)
        n_e = {"inf": max(e.sum(axis=1).tolist()), "1": max(e.sum(axis=0).tolist())}
    al = np.abs(zl)
    norms = {"inf": (n_e["inf"], int(al.sum(axis=1).max())), "1": (n_e["1"], int(al.sum(axis=0).max()))}
    return _bounds_of(norms, den, sl)


def _small_residual(prod: IntProduct, num: int, den: int) -> np.ndarray | None:
    """``|den I - num P|`` as int64 when every entry is below ``2**62`` (else None), ``P`` the exact
    product ``sum(part * 2**shift)`` over int64 parts and ``num``, ``den`` powers of two.

    int64 arithmetic wraps modulo ``2**64``, so the shifted parts summed in int64 give the residual
    exactly once it is known to be below ``2**63`` in magnitude. That is shown in floats: each term
    (a part times a power of two, and ``den``) is an exact double, so the float sum of the ``n``
    terms is off by at most ``n u sum(|terms|)`` (``u = 2**-53``, recursive summation), and
    ``|float sum| + (n + 1) u sum(|terms|) < 2**62`` leaves a factor two for the rounding of the
    bound itself."""
    k = prod.shape[0]
    if (num & (num - 1)) or (den & (den - 1)) or any(
            p.dtype != np.int64 or int(np.abs(p).max()) > 2**53 for p in prod.parts.values()):
        return None  # (a part beyond 2**53 would not be an exact double)
    g = num.bit_length() - 1
    if den.bit_length() > 1000 or any(shift + g > 900 for shift in prod.parts):
        return None
    diag = np.diag_indices(k)
    approx = np.zeros(prod.shape)
    total = np.zeros(prod.shape)
    approx[diag] = float(den)
    total[diag] = float(den)
    exact = np.zeros(prod.shape, dtype=np.int64)
    wrapped = den % 2**64
    exact[diag] = wrapped - 2**64 if wrapped >= 2**63 else wrapped  # den modulo 2**64, as int64
    for shift, part in prod.parts.items():
        term = np.ldexp(part.astype(np.float64), shift + g)  # exact: |part| <= 2**53
        approx -= term
        total += np.abs(term)
        if shift + g < 64:  # the shift on the unsigned view wraps modulo 2**64 (a signed one need not)
            exact -= (part.view(np.uint64) << np.uint64(shift + g)).view(np.int64)
    n = len(prod.parts) + 1
    if not np.all(np.abs(approx) + (n + 1) * 2.0**-53 * total < 2.0**62):
        return None
    return np.abs(exact)


def derived_left_inverse(tr: Trace, j: int, rows: list[int], bits: int) -> dict[str, Fraction]:
    """The bounds (both norms) that the checker's own approximate left inverse of ``A = W_j^rows``
    proves: ``L = 2**(e - bits) / scale * rint(2**(bits - e) (Z^T Z)^{-1} Z^T)`` in floats (``Z`` the
    integer rows, ``2**e`` just above the largest entry), then :func:`left_inverse_bounds` exactly.
    The floats only choose ``L``; every ``L`` gives a valid bound, so a different BLAS can change the
    bound in its last bits but never make it unsound. Cached per layer content when ``rows`` is every
    row (the bound then does not depend on the signal), else per trace."""
    layer = tr.int_layer(j)
    whole = len(rows) == layer.shape[0] and rows == list(range(layer.shape[0]))
    memo = _WHOLE.setdefault(layer, {}) if whole else tr._memo.setdefault(("left_inverse", j, tuple(rows)), {})
    if bits not in memo:
        memo[bits] = _derive(layer, rows, bits)
    return memo[bits]


def choose_left_inverse(layer: IntLayer, rows: list[int], bits: int) -> tuple[np.ndarray, int] | None:
    """The left inverse the bound is derived from: ``(Z_L, e)`` with ``L = 2**(e - bits) Z_L`` (in the
    layer's integer units), ``Z_L`` int64 with ``|entries| <= 2**bits``, rounded from the float
    least-squares inverse of ``W^rows``; ``None`` when there is none (fewer rows than columns, a
    singular or non-finite solve). Any ``L`` gives a valid bound; the certifier calls this too, so
    that the bound it states is the one the checker re-derives."""
    zf = np.asarray(layer.array[rows], dtype=np.float64)
    if zf.shape[0] < zf.shape[1] or not zf.size:
        return None
    try:
        with np.errstate(all="ignore"):
            lf = np.linalg.solve(zf.T @ zf, zf.T)
    except np.linalg.LinAlgError:
        return None
    top = np.abs(lf).max()
    if not (np.all(np.isfinite(lf)) and top > 0):
        return None
    e = int(np.frexp(top)[1])
    return np.rint(np.ldexp(lf, bits - e)).astype(np.int64), e  # |entries| <= 2**bits <= 2**40


def _derive(layer: IntLayer, rows: list[int], bits: int) -> dict[str, Fraction]:
    zero = {"inf": Fraction(0), "1": Fraction(0)}
    chosen = choose_left_inverse(layer, rows, bits)
    if chosen is None:
        return zero
    zl, e = chosen
    k, m = zl.shape
    sl = Fraction(2) ** (e - bits) / layer.scale
    if layer.array.dtype == np.int64 and m < 2**22 and bits <= 40:
        return _left_inverse_bounds_int64(layer.array[rows], layer.scale, zl, sl)
    return left_inverse_bounds(submatrix_rows(layer, rows), layer.scale, flint.fmpz_mat(k, m, zl.ravel().tolist()), sl)


def submatrix_rows(layer: IntLayer, rows: list[int]) -> flint.fmpz_mat:
    return layer.z if rows == list(range(layer.shape[0])) else submatrix(layer, rows, None)


def _legacy_duals(certs: list[Any], n: int, rows: list[int], k: int, where: str) -> list[list[int]]:
    """The per-facet sparse rational duals of certificates before issue 16, as integer rows aligned with ``rows``."""
    if sorted(c.get("facet") for c in certs) != list(range(k)):
        raise CertificateError(f"{where}: need one dual vector per facet 0..{k - 1}")
    out: list[list[int]] = [[] for _ in range(k)]
    for c in certs:
        y = parse_sparse(need(c, "y", dict, where), n, f"{where}.y")
        if not set(y) <= set(rows):
            raise CertificateError(f"{where}: a dual vector uses a row outside J")
        out[c["facet"]] = _integer_form([[y.get(r, Fraction(0)) for r in rows]])[0][0]
    return out


def c_bound(tr: Trace, j: int, rows: list[int], norm: str, ev: dict[str, Any], where: str) -> Fraction:
    """The lower bound on ``c_norm(W_j^rows)`` that ``ev`` proves (re-derived exactly)."""
    method = need(ev, "method", str, where)
    k = tr.net.widths[j]
    if method == "lp_duals" and norm == "inf":
        if "y" in ev:
            ys = int_rows(ev["y"], k, len(rows), f"{where}.y")
        else:
            ys = _legacy_duals(need(ev, "certificates", list, where), len(tr.pre[j]), rows, k, where)
        return facet_dual_bound(tr.int_matrix(j, rows), tr.integer_weight(j)[1], ys)
    if method == "left_inverse":
        bits = need(ev, "bits", int, where)
        if bits not in LEFT_INVERSE_BITS:
            raise CertificateError(f"{where}.bits: expected an integer in {LEFT_INVERSE_BITS.start}.."
                                   f"{LEFT_INVERSE_BITS.stop - 1}, got {bits}")
        return derived_left_inverse(tr, j, rows, bits)[norm]
    if method == "approx_left_inverse":
        if "scale" in ev:
            sl = parse_rational(ev["scale"], f"{where}.scale")
            zl = int_rows(need(ev, "L", list, where), k, len(rows), f"{where}.L")
        else:
            lq = [parse_vector(r, len(rows), f"{where}.L") for r in need(ev, "L", list, where)]
            if len(lq) != k:
                raise CertificateError(f"{where}: L must have {k} rows")
            zl, sl = _integer_form(lq)
        if sl <= 0:
            raise CertificateError(f"{where}: the scale of L must be positive")
        return left_inverse_bound(tr.int_matrix(j, rows), tr.integer_weight(j)[1], zl, sl, norm)
    if method == "kernel_rays" and norm == "1":  # c_1 is attained on a ray of ker W_T, |T| = k - 1
        if math.comb(len(rows), k - 1) > KERNEL_CAP or not tr.full_rank(j, rows):
            raise CertificateError(f"{where}: kernel rays beyond the checker's cap, or W_J rank deficient")
        # On the integer rows Z (W_J = scale Z): ||W_J x||_1 / ||x||_1 = scale ||Z x||_1 / ||x||_1 does
        # not depend on the scale of x, so any integer kernel vector of Z_T stands for its ray.
        z = tr.int_matrix(j, rows)
        zr = z.tolist()
        best = None
        for t in itertools.combinations(range(len(rows)), k - 1):
            ker, nullity = (flint.fmpz_mat([zr[i] for i in t]) if t else flint.fmpz_mat(1, k)).nullspace()
            if int(nullity) == 1:
                x = [ker[q, 0] for q in range(k)]
                val = Fraction(int(sum(abs(v) for v in (z * flint.fmpz_mat(k, 1, x)).entries())),
                               int(sum(abs(v) for v in x)))
                best = val if best is None else min(best, val)
        return tr.integer_weight(j)[1] * best if best is not None else Fraction(0)
    raise CertificateError(f"{where}: unsupported evidence {method!r} for c_{norm}")


def witness_value(tr: Trace, j: int, rows: list[int], norm: str, x: list[Fraction]) -> Fraction | None:
    """``||W_j^rows x|| / ||x||`` exactly (``None`` for ``x = 0``): an upper bound on ``c_norm``."""
    size = max(map(abs, x), default=0) if norm == "inf" else sum(map(abs, x))
    if size == 0:
        return None
    zx, sx = _integer_form([x])
    prod = tr.int_matrix(j, rows) * flint.fmpz_mat(len(x), 1, zx[0])
    vals = [abs(int(v)) for v in prod.entries()]
    top = max(vals, default=0) if norm == "inf" else sum(vals)
    return tr.integer_weight(j)[1] * sx * top / size


def check_constant(tr: Trace, j: int, rows: list[int], norm: str, ev: dict[str, Any], c: Fraction, proven: Fraction,
                   where: str) -> None:
    """A layer claiming ``"constant": "exact"``: ``c`` must also be attained — by the checker's own
    enumeration (``kernel_rays``) or a primal witness ``x`` with ``||W_J x|| / ||x|| = c``."""
    if ev.get("method") == "kernel_rays":
        if c != proven:
            raise CertificateError(f"{where}: c_lower = {c} is claimed exact but the kernel rays give {proven}")
        return
    if "x" not in ev:
        raise CertificateError(f"{where}: constant 'exact' needs a primal witness x in c_evidence")
    value = witness_value(tr, j, rows, norm, parse_vector(ev["x"], tr.net.widths[j], f"{where}.x"))
    if value != c:
        raise CertificateError(f"{where}: c_lower = {c} is claimed exact but the witness x gives {value}")


def aberdam_bound(tr: Trace, eps: Fraction, ell: Fraction | None, phi: Fraction | None) -> dict[str, Any]:
    """Per mid layer ``j = 1..L-1``: ``s_j``, exact ``mu(W_j^{S_{j+1}})^2`` and ``9 s^2 mu^2 < 1``; and an
    exact rational upper bound on bound (7) (``None`` when a hypothesis fails)."""
    sq = sqrt_bounds
    ok = ell is not None and phi is not None and phi > 0 and sq(phi)[0] > 0
    bound = eps * ell / sq(phi)[0] if ok else None  # type: ignore[operator]
    factor = 3 + sq(Fraction(3, 2))[1]
    layers = []
    for j in range(1, tr.net.depth):
        s = sum(1 for v in tr.inputs[j] if v != 0)
        a = tr.weight(j, tr.observed_rows(j))
        g = _rows_of(a.transpose() * a)
        n = len(g)
        if min(g[q][q] for q in range(n)) == 0:
            mu2 = Fraction(1)
        else:
            mu2 = max((g[p][q] ** 2 / (g[p][p] * g[q][q]) for p in range(n) for q in range(p + 1, n)),
                      default=Fraction(0))
        holds = 9 * s * s * mu2 < 1 and min(g[q][q] for q in range(n)) > 0
        layers.append({"layer": j, "s": s, "mu_squared": mu2, "holds": holds})
        if holds and bound is not None:
            bound *= factor * sq(Fraction(s))[1] / sq(min(g[q][q] for q in range(n)))[0]
        else:
            bound = None
    return {"layers": layers, "bound": bound}


def oracle_bounds(tr: Trace, sigma: Fraction, lo: list[Fraction], hi: list[Fraction]) -> list[dict[str, Any]]:
    """Theorem 3 of Appendix B from enclosures ``lo[j] <= lambda_min``, ``lambda_max <= hi[j]``."""
    sizes = [tr.net.latent_dim] + [len(tr.support(j - 1)) for j in range(1, tr.net.depth)]
    out = []
    for i in range(tr.net.depth):
        name = "z" if i == 0 else f"x_{i}"
        out.append({"of": name, "lower": sigma ** 2 * sizes[i] / math.prod(hi[i:]),
                    "upper": sigma ** 2 * sizes[i] / math.prod(lo[i:])})
    return out


# --------------------------------------------------------------------------------------------


def _lei(claim: dict[str, Any], tr: Trace, norm: str) -> ClaimCheck:
    kind = claim["kind"]
    ev = need(claim, "evidence", dict, kind)
    eps = parse_rational(need(ev, "noise", (str, int), kind), f"{kind}.noise")
    layers = need(ev, "layers", list, kind)
    if eps <= 0 or [need(e, "layer", int, kind) for e in layers] != list(reversed(range(tr.net.depth))):
        raise CertificateError(f"{kind}: need a positive noise and one entry per layer, last layer first")
    e_out = eps
    for e in layers:
        j, at = e["layer"], f"{kind} layer {e['layer']}"
        if parse_rational(e.get("noise_out"), f"{at}.noise_out") != e_out:
            raise CertificateError(f"{at}: noise_out does not match the chain")
        ell = lipschitz(tr, j, e_out)
        if ell is None or parse_rational(e.get("lipschitz"), f"{at}.lipschitz") != ell:
            raise CertificateError(f"{at}: inverse Lipschitz constant does not match {ell}")
        c = parse_rational(e.get("c_lower"), f"{at}.c_lower")
        rows, cev = lei_rows(tr, j, 2 * e_out), need(e, "c_evidence", dict, at)
        proven = c_bound(tr, j, rows, norm, cev, at)
        if not 0 < c <= proven:
            raise CertificateError(f"{at}: c_lower = {c} is not proven by its evidence (it proves {proven})")
        constant = e.get("constant", "lower_bound")  # certificates before issue 16 state a lower bound
        if constant not in CONSTANTS:
            raise CertificateError(f"{at}: constant must be one of {', '.join(CONSTANTS)}; got {constant!r}")
        if constant == "exact":
            check_constant(tr, j, rows, norm, cev, c, proven, at)
        e_out = 2 * ell * e_out / c
        if parse_rational(e.get("noise_in"), f"{at}.noise_in") != e_out:
            raise CertificateError(f"{at}: noise_in does not equal 2 l eps / c")
    if parse_rational(ev.get("bound"), f"{kind}.bound") != e_out:
        raise CertificateError(f"{kind}: bound does not equal the end of the chain {e_out}")
    return ClaimCheck(kind, Outcome.VERIFIED, f"||z - z*||_{norm} <= {e_out} re-derived")


@exact_verifier("lei_linf", refutable=False)
def _lei_linf(claim: dict[str, Any], tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    return _lei(claim, tr, "inf")


@exact_verifier("lei_l1", refutable=False)
def _lei_l1(claim: dict[str, Any], tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    return _lei(claim, tr, "1")


def _gram(tr: Trace, j: int, rows: list[int], cols: list[int] | None) -> tuple[flint.fmpz_mat, Fraction]:
    """``(Z^T Z, s)`` with ``A^T A = s Z^T Z`` for ``A = W_j[rows, cols]`` (integer form)."""
    g = tr.gram(j, rows, cols).ints()
    k = g.shape[0]
    return flint.fmpz_mat(k, k, g.ravel().tolist()) if k else flint.fmpz_mat(0, 0), tr.int_layer(j).scale ** 2


def _gram_array(tr: Trace, j: int, rows: list[int], cols: list[int] | None) -> tuple[IntProduct, Fraction]:
    """:func:`_gram` in the checker's own form (:class:`~theorychk.check.intmat.IntProduct`, no flint round trip)."""
    return tr.gram(j, rows, cols), tr.int_layer(j).scale ** 2


def _shift_pd(g: flint.fmpz_mat | np.ndarray | IntProduct, s: Fraction, t: Fraction, sign: int) -> bool:
    """Exactly: is ``sign * (s g - t I)`` positive definite? (Scaled by ``den(t / s) > 0`` to integers.)

    ``q = t / s`` is dyadic when ``t`` is (a float's value) and ``s`` a power of two: then
    ``g * den(q) - num(q) I`` is ``g``'s parts shifted, tested without building every Python integer
    (:func:`~theorychk.check.rationals.positive_definite_sum`)."""
    q = t / s
    if isinstance(g, IntProduct):
        a = q.denominator.bit_length() - 1
        if q.denominator == 1 << a:
            return positive_definite_sum(IntProduct(g.shape, {shift + a: p for shift, p in g.parts.items()}),
                                         -q.numerator, sign)
        g = g.ints()
    if isinstance(g, np.ndarray):  # an object array of ints
        m = g * q.denominator
        m[np.diag_indices(g.shape[0])] -= q.numerator
        return is_positive_definite(m if sign > 0 else -m)
    k = g.nrows()
    eye = flint.fmpz_mat(k, k, [q.numerator if a == b else 0 for a in range(k) for b in range(k)])
    m = g * q.denominator - eye
    return is_positive_definite(m if sign > 0 else -m)


def _eig_ok(g: flint.fmpz_mat | np.ndarray | IntProduct, s: Fraction, lo: Fraction, hi: Fraction) -> bool:
    """``lo I <= s g <= hi I`` with ``lo > 0``, both sides strict (positive definite differences)."""
    return lo > 0 and _shift_pd(g, s, lo, 1) and _shift_pd(g, s, hi, -1)


@exact_verifier("aberdam_thm2", refutable=False)
def _aberdam_thm2(claim: dict[str, Any], tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    ev = need(claim, "evidence", dict, "aberdam_thm2")
    eps = parse_rational(need(ev, "noise", (str, int), "aberdam_thm2"), "aberdam_thm2.noise")
    ell = lipschitz(tr, tr.net.depth - 1, eps)
    if tr.relu(tr.net.depth - 1) or any(not tr.relu(j) for j in range(tr.net.depth - 1)) or ell is None:
        raise CertificateError("aberdam_thm2: the network is outside the theorem's model")
    if eps <= 0 or ev.get("conditional_on") != THM2_CONDITION:
        raise CertificateError(f"aberdam_thm2: needs a positive noise and conditional_on = {THM2_CONDITION!r} "
                               "(the bound holds only under that condition)")
    if parse_rational(ev.get("lipschitz"), "aberdam_thm2.lipschitz") != ell:
        raise CertificateError(f"aberdam_thm2: inverse Lipschitz constant does not match {ell}")
    phi = parse_rational(ev.get("phi_lower"), "aberdam_thm2.phi_lower")
    g, s = _gram_array(tr, 0, tr.observed_rows(0), None)
    if not (phi > 0 and _shift_pd(g, s, phi, 1)):
        raise CertificateError("aberdam_thm2: phi_lower is not a verified lower bound on lambda_min")
    res = aberdam_bound(tr, eps, ell, phi)
    if res["bound"] is None or parse_rational(ev.get("bound"), "aberdam_thm2.bound") != res["bound"]:
        raise CertificateError("aberdam_thm2: a coherence hypothesis fails or the bound does not match")
    return ClaimCheck("aberdam_thm2", Outcome.VERIFIED, "hypotheses and bound (7) re-derived on the supports")


@exact_verifier("aberdam_oracle", refutable=False)
def _aberdam_oracle(claim: dict[str, Any], tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    ev = need(claim, "evidence", dict, "aberdam_oracle")
    sigma = parse_rational(need(ev, "sigma", (str, int), "aberdam_oracle"), "aberdam_oracle.sigma")
    if sigma <= 0:
        raise CertificateError("aberdam_oracle: sigma must be positive")
    eig = need(ev, "eigenvalues", list, "aberdam_oracle")
    model_ok = tr.specs[-1] in ("identity", "relu") and all(tr.relu(j) for j in range(tr.net.depth - 1))
    if [e.get("layer") for e in eig] != list(range(tr.net.depth)) or not model_ok:
        raise CertificateError("aberdam_oracle: need one eigenvalue entry per layer 0..L-1 and the "
                               "theorem's model")
    lo = [parse_rational(e.get("lambda_min_lower"), f"aberdam_oracle layer {j}") for j, e in enumerate(eig)]
    hi = [parse_rational(e.get("lambda_max_upper"), f"aberdam_oracle layer {j}") for j, e in enumerate(eig)]
    for j in range(tr.net.depth):
        rows, cols = tr.observed_rows(j), tr.support(j - 1) if j else None
        n_cols = len(cols) if cols is not None else tr.net.widths[j]
        if len(rows) < n_cols or n_cols == 0 or not _eig_ok(*_gram_array(tr, j, rows, cols), lo[j], hi[j]):
            raise CertificateError(f"aberdam_oracle layer {j}: eigenvalue enclosure not verified")
    want = oracle_bounds(tr, sigma, lo, hi)
    got = need(ev, "bounds", list, "aberdam_oracle")
    if len(got) != len(want) or any(
            g.get("of") != w["of"] or parse_rational(g.get("lower"), "lower") != w["lower"]
            or parse_rational(g.get("upper"), "upper") != w["upper"] for g, w in zip(got, want)):
        raise CertificateError("aberdam_oracle: the bounds do not match the recomputed ones")
    return ClaimCheck("aberdam_oracle", Outcome.VERIFIED, "eigenvalue enclosures and Oracle bounds re-derived")
