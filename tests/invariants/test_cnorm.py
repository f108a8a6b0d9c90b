"""c_inf / c_1 (Assumptions 2 and 3 of paper 001, corrected) against independent exact oracles.

The oracles below use only Python ``Fraction`` arithmetic and brute force:

* l_inf, fixed rows: every vertex of every facet LP ``LP_j`` (all square subsystems of the
  constraints ``x_j = 1``, ``x_l = +-1``, ``w_i.x = +-t``), feasibility checked exactly; the LP
  optimum is at a vertex because the feasible set is a pointed polyhedron and ``t`` is bounded below.
* l_1, fixed rows: every kernel ray of ``k - 1`` rows (the minimiser is one when ``rank W_I = k``);
  plus the sign-pattern LPs of the implementation as a second, different exact method.
* global: the minimum of the fixed-row oracle over all row sets of size ``m``.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.invariants.cnorm import c_1, c_1_of_rows, c_inf, c_inf_of_rows
from theorychk.verdict import Status

# --------------------------------------------------------------------------- exact oracles


def _solve(m: list[list[F]], b: list[F]) -> list[F] | None:
    """Unique solution of a square system, or None if singular (Gauss-Jordan in Fractions)."""
    n = len(m)
    a = [list(row) + [bb] for row, bb in zip(m, b)]
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return None
        a[c], a[p] = a[p], a[c]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c] / a[c][c]
                a[r] = [u - f * v for u, v in zip(a[r], a[c])]
    return [a[i][n] / a[i][i] for i in range(n)]


def _rank(rows: list[list[F]]) -> int:
    a = [list(r) for r in rows]
    if not a:
        return 0
    rk = 0
    for c in range(len(a[0])):
        p = next((r for r in range(rk, len(a)) if a[r][c] != 0), None)
        if p is None:
            continue
        a[rk], a[p] = a[p], a[rk]
        for r in range(len(a)):
            if r != rk and a[r][c] != 0:
                f = a[r][c] / a[rk][c]
                a[r] = [u - f * v for u, v in zip(a[r], a[rk])]
        rk += 1
    return rk


def _dot(u, v) -> F:
    return sum((a * b for a, b in zip(u, v)), F(0))


def oracle_linf_rows(w: list[list[F]]) -> F:
    """min over ||x||_inf = 1 of max_i |w_i.x| by exhaustive exact vertex enumeration."""
    r, k = len(w), len(w[0])
    if r == 0:
        return F(0)
    best = None
    for j in range(k):
        unit = [[F(int(c == l)) for c in range(k)] + [F(0)] for l in range(k)]
        cons = [(unit[l], F(s)) for l in range(k) if l != j for s in (1, -1)]
        cons += [(list(w[i]) + [F(-s)], F(0)) for i in range(r) for s in (1, -1)]
        fixed = ([F(int(c == j)) for c in range(k)] + [F(0)], F(1))
        for sub in itertools.combinations(cons, k):
            system = [fixed, *sub]
            sol = _solve([c[0] for c in system], [c[1] for c in system])
            if sol is None:
                continue
            x, t = sol[:k], sol[k]
            if any(abs(v) > 1 for v in x) or any(abs(_dot(row, x)) > t for row in w):
                continue
            best = t if best is None or t < best else best
    assert best is not None
    return best


def _kernel(rows: list[list[F]], k: int) -> list[F]:
    if k == 1:
        return [F(1)]
    for free in range(k):
        sol = _solve([[row[c] for c in range(k) if c != free] for row in rows], [-row[free] for row in rows])
        if sol is not None:
            return sol[:free] + [F(1)] + sol[free:]
    raise AssertionError("rows of rank k - 1 have a kernel")


def oracle_l1_rows(w: list[list[F]]) -> F:
    r, k = len(w), len(w[0])
    if r == 0 or _rank(w) < k:
        return F(0)
    best = None
    for t in itertools.combinations(range(r), k - 1):
        if _rank([w[i] for i in t]) < k - 1:
            continue
        x = _kernel([w[i] for i in t], k)
        val = sum(abs(_dot(row, x)) for row in w) / sum(abs(v) for v in x)
        best = val if best is None or val < best else best
    assert best is not None
    return best


def oracle_global(w: list[list[F]], m: int, fixed) -> F:
    return min(fixed([w[i] for i in rows]) for rows in itertools.combinations(range(len(w)), m))


def fr(w) -> list[list[F]]:
    return [[F(v) for v in row] for row in np.asarray(w).tolist()]


# --------------------------------------------------------------------------- evidence checkers


def check_upper(w, res, *, norm: str, m: int | None = None, rows=None) -> None:
    """The upper bound's witness re-verified in Fractions: a unit vector of the right norm whose
    exact objective is the reported value."""
    ev = res.upper.evidence
    x = [F(v) for v in ev["x"]]
    wq = fr(w)
    assert (max(abs(v) for v in x) if norm == "inf" else sum(abs(v) for v in x)) == 1
    vals = [abs(_dot(row, x)) for row in wq]
    if rows is not None:
        assert sorted(ev["rows"]) == sorted(rows) or ev.get("rows") == []
        sub = [vals[i] for i in rows]
        value = (max(sub, default=F(0)) if norm == "inf" else sum(sub, F(0)))
    else:
        assert len(ev["rows"]) == m and len(set(ev["rows"])) == m
        sub = sorted(vals)[:m]
        value = sub[-1] if norm == "inf" else sum(sub, F(0))
        picked = [vals[i] for i in ev["rows"]]
        assert (max(picked) if norm == "inf" else sum(picked, F(0))) == value
    assert value == ev["value"] == res.upper.value


def check_linf_duals(w, res, rows) -> None:
    """Each facet's dual certificate recomputed in Fractions; their minimum is the lower bound."""
    if res.lower.value == 0:
        return
    wq = fr(w)
    k = len(wq[0])
    bounds = []
    for cert in res.lower.evidence["certificates"]:
        y = {int(i): F(v) for i, v in cert["y"].items()}
        assert set(y) <= set(rows)
        g = [sum((yv * wq[i][l] for i, yv in y.items()), F(0)) for l in range(k)]
        j = cert["facet"]
        b = (abs(g[j]) - sum(abs(g[l]) for l in range(k) if l != j)) / sum(abs(v) for v in y.values())
        assert max(b, F(0)) == cert["bound"]
        bounds.append(cert["bound"])
    assert sorted(c["facet"] for c in res.lower.evidence["certificates"]) == list(range(k))
    assert min(bounds) == res.lower.value


