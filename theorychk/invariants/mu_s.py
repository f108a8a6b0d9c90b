r"""mu_s(W): the largest mutual coherence of a row-restricted matrix (Definition 3 of Aberdam et al.).

Definition (paper 004, eq. (2) and Definition 3). For a matrix ``A`` with columns ``a_j``,
``mu(A) = max_{i != j} |a_i . a_j| / (||a_i||_2 ||a_j||_2)``, and for ``W in R^{n x k}`` and
``1 <= s <= n``::

    mu_s(W) = max over row sets S with |S| = s of mu(W^S)

where ``W^S`` keeps the rows in ``S`` (all ``k`` columns). Theorem 2 (Layered Basis-Pursuit
stability) and Corollary 2 of [1] assume ``s_i < 1 / (3 mu_{s_{i+1}}(W_i))``: the support of the
next layer is unknown, so the coherence of *every* ``s``-row restriction must be small.

Conventions (the paper does not say):

* A column of ``W^S`` that is zero has no direction; basis pursuit's analysis (Lemma 2 of [1])
  needs unit-norm columns and the error bound (7) divides by the smallest column norm. We use
  the conservative value: **a zero column in** ``W^S`` **makes** ``mu(W^S) = 1`` (then
  ``s < 1/(3 mu)`` never holds, so no theorem is certified on such a layer). It happens iff
  some column of ``W`` has at least ``s`` zero entries, and is reported as such.
* With ``k = 1`` there is no pair of columns: ``mu = 0`` (the maximum over the empty set), unless
  the zero-column rule applies. ``W`` with no columns is an error.

Values. ``mu(W^S)^2 = (a_S . b_S)^2 / (||a_S||^2 ||b_S||^2)`` is rational, so ``mu_s^2`` is an exact
rational; ``mu_s`` itself is usually irrational. Results therefore carry ``value_squared`` (exact,
in the evidence of both bounds) and a rational bracket ``lower <= mu_s <= upper`` proven in exact
arithmetic through squares (``lower^2 <= mu_s^2 <= upper^2``) of width at most
``2**-precision_bits``; when ``mu_s^2`` is a rational square the bracket closes. Status
CERTIFIED means ``mu_s^2`` is proven (the bracket is then only a rendering of its square root).

Method. Per column pair ``(a, b)`` and sign ``sigma``, maximise ``sigma N(S) / sqrt(A(S) B(S))``
with ``N = sum_S a_i b_i``, ``A = sum_S a_i^2``, ``B = sum_S b_i^2``. The scale of ``W`` cancels, so
all exact work uses the integer matrix ``Z`` (``W = scale * Z``).

* **Pairwise top-s / bottom-s bound** (rigorous, any size): for every ``S``,
  ``sigma N(S) <= sum of the s largest sigma a_i b_i`` and ``A(S) >= sum of the s smallest a_i^2``
  (same for ``B``), so ``mu_s^2 <= max_pairs min(1, top_s^2 / (bot_s(a^2) bot_s(b^2)))``
  (Cauchy-Schwarz gives the cap 1). Computed in float64 with an a-priori rounding-error margin
  (products and sums of ``s`` terms, ``(s + 8) u``-sized factors) and then held as a rational.
* **Lower bound**: a Dinkelbach-type ascent per pair proposes ``S`` (from ``S``, with
  ``lambda = f(S)`` and ``tau = sqrt(B/A)``, the ``s`` largest weights
  ``sigma a_i b_i - lambda (tau a_i^2 + b_i^2 / tau) / 2`` form ``S'`` with ``f(S') >= f(S)``, by
  AM-GM); the attaining set and pair are evaluated exactly.
* **Exact**: branch and bound over the rows of each pair whose top-s bound still exceeds the
  best value, in exact integer arithmetic, rows ordered by ``sigma a_i b_i`` so that the top-s
  bound of a node is a prefix sum, the bottom-s bounds of the ``a_i^2`` / ``b_i^2`` suffixes
  tabulated. Exhaustive (``C(n, s)`` leaves at worst) — bounded by ``max_nodes`` and
  ``time_limit``, beyond which the result is UNKNOWN with the bounds above.

References
----------
.. [1] T. Aberdam, D. Simon, M. Elad, "When and How Can Deep Generative Models be Inverted?"
   (``shared/papers/004_*``), eq. (2), Definition 3, Theorem 2, Corollary 2.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput, Reason, unknown_name
from theorychk.invariants._matrix import as_matrix, check_count
from theorychk.invariants._rays import IntMatrix
from theorychk.invariants.coherence import sqrt_bounds
from theorychk.invariants.result import Bound, InvariantResult
from theorychk.runtime import Deadline, progress as progress_bar
from theorychk.verdict import Status

__all__ = ["coherence_s"]

DEFAULT_MAX_NODES = 2_000_000
_MAX_SEARCH_ROWS = 400
_U = 2.0**-53
#: Safety factor on the a-priori rounding bound of the float pairwise bound (recorded).
PAIR_BOUND_FACTOR = 4.0


# --------------------------------------------------------------------------- bounds (floats)


def _pair_bounds(zf: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rigorous float upper bounds on max_S cos^2 for every pair (a < b): arrays a, b, bound^2."""
    n, k = zf.shape
    sq = zf * zf
    bot = np.sort(sq, axis=0)[:s].sum(axis=0) * (1 - PAIR_BOUND_FACTOR * (s + 8) * _U)  # lower bounds
    ia, ib, ub = [], [], []
    for a in range(k - 1):
        prod = zf[:, a : a + 1] * zf[:, a + 1 :]  # (n, k-a-1)
        srt = np.sort(prod, axis=0)
        top_pos = srt[-s:].sum(axis=0)
        top_neg = -srt[:s].sum(axis=0)
        top = np.maximum(np.maximum(top_pos, top_neg), 0.0)
        slack = PAIR_BOUND_FACTOR * (s + 4) * s * _U * np.abs(prod).max(axis=0)
        top = top + slack
        den = bot[a] * bot[a + 1 :]
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(den > 0, top * top / den * (1 + 8 * _U), np.inf)
        ia.extend([a] * (k - a - 1))
        ib.extend(range(a + 1, k))
        ub.append(np.minimum(bound, 1.0))
    bounds = np.concatenate(ub) if ub else np.zeros(0)
    return np.array(ia, dtype=np.intp), np.array(ib, dtype=np.intp), bounds


