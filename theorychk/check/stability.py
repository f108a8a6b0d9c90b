"""Verifiers of the stability claims: ``lei_linf``, ``lei_l1``, ``aberdam_thm2``, ``aberdam_oracle``.

The checker recomputes every guaranteed error from the exact trace and the few numbers it cannot
derive cheaply, each re-verified: lower bounds on ``c_inf`` / ``c_1`` (LP dual vectors per facet,
an approximate left inverse ``L`` with ``c >= (1 - ||I - L A||) / ||L||``, or the exact minimum
over kernel rays when at most :data:`KERNEL_CAP`), and eigenvalue enclosures (exact LDLᵀ of
``G - lo I`` and ``hi I - G``). The recomputed bound must equal the certificate's. Statements:
:mod:`theorychk.certify.stability`.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

from theorychk import exact
from theorychk.check import ClaimCheck, Outcome
from theorychk.check.activations import inverse_lipschitz_bound
from theorychk.check.core import Trace
from theorychk.check.rationals import (
    is_positive_definite, need, parse_rational, parse_sparse, parse_vector,
    sqrt_bounds,
)
from theorychk.check.signal import exact_verifier
from theorychk.errors import CertificateError

__all__ = ["KERNEL_CAP", "THM2_CONDITION", "lei_rows", "lipschitz", "c_bound", "aberdam_bound", "oracle_bounds"]

#: Most (k-1)-row subsets the checker enumerates to recompute c_1 exactly.
KERNEL_CAP = 5000
#: The condition bound (7) is proven under (Theorem 2 of paper 004, corrected): a CERTIFIED
#: ``aberdam_thm2`` claim must state it verbatim.
THM2_CONDITION = "exact support recovery S_hat_i = S_i at every layer"


def lei_rows(tr: Trace, j: int, threshold: Fraction) -> list[int]:
    """Rows whose clean output exceeds ``threshold`` after a ReLU; all rows after an invertible activation."""
    if tr.relu(j):
        return [r for r, v in enumerate(tr.outputs[j]) if v > threshold]
    return list(range(len(tr.pre[j])))


def lipschitz(tr: Trace, j: int, eps: Fraction) -> Fraction | None:
    """Lipschitz constant of layer ``j``'s inverse activation around its output (1 on ReLU rows)."""
    if tr.relu(j):
        return Fraction(1)
    vals = [inverse_lipschitz_bound(tr.specs[j], u, eps) for u in tr.pre[j]]
    return None if any(v is None for v in vals) else max(vals)  # type: ignore[type-var]


def _rows_of(m: Any) -> list[list[Fraction]]:
    return [[exact.rational(m[i, j]) for j in range(m.ncols())] for i in range(m.nrows())]


def c_bound(tr: Trace, j: int, rows: list[int], norm: str, ev: dict[str, Any], where: str) -> Fraction:
    """The lower bound on ``c_norm(W_j^rows)`` that ``ev`` proves (re-derived exactly)."""
    method = need(ev, "method", str, where)
    k = tr.net.widths[j]
    a = tr.weight(j, rows)
    if method == "lp_duals" and norm == "inf":
        certs = need(ev, "certificates", list, where)
        if sorted(c.get("facet") for c in certs) != list(range(k)):
            raise CertificateError(f"{where}: need one dual vector per facet 0..{k - 1}")
        ys = [parse_sparse(need(c, "y", dict, where), len(tr.pre[j]), f"{where}.y") for c in certs]
        if any(not set(y) <= set(rows) for y in ys):
            raise CertificateError(f"{where}: a dual vector uses a row outside J")
        g = a.transpose() * exact.to_fmpq_mat([[y.get(r, Fraction(0)) for y in ys] for r in rows])
        best = None
        for q, (c, y) in enumerate(zip(certs, ys)):
            col = [abs(exact.rational(g[l, q])) for l in range(k)]
            ny = sum(map(abs, y.values()))
            val = max(Fraction(0), 2 * col[c["facet"]] - sum(col)) / ny if ny else Fraction(0)
            best = val if best is None else min(best, val)
        return best or Fraction(0)
    if method == "approx_left_inverse":
        lq = [parse_vector(r, len(rows), f"{where}.L") for r in need(ev, "L", list, where)]
        if len(lq) != k:
            raise CertificateError(f"{where}: L must have {k} rows")
        eye = exact.to_fmpq_mat([[int(p == q) for q in range(k)] for p in range(k)])
        e = _rows_of(eye - exact.to_fmpq_mat(lq) * a)
        if norm == "inf":
            n_e, n_l = max(sum(map(abs, r)) for r in e), max(sum(map(abs, r)) for r in lq)
        else:
            n_e = max(sum(abs(r[q]) for r in e) for q in range(k))
            n_l = max(sum(abs(r[q]) for r in lq) for q in range(len(rows)))
        return (1 - n_e) / n_l if n_e < 1 and n_l > 0 else Fraction(0)
    if method == "kernel_rays" and norm == "1":  # c_1 is attained on a ray of ker W_T, |T| = k - 1
        if math.comb(len(rows), k - 1) > KERNEL_CAP or exact.rank(a) < k:
            raise CertificateError(f"{where}: kernel rays beyond the checker's cap, or W_J rank deficient")
        ar = _rows_of(a)
        best = None
        for t in itertools.combinations(range(len(rows)), k - 1):
            ker = exact.nullspace([ar[i] for i in t] or [[Fraction(0)] * k])
            if len(ker) == 1:
                x = ker[0]
                val = sum(abs(sum(p * q for p, q in zip(r, x))) for r in ar) / sum(map(abs, x))
                best = val if best is None else min(best, val)
        return best or Fraction(0)
    raise CertificateError(f"{where}: unsupported evidence {method!r} for c_{norm}")


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
        if not 0 < c <= c_bound(tr, j, lei_rows(tr, j, 2 * e_out), norm, need(e, "c_evidence", dict, at), at):
            raise CertificateError(f"{at}: c_lower = {c} is not proven by its evidence")
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


def _eig_ok(g: list[list[Fraction]], lo: Fraction, hi: Fraction) -> bool:
    k = len(g)
    low = [[g[i][j] - lo * (i == j) for j in range(k)] for i in range(k)]
    high = [[hi * (i == j) - g[i][j] for j in range(k)] for i in range(k)]
    return lo > 0 and is_positive_definite(low) and is_positive_definite(high)


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
    a = tr.weight(0, tr.observed_rows(0))
    g = _rows_of(a.transpose() * a)
    shifted = [[g[i][j] - phi * (i == j) for j in range(len(g))] for i in range(len(g))]
    if not (phi > 0 and is_positive_definite(shifted)):
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
        a = tr.weight(j, tr.observed_rows(j), tr.support(j - 1) if j else None)
        if a.nrows() < a.ncols() or a.ncols() == 0 or not _eig_ok(_rows_of(a.transpose() * a), lo[j], hi[j]):
            raise CertificateError(f"aberdam_oracle layer {j}: eigenvalue enclosure not verified")
    want = oracle_bounds(tr, sigma, lo, hi)
    got = need(ev, "bounds", list, "aberdam_oracle")
    if len(got) != len(want) or any(
            g.get("of") != w["of"] or parse_rational(g.get("lower"), "lower") != w["lower"]
            or parse_rational(g.get("upper"), "upper") != w["upper"] for g, w in zip(got, want)):
        raise CertificateError("aberdam_oracle: the bounds do not match the recomputed ones")
    return ClaimCheck("aberdam_oracle", Outcome.VERIFIED, "eigenvalue enclosures and Oracle bounds re-derived")