def check_l1_duals(w, res, rows) -> None:
    """Every sign pattern's dual certificate recomputed in Fractions (weak duality on the orthant)."""
    if res.lower.value == 0:
        return
    wq = fr(w)
    k = len(wq[0])
    certs = res.lower.evidence["certificates"]
    assert sorted(tuple(c["sigma"]) for c in certs) == sorted(
        (1, *rest) for rest in itertools.product((1, -1), repeat=k - 1))
    for cert in certs:
        y = {int(i): F(v) for i, v in cert["y"].items()}
        assert set(y) <= set(rows)
        g = [sum((yv * wq[i][l] for i, yv in y.items()), F(0)) for l in range(k)]
        sig = cert["sigma"]
        best = max(min(s * sl * gl for sl, gl in zip(sig, g)) for s in (1, -1))
        assert max(best, F(0)) / max(abs(v) for v in y.values()) == cert["bound"]
    assert min(c["bound"] for c in certs) == res.lower.value


# --------------------------------------------------------------------------- strategies


@st.composite
def small_matrices(draw, max_n: int = 6, max_k: int = 3, min_n: int = 1):
    """Small integer or dyadic matrices (so that exact brute force is the oracle)."""
    n = draw(st.integers(min_n, max_n))
    k = draw(st.integers(1, max_k))
    entries = draw(st.lists(st.integers(-3, 3), min_size=n * k, max_size=n * k))
    w = np.array(entries, dtype=np.int64).reshape(n, k)
    if draw(st.booleans()):
        return w / 4.0  # dyadic floats: exact in binary
    return w


@st.composite
def matrix_and_rows(draw):
    w = draw(small_matrices())
    n = w.shape[0]
    rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return w, sorted(rows)


@st.composite
def matrix_and_m(draw, max_n: int = 6, max_k: int = 3):
    w = draw(small_matrices(max_n=max_n, max_k=max_k))
    m = draw(st.integers(1, w.shape[0]))
    return w, m