def _ascent(p: np.ndarray, al: np.ndarray, be: np.ndarray, s: int) -> np.ndarray:
    """Float Dinkelbach-type ascent (module docstring) from a few starts; the best row set."""
    best_set, best = None, -math.inf

    def f(idx: np.ndarray) -> float:
        den = math.sqrt(al[idx].sum() * be[idx].sum())
        return p[idx].sum() / den if den > 0 else -1.0

    starts = [p, p / np.sqrt(np.maximum(al * be, 1e-300))]
    for lam0 in (0.25, 0.5, 1.0):
        starts.append(p - lam0 * (al + be) / 2 * (np.abs(p).sum() / max((al + be).sum(), 1e-300)))
    for w in starts:
        idx = np.argpartition(-w, s - 1)[:s]
        val = f(idx)
        for _ in range(50):
            a_s, b_s = al[idx].sum(), be[idx].sum()
            if a_s <= 0 or b_s <= 0:
                break
            tau = math.sqrt(b_s / a_s)
            c = p - val * (tau * al + be / tau) / 2
            nxt = np.argpartition(-c, s - 1)[:s]
            nval = f(nxt)
            if nval <= val * (1 + 1e-15):
                break
            idx, val = nxt, nval
        if val > best:
            best, best_set = val, idx
    assert best_set is not None
    return np.sort(best_set)


# --------------------------------------------------------------------------- exact search


def _cos2(col_a: list[int], col_b: list[int], rows: list[int]) -> Fraction:
    n_ab = sum(col_a[i] * col_b[i] for i in rows)
    n_aa = sum(col_a[i] * col_a[i] for i in rows)
    n_bb = sum(col_b[i] * col_b[i] for i in rows)
    return Fraction(n_ab * n_ab, n_aa * n_bb)


class _Budget(Exception):
    pass