TRAP = np.array([[1, 2], [2, 4], [0, 0], [1, -1], [3, 1]])  # parallel rows, a zero row


# --------------------------------------------------------------------------- fixed rows


@settings(max_examples=60)
@given(matrix_and_rows())
@example((TRAP, [0, 1, 2]))
@example((TRAP, [0, 1, 2, 3, 4]))
@example((np.array([[2], [-1], [0]]), [0, 1, 2]))
def test_c_inf_of_rows_matches_vertex_oracle(case):
    w, rows = case
    res = c_inf_of_rows(w, rows)
    expected = oracle_linf_rows([fr(w)[i] for i in rows])
    assert res.status is Status.CERTIFIED and res.exact and res.value == expected
    check_upper(w, res, norm="inf", rows=rows)
    check_linf_duals(w, res, rows)


@settings(max_examples=60)
@given(matrix_and_rows())
@example((TRAP, [0, 1, 2]))
@example((TRAP, [0, 3, 4]))
def test_c_inf_of_rows_dual_bound_brackets_the_oracle(case):
    w, rows = case
    res = c_inf_of_rows(w, rows, method="dual_bound")
    expected = oracle_linf_rows([fr(w)[i] for i in rows])
    assert 0 <= res.lower.value <= expected <= res.upper.value
    assert res.exact or (res.status is Status.UNKNOWN and res.reason == "lower bound only")
    check_upper(w, res, norm="inf", rows=rows)
    if res.lower.value > 0:  # the integer duals prove exactly the stated bound (oracle formula, Fractions)
        a = [fr(w)[i] for i in rows]
        k = len(a[0])
        proven = []
        for j, y in enumerate(res.lower.evidence["duals"]):
            g = [sum(F(y[i]) * a[i][l] for i in range(len(rows))) for l in range(k)]
            proven.append(max(F(0), 2 * abs(g[j]) - sum(map(abs, g))) / sum(map(abs, y)))
        assert min(proven) == res.lower.value


def test_c_inf_of_rows_dual_bound_is_close_and_short():
    """On a 120 x 30 Gaussian the bound is within 2 % of the exact constant, and the facets far
    above the minimum are stored with fewer bits than the weakest one."""
    w = np.random.default_rng(1).standard_normal((120, 30))
    exact_r = c_inf_of_rows(w, range(120))
    res = c_inf_of_rows(w, range(120), method="dual_bound")
    assert exact_r.exact and exact_r.value * F(98, 100) <= res.lower.value <= exact_r.value
    bits = [max(abs(v) for v in y).bit_length() for y in res.lower.evidence["duals"]]
    assert min(bits) < max(bits) <= 52


def test_c_inf_of_rows_rejects_an_unknown_method():
    with pytest.raises(InvalidInput, match="method"):
        c_inf_of_rows([[1.0]], [0], method="lp")


@settings(max_examples=40)
@given(matrix_and_rows())
@example((TRAP, [0, 1, 3]))
def test_c_1_of_rows_exact_methods_match_kernel_oracle(case):
    w, rows = case
    expected = oracle_l1_rows([fr(w)[i] for i in rows])
    for method in ("kernels", "signs", "auto"):
        res = c_1_of_rows(w, rows, method=method)
        assert res.status is Status.CERTIFIED and res.value == expected, method
        check_upper(w, res, norm="1", rows=rows)
        if res.lower.method.startswith("LP duality"):
            check_l1_duals(w, res, rows)


@settings(max_examples=15)
@given(matrix_and_rows())
def test_c_1_of_rows_bounds_only_route_brackets(case):
    w, rows = case
    expected = oracle_l1_rows([fr(w)[i] for i in rows])
    res = c_1_of_rows(w, rows, method="milp")
    assert res.lower.value <= expected <= res.upper.value
    check_upper(w, res, norm="1", rows=rows)
    if not res.exact:
        assert res.status is Status.UNKNOWN and res.reason


def test_c_1_of_rows_beyond_size_limits_is_unknown_with_valid_bounds():
    rng = np.random.default_rng(3)
    w = rng.integers(-4, 5, size=(12, 7))
    rows = list(range(12))
    exact = c_1_of_rows(w, rows, method="kernels")
    assert exact.status is Status.CERTIFIED
    res = c_1_of_rows(w, rows, max_lps=8, max_candidates=10)
    assert res.status is Status.UNKNOWN and res.reason.startswith("size limit")
    assert 0 < res.lower.value <= exact.value <= res.upper.value
    assert res.lower.method == "exact left inverse"
    lmat = [[F(v) for v in row] for row in res.lower.evidence["left_inverse_Z"]]
    wq = fr(w)
    # L Z = I exactly, with Z = W / scale; the bound is 1 / (largest column sum) in W units.
    scale = F(res.lower.evidence["left_inverse_scale"])
    z = [[v / scale for v in row] for row in wq]
    for a in range(7):
        for b in range(7):
            assert sum((lmat[a][i] * z[i][b] for i in range(12)), F(0)) == int(a == b)
    worst = max(sum(abs(lmat[l][i]) for l in range(7)) for i in range(12))
    assert res.lower.value == scale / worst
    check_upper(w, res, norm="1", rows=rows)


def test_c_inf_of_rows_fast_path_for_twenty_columns():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((200, 20))
    rows = rng.choice(200, size=60, replace=False)
    res = c_inf_of_rows(w, rows)
    assert res.status is Status.CERTIFIED and res.value > 0
    check_upper(w, res, norm="inf", rows=sorted(rows.tolist()))


# --------------------------------------------------------------------------- global


@settings(max_examples=40)
@given(matrix_and_m(max_n=5))
@example((TRAP, 2))
@example((TRAP, 5))
@example((np.array([[1], [0], [-2]]), 2))
def test_c_inf_global_matches_oracle(case):
    w, m = case
    expected = oracle_global(fr(w), m, oracle_linf_rows)
    for method in ("vertices", "row_sets", "auto"):
        res = c_inf(w, m, method=method)
        assert res.status is Status.CERTIFIED and res.value == expected, method
        check_upper(w, res, norm="inf", m=m)
    res = c_inf(w, m, method="milp")
    assert res.lower.value <= expected <= res.upper.value
    check_upper(w, res, norm="inf", m=m)
    if not res.exact:
        assert res.status is Status.UNKNOWN and res.reason == "bound from MILP dual, not exact"
        assert "milp_dual_bound" in res.lower.evidence


@settings(max_examples=40)
@given(matrix_and_m())
@example((TRAP, 3))
def test_c_1_global_matches_oracle(case):
    w, m = case
    expected = oracle_global(fr(w), m, oracle_l1_rows)
    for method in ("kernels", "row_sets", "auto"):
        res = c_1(w, m, method=method)
        assert res.status is Status.CERTIFIED and res.value == expected, method
        check_upper(w, res, norm="1", m=m)
    res = c_1(w, m, method="milp")
    assert res.lower.value <= expected <= res.upper.value
    check_upper(w, res, norm="1", m=m)


@settings(max_examples=40)
@given(matrix_and_m())
def test_positive_iff_every_m_rows_have_full_column_rank(case):
    w, m = case
    k = w.shape[1]
    full = all(_rank([fr(w)[i] for i in rows]) == k for rows in itertools.combinations(range(w.shape[0]), m))
    assert (c_inf(w, m).value > 0) == full
    assert (c_1(w, m).value > 0) == full


@settings(max_examples=25)
@given(matrix_and_m(), st.randoms(use_true_random=False))
def test_invariant_under_row_permutation_column_signs_and_permutation(case, rnd):
    w, m = case
    n, k = w.shape
    rows = list(range(n))
    cols = list(range(k))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    signs = np.array([rnd.choice((-1, 1)) for _ in range(k)])
    moved = (w[rows][:, cols]) * signs
    assert c_inf(moved, m).value == c_inf(w, m).value
    assert c_1(moved, m).value == c_1(w, m).value
    sub = sorted(rnd.sample(range(n), rnd.randint(1, n)))
    inv = {old: new for new, old in enumerate(rows)}
    assert c_inf_of_rows(moved, [inv[i] for i in sub]).value == c_inf_of_rows(w, sub).value


# --------------------------------------------------------------------------- traps and conventions