def _search_pair(col_a: list[int], col_b: list[int], s: int, best: list, deadline: Deadline, nodes: list[int],
                 max_nodes: int, pair: tuple[int, int]) -> None:
    """Exact branch and bound for one pair; updates ``best = [cos2, rows, pair]`` in place."""
    n = len(col_a)
    for sigma in (1, -1):
        order = sorted(range(n), key=lambda i: -sigma * col_a[i] * col_b[i])
        p = [sigma * col_a[i] * col_b[i] for i in order]
        al = [col_a[i] * col_a[i] for i in order]
        be = [col_b[i] * col_b[i] for i in order]
        prefix = [0]
        for v in p:
            prefix.append(prefix[-1] + v)
        # bot[i][r]: sum of the r smallest of al[i:], r <= s (same for be)
        bot_a = [[0] * (s + 1) for _ in range(n + 1)]
        bot_b = [[0] * (s + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            sa, sb = sorted(al[i:]), sorted(be[i:])
            acc_a = acc_b = 0
            for r in range(1, min(s, n - i) + 1):
                acc_a += sa[r - 1]
                acc_b += sb[r - 1]
                bot_a[i][r], bot_b[i][r] = acc_a, acc_b
        chosen: list[int] = []

        def dfs(i: int, c: int, num: int, sa: int, sb: int) -> None:
            nodes[0] += 1
            if nodes[0] > max_nodes:
                raise _Budget(Reason.SIZE_LIMIT)
            if nodes[0] % 4096 == 0 and deadline.expired():
                raise _Budget(Reason.TIME_LIMIT)
            r = s - c
            if r == 0:
                if num > 0:
                    val = Fraction(num * num, sa * sb)
                    if val > best[0]:
                        best[0], best[1], best[2] = val, sorted(order[j] for j in chosen), pair
                return
            if n - i < r:
                return
            ub = num + prefix[i + r] - prefix[i]
            if ub <= 0:
                return
            d1, d2 = sa + bot_a[i][r], sb + bot_b[i][r]
            cur = best[0]
            if d1 * d2 > 0 and ub * ub * cur.denominator <= cur.numerator * d1 * d2:
                return
            if cur >= 1:
                return
            chosen.append(i)
            dfs(i + 1, c + 1, num + p[i], sa + al[i], sb + be[i])
            chosen.pop()
            if n - i - 1 >= r:
                dfs(i + 1, c, num, sa, sb)

        dfs(0, 0, 0, 0, 0)


# --------------------------------------------------------------------------- public API


def coherence_s(
    W: Any,
    s: int,
    *,
    time_limit: float | None = None,
    method: str = "auto",
    max_nodes: int = DEFAULT_MAX_NODES,
    precision_bits: int = 64,
    heuristic_pairs: int = 64,
    progress: bool = False,
) -> InvariantResult:
    """``mu_s(W) = max_{|S| = s} mu(W^S)`` (Definition 3 of [1]), exact or certifiably bracketed.

    ``method="auto"`` runs the exact branch and bound (within ``max_nodes`` and ``time_limit``);
    ``method="bounds"`` stops after the rigorous pairwise bound and the ascent's lower bound.
    See the module docstring for the definition, the zero-column convention and the evidence.

    Returns an :class:`InvariantResult` whose bounds bracket ``mu_s`` (``value_squared`` in both
    bounds' evidence is ``mu_s^2`` exactly when the status is CERTIFIED). ``binding`` says which
    upper bound is binding: ``"exact"``, ``"pairwise top-s/bottom-s"`` or ``"Cauchy-Schwarz"``.

    Examples
    --------
    >>> r = coherence_s([[1, 0], [1, 1], [0, 1]], 2)
    >>> r.status.value, r.lower.evidence["value_squared"], r.lower.evidence["rows"]
    ('CERTIFIED', Fraction(1, 2), [0, 1])
    >>> float(r.lower.value) <= 2 ** -0.5 <= float(r.upper.value), r.value  # irrational: a bracket
    (True, None)
    >>> coherence_s([[3, 4], [4, 3]], 2).value  # cos = 24/25: a rational square closes the bracket
    Fraction(24, 25)
    >>> coherence_s([[1, 2], [3, 1], [1, 1]], 3).upper.evidence["value_squared"]  # all rows: mu(W)^2
    Fraction(6, 11)
    """
    arr = as_matrix(W, "W")
    n, k = arr.shape
    if k == 0:
        raise InvalidInput(f"W must have at least one column; got shape {arr.shape}",
                           argument="W", got=arr.shape)
    s = check_count(s, "s", low=1, high=n)
    if method not in ("auto", "bounds"):
        raise unknown_name("method", method, ("auto", "bounds"))
    if not (isinstance(precision_bits, int) and 1 <= precision_bits <= 4096):
        raise InvalidInput(f"precision_bits must be an integer in 1..4096; got {precision_bits!r}",
                           argument="precision_bits", got=precision_bits)
    deadline = Deadline(time_limit)
    im = IntMatrix.of(arr)
    cols = [[int(v) for v in im.obj[:, j]] for j in range(k)]
    params = {"s": s, "method": method, "max_nodes": max_nodes, "precision_bits": precision_bits}
    tolerances = {"pair_bound_factor": PAIR_BOUND_FACTOR}

    def result(low_q: Fraction, low_ev: dict, up_q: Fraction, up_method: str, up_ev: dict, status: Status,
               reason: str, low_method: str) -> InvariantResult:
        lo, _ = sqrt_bounds(low_q, precision_bits)
        _, hi = sqrt_bounds(up_q, precision_bits)
        lower = Bound(lo, low_method, {**low_ev, "value_squared": low_q})
        upper = Bound(hi, up_method, {**up_ev, "value_squared": up_q})
        return InvariantResult("mu_s", params, lower, upper, status, reason, tolerances, deadline.elapsed(),
                               (n, k))

    # Zero column in some W^S: mu_s = 1 by convention, exactly.
    for j, col in enumerate(cols):
        zeros = [i for i, v in enumerate(col) if v == 0]
        if len(zeros) >= s:
            ev = {"rows": zeros[:s], "columns": [j], "zero_column": True,
                  "convention": "a zero column in W^S makes mu(W^S) = 1"}
            name = "zero column (convention)"
            return result(Fraction(1), ev, Fraction(1), name, {**ev, "binding": "exact"}, Status.CERTIFIED, "",
                          name)
    if k == 1:
        ev = {"rows": list(range(s)), "columns": [0], "note": "one column: no pairs, mu = 0"}
        return result(Fraction(0), ev, Fraction(0), "no column pairs", {**ev, "binding": "exact"},
                      Status.CERTIFIED, "", "no column pairs")

    # Rigorous float pairwise bounds, held as rationals.
    if np.isfinite(im.zf).all():
        ia, ib, ub = _pair_bounds(im.zf, s)
    else:  # astronomically scaled integers: fall back to the trivial bound
        ia, ib = np.triu_indices(k, 1)
        ub = np.ones(len(ia))
    order = np.argsort(-ub, kind="stable")
    # Lower bound: ascent on the most promising pairs, evaluated exactly.
    best: list = [Fraction(-1), [], (0, 1)]
    zf = im.zf if np.isfinite(im.zf).all() else np.sign(im.zf)
    for t in order[: max(1, heuristic_pairs)]:
        a, b = int(ia[t]), int(ib[t])
        for sigma in (1.0, -1.0):
            rows = _ascent(sigma * zf[:, a] * zf[:, b], zf[:, a] ** 2, zf[:, b] ** 2, s).tolist()
            val = _cos2(cols[a], cols[b], rows)
            if val > best[0]:
                best = [val, rows, (a, b)]
    low_method = "attaining row set and column pair (exact cos^2)"

    def low_ev() -> dict:
        return {"rows": best[1], "columns": list(best[2])}

    pair_q = [Fraction(float(v)) for v in ub]  # exact rationals of the float bounds
    top = int(order[0])
    if method == "bounds":
        up_q = pair_q[top]
        binding = "Cauchy-Schwarz" if up_q >= 1 else "pairwise top-s/bottom-s"
        up_ev = {"columns": [int(ia[top]), int(ib[top])], "binding": binding}
        status = Status.CERTIFIED if up_q == best[0] else Status.UNKNOWN
        return result(best[0], low_ev(), min(up_q, Fraction(1)), binding, up_ev, status,
                      "" if status is Status.CERTIFIED else Reason.BOUND_GAP, low_method)
    nodes = [0]
    unresolved: list[int] = []
    # The search recurses once per row; past a few hundred rows C(n, s) is out of reach anyway.
    reason = Reason.SIZE_LIMIT if n > _MAX_SEARCH_ROWS else ""
    with progress_bar("mu_s pairs", total=len(order), quiet=not progress) as bar:
        for pos, t in enumerate(order):
            if pair_q[t] <= best[0]:
                bar.advance(len(order) - pos)
                break  # sorted: no later pair can beat the incumbent
            if reason:
                unresolved.append(int(t))
                continue
            a, b = int(ia[t]), int(ib[t])
            try:
                _search_pair(cols[a], cols[b], s, best, deadline, nodes, max_nodes, (a, b))
            except _Budget as stop:
                reason = str(stop)
                unresolved.append(int(t))
            bar.advance()
    if not unresolved:
        ev = {**low_ev(), "binding": "exact", "nodes": nodes[0]}
        name = "exhaustive branch and bound (exact)"
        return result(best[0], low_ev(), best[0], name, ev, Status.CERTIFIED, "", name)
    worst = max(unresolved, key=lambda t: pair_q[t])
    up_q = max(min(pair_q[worst], Fraction(1)), best[0])
    binding = "Cauchy-Schwarz" if pair_q[worst] >= 1 else "pairwise top-s/bottom-s"
    up_ev = {"columns": [int(ia[worst]), int(ib[worst])], "binding": binding, "nodes": nodes[0],
             "unresolved_pairs": len(unresolved)}
    return result(best[0], low_ev(), up_q, binding, up_ev, Status.UNKNOWN, reason, low_method)