def test_trap_parallel_rows_zero_row_full_set_and_one_column():
    # Rows 0 and 1 are parallel, row 2 is zero: any 3 rows among {0, 1, 2} lie in a hyperplane.
    assert c_inf(TRAP, 3).value == 0
    assert c_inf_of_rows(TRAP, [0, 1, 2]).value == 0
    assert c_inf_of_rows(TRAP, [0, 1, 2]).upper.evidence["null_vector"]
    assert c_1(TRAP, 3).value == 0
    # m = n: the whole matrix.
    assert c_inf(TRAP, 5).value == c_inf_of_rows(TRAP, range(5)).value > 0
    assert c_1(TRAP, 5).value == c_1_of_rows(TRAP, range(5)).value > 0
    # k = 1: c_inf(W, m) is the m-th smallest |w_i|, c_1 the sum of the m smallest.
    col = np.array([[3], [-1], [0], [2]])
    assert [c_inf(col, m).value for m in range(1, 5)] == [0, 1, 2, 3]
    assert [c_1(col, m).value for m in range(1, 5)] == [0, 1, 3, 6]


def test_zero_column_and_empty_rows():
    w = np.array([[1, 0], [2, 0], [3, 0]])
    res = c_inf(w, 3)
    assert res.value == 0 and res.upper.evidence["x"] == [0, 1]
    assert c_1_of_rows(w, [0, 1]).value == 0
    empty = c_inf_of_rows(w, [])
    assert empty.value == 0 and empty.status is Status.CERTIFIED
    mask = c_inf_of_rows(TRAP, np.array([True, False, False, True, True]))
    assert mask.params["rows"] == [0, 3, 4]


def test_float_weights_are_exact_rationals():
    w = np.array([[0.1, 0.2], [0.3, -0.7], [0.5, 0.5]])
    res = c_inf(w, 2)
    assert res.status is Status.CERTIFIED
    check_upper(w, res, norm="inf", m=2)
    assert res.value == oracle_global(fr(w), 2, oracle_linf_rows)


def test_huge_integers_and_bad_scaling_stay_exact():
    # Entries beyond 2**53 (float64 would round them) next to 1s: HiGHS sees a badly scaled LP.
    w = np.array([[2**60 + 1, 1], [1, 2**60], [3, -(2**61)], [5, 7]], dtype=object)
    wq = fr(w)
    for rows in ([0, 1], [0, 2, 3], [0, 1, 2, 3]):
        res = c_inf_of_rows(w, rows)
        assert res.status is Status.CERTIFIED and res.value == oracle_linf_rows([wq[i] for i in rows])
        check_upper(w, res, norm="inf", rows=rows)
        for method in ("signs", "kernels"):
            res = c_1_of_rows(w, rows, method=method)
            assert res.status is Status.CERTIFIED and res.value == oracle_l1_rows([wq[i] for i in rows])
    for m in (2, 3):
        assert c_inf(w, m).value == oracle_global(wq, m, oracle_linf_rows)
        assert c_1(w, m).value == oracle_global(wq, m, oracle_l1_rows)


def test_results_serialise_to_json():
    for res in (c_inf(TRAP, 2), c_1_of_rows(TRAP, [0, 3, 4]), c_inf_of_rows(TRAP, [3, 4])):
        text = json.dumps(res.to_dict())
        assert res.invariant in text


def test_milp_route_reports_float_dual_bound_but_stays_rigorous():
    rng = np.random.default_rng(1)
    w = rng.integers(-5, 6, size=(9, 3))
    exact = c_inf(w, 6, method="vertices")
    res = c_inf(w, 6, method="milp")
    assert res.lower.value <= exact.value <= res.upper.value
    if not res.exact:
        assert res.status is Status.UNKNOWN and res.reason == "bound from MILP dual, not exact"
        assert res.lower.evidence["milp_dual_bound"] == pytest.approx(float(exact.value), rel=1e-6)
        assert res.upper.value == exact.value  # the proposed row set, computed exactly


# --------------------------------------------------------------------------- limits and bad input


def test_time_limit_gives_unknown_with_bracketing_bounds(fake_clock):
    rng = np.random.default_rng(2)
    w = rng.integers(-9, 10, size=(16, 3))
    exact = c_inf(w, 8)
    assert exact.status is Status.CERTIFIED
    fake_clock.step = 1.0  # a second per look at the clock: a 10 s limit passes after 10 looks
    for method in ("vertices", "row_sets"):
        res = c_inf(w, 8, method=method, time_limit=10.0)
        assert res.status is Status.UNKNOWN and res.reason == "time limit"
        assert res.lower.value <= exact.value <= res.upper.value
        check_upper(w, res, norm="inf", m=8)
    res = c_1(w, 8, method="row_sets", time_limit=10.0)
    assert res.status is Status.UNKNOWN and res.reason == "time limit"
    fake_clock.step = 0.0
    assert res.lower.value <= c_1(w, 8).value <= res.upper.value


def test_time_limit_is_honoured_inside_a_block_of_flint_determinants(fake_clock, monkeypatch):
    # k = 8 columns: each kernel ray is 8 FLINT determinants of 7 x 7 minors, and one block holds
    # dozens of rays. On a DCGAN layer (k = 72, 60-bit entries) one such block ran for minutes
    # with a 60 s limit, because the deadline was polled only between blocks. Here time passes
    # only inside the determinants (one fake second each), so the limit must be seen inside the
    # block: a 10 s limit stops after about 10 determinants, not after a block of hundreds.
    from theorychk.invariants import _rays

    dets = []
    real = _rays._flint_det

    def slow_det(rows):
        dets.append(1)
        fake_clock.now += 1.0
        return real(rows)

    monkeypatch.setattr(_rays, "_flint_det", slow_det)
    w = np.random.default_rng(5).integers(-9, 10, size=(12, 8))
    res = c_1_of_rows(w, list(range(12)), method="kernels", time_limit=10.0)
    assert res.status is Status.UNKNOWN and res.reason == "time limit"
    assert 10 <= len(dets) <= 11
    assert res.lower.value <= res.upper.value


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: c_inf([[1.0, float("nan")], [0, 1]], 1), "finite"),
        (lambda: c_inf([[1, 0], [0, 1]], 0), "m must be between 1 and 2"),
        (lambda: c_inf([[1, 0], [0, 1]], 3), "m must be between 1 and 2"),
        (lambda: c_1([1, 2, 3], 1), "2-D"),
        (lambda: c_inf(np.zeros((3, 0)), 1), "at least one column"),
        (lambda: c_inf([[1, 0]], 1.5), "m must be an integer"),
        (lambda: c_inf([[1, 0]], 1, method="vertex"), "did you mean 'vertices'"),
        (lambda: c_inf_of_rows([[1, 0], [0, 1]], [0, 2]), "indices in 0..1"),
        (lambda: c_inf_of_rows([[1, 0], [0, 1]], [0, 0]), "must not repeat"),
        (lambda: c_1_of_rows([[1, 0], [0, 1]], [True, False, True]), "boolean mask"),
        (lambda: c_inf([[1, 0]], 1, time_limit=0), "time_limit"),
    ],
)
def test_bad_input_is_pinned(call, message):
    with pytest.raises(InvalidInput, match=message):
        call()


@pytest.mark.slow
@settings(max_examples=200)
@given(matrix_and_m(max_n=6))
def test_c_inf_global_matches_oracle_many(case):
    w, m = case
    expected = oracle_global(fr(w), m, oracle_linf_rows)
    assert c_inf(w, m).value == expected
    assert c_1(w, m).value == oracle_global(fr(w), m, oracle_l1_rows)


# c_1 of the two zoo layers below, computed once without a time limit (CERTIFIED; vae-leaky takes
# ~75 s by "kernels", aberdam ~4 s) and pinned here so that the time-limited runs can be checked
# against it cheaply.
_ZOO_C1 = {
    ("vae-leaky", 0, 16): F(
        9573569336620520457154207955405556826500745367057,
        647140580295585755744283400669896422960149781544960,
    ),
    ("aberdam", 2, 32): F(0),
}


@pytest.mark.parametrize("func", [c_1, c_inf])
@pytest.mark.parametrize(("net", "layer", "m"), [("vae-leaky", 0, 16), ("aberdam", 2, 32)])
def test_time_limit_is_honoured_on_zoo_layers(net, layer, m, func):
    from theorychk import zoo

    w = zoo.load(net).layers[layer].weight
    res = func(w, m, time_limit=0.5)
    if res.status is Status.CERTIFIED:
        assert res.lower.value == res.upper.value
    else:
        assert res.status is Status.UNKNOWN and res.reason == "time limit"
    assert 0 <= res.lower.value <= res.upper.value
    if func is c_1:
        assert res.lower.value <= _ZOO_C1[(net, layer, m)] <= res.upper.value
