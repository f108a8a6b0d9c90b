"""The checker of the stability claims (``theorychk/check/stability.py``): the certified lower bounds
on c_inf / c_1 (integer dual vectors, integer-scaled left inverses), what ``"constant": "exact"``
needs, the format before issue 16, and every rejection path with its pinned message."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import flint
import numpy as np
import pytest

from theorychk.certify import stability as certify_stability
from theorychk.certify.certificate import build_certificate
from theorychk.check.core import check_certificate, trace
from theorychk.check.stability import facet_dual_bound, lei_rows, left_inverse_bound
from theorychk.invariants.cnorm import c_inf_of_rows
from theorychk.errors import CertificateError
from theorychk.network import Layer, Network
from tests.check.test_check import NETS, claim_of, only

F = Fraction


@pytest.fixture(scope="module")
def certs() -> dict[str, dict]:
    """``inj``: exact constants (l_inf duals + x, l_1 kernel rays); ``wide``: l_1 by a left inverse;
    ``bound``: the ``inj`` net with the l_inf constants as dual lower bounds (the exact engine off)."""
    out = {n: json.loads(json.dumps(build_certificate(NETS[n][0], NETS[n][1], source="t", noise=F(1, 1000),
                                                      kinds=("lei_linf", "lei_l1"), exact_constants=n == "inj")))
           for n in ("inj", "wide")}
    mp = pytest.MonkeyPatch()
    mp.setattr(certify_stability, "EXACT_CINF_LIMIT", 0)
    out["bound"] = json.loads(json.dumps(build_certificate(NETS["inj"][0], NETS["inj"][1], source="t",
                                                           noise=F(1, 1000), kinds=("lei_linf",))))
    mp.undo()
    return out


def _net(name: str) -> Network:
    return NETS["inj" if name == "bound" else name][0]


def _rejected(cert: dict, name: str) -> list[str]:
    report = check_certificate(cert, _net(name))
    assert not report.verified
    return [c.reason for c in report.claims if c.outcome == "REJECTED"]


def _layer(cert: dict, kind: str, i: int = 0) -> dict:
    return claim_of(cert, kind)["evidence"]["layers"][i]


def _rows_J(name: str, entry: dict) -> list[int]:
    net, z = NETS["inj" if name == "bound" else name]
    return lei_rows(trace(net, z), entry["layer"], 2 * F(entry["noise_out"]))


def legacy(name: str, entry: dict) -> None:
    """Rewrite a layer's evidence in the format before issue 16 (sparse rational duals per facet,
    rational L; no ``constant``)."""
    rows, ev = _rows_J(name, entry), entry["c_evidence"]
    entry.pop("constant", None)
    ev.pop("x", None)
    if ev["method"] == "lp_duals":
        ev["certificates"] = [{"facet": f, "y": {str(r): str(v) for r, v in zip(rows, y) if v}}
                              for f, y in enumerate(ev.pop("y"))]
    elif ev["method"] == "approx_left_inverse":
        scale = F(ev.pop("scale"))
        ev["L"] = [[str(scale * v) for v in row] for row in ev["L"]]


# --- valid evidence -------------------------------------------------------------------------------


def test_constants_say_exact_or_lower_bound(certs):
    assert [e["constant"] for e in claim_of(certs["inj"], "lei_linf")["evidence"]["layers"]] == ["exact", "exact"]
    assert [e["constant"] for e in claim_of(certs["inj"], "lei_l1")["evidence"]["layers"]] == ["exact", "exact"]
    assert _layer(certs["wide"], "lei_l1")["constant"] == "lower_bound"
    assert [e["constant"] for e in claim_of(certs["bound"], "lei_linf")["evidence"]["layers"]] == \
        ["lower_bound", "lower_bound"]
    for name in ("inj", "wide", "bound"):
        assert check_certificate(certs[name], _net(name)).verified


def test_dual_lower_bound_is_at_most_the_exact_constant_and_close(certs):
    exact_c = [F(e["c_lower"]) for e in claim_of(certs["inj"], "lei_linf")["evidence"]["layers"]]
    bound_c = [F(e["c_lower"]) for e in claim_of(certs["bound"], "lei_linf")["evidence"]["layers"]]
    for lo, c in zip(bound_c, exact_c):
        assert 0 < lo <= c and lo >= c * F(9, 10), (lo, c)
    assert F(claim_of(certs["bound"], "lei_linf")["evidence"]["bound"]) >= \
        F(claim_of(certs["inj"], "lei_linf")["evidence"]["bound"])


def test_evidence_is_integers(certs):
    ev = _layer(certs["bound"], "lei_linf")["c_evidence"]
    assert set(ev) == {"method", "y"} and all(type(v) is int for row in ev["y"] for v in row)
    ev = _layer(certs["wide"], "lei_l1")["c_evidence"]
    assert set(ev) == {"method", "scale", "L"} and all(type(v) is int for row in ev["L"] for v in row)
    # the fewest bits that keep the float bound within L_LOSS: well short of float32's 24
    assert max(abs(v) for row in ev["L"] for v in row).bit_length() <= 20


@pytest.mark.parametrize("name, kind", [("inj", "lei_linf"), ("bound", "lei_linf"), ("wide", "lei_l1")])
def test_certificates_before_issue_16_still_check(certs, name, kind):
    cert = only(certs[name], kind)
    for entry in cert["claims"][0]["evidence"]["layers"]:
        legacy(name, entry)
    assert check_certificate(cert, _net(name)).verified


def test_facet_dual_bound_is_weak_duality():
    # A = [[1, 0], [1, 1]] (scale 1/2): c_inf = 1/2 (x = (-1/2, 1)); the pseudo-inverse rows prove it
    za = flint.fmpz_mat([[2, 0], [2, 2]])
    assert facet_dual_bound(za, F(1, 2), [[1, 0], [-1, 1]]) == F(1, 2)
    assert facet_dual_bound(za, F(1, 2), [[3, 0], [-5, 5]]) == F(1, 2)  # the scale of y cancels
    assert facet_dual_bound(za, F(1, 2), [[0, 1], [-1, 1]]) == 0  # g = (1, 1): a poor y proves only 0
    assert facet_dual_bound(za, F(1, 2), [[0, 0], [-1, 1]]) == 0


def test_left_inverse_bound_matches_the_formula():
    za = flint.fmpz_mat([[1, 0], [0, 1], [1, 1]])
    # L = [[1, 0, 0], [0, 1, 0]] is an exact left inverse with ||L|| = 1 in both norms
    assert left_inverse_bound(za, F(1), [[1, 0, 0], [0, 1, 0]], F(1), "inf") == 1
    # L = 9/10 I: ||I - L A|| = 1/10, ||L|| = 9/10 -> (9/10) / (9/10) = 1
    assert left_inverse_bound(za, F(1), [[9, 0, 0], [0, 9, 0]], F(1, 10), "1") == 1
    assert left_inverse_bound(za, F(1), [[2, 0, 0], [0, 2, 0]], F(1), "1") == 0  # ||I - L A|| >= 1


def test_dual_bound_method_of_cnorm():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((40, 6))
    rows = list(range(0, 40, 2))
    exact_r = c_inf_of_rows(w, rows)
    bound_r = c_inf_of_rows(w, rows, method="dual_bound")
    assert exact_r.exact and 0 < bound_r.lower.value <= exact_r.value <= bound_r.upper.value
    assert bound_r.lower.value >= exact_r.value * F(95, 100)
    za = flint.fmpz_mat([[int(v * 2**60) for v in r] for r in w[rows]])
    assert facet_dual_bound(za, F(1, 2**60), bound_r.lower.evidence["duals"]) == bound_r.lower.value


# --- rejections -----------------------------------------------------------------------------------


def _set_c(entry: dict, c: Fraction) -> None:
    entry["c_lower"] = str(c)


@pytest.mark.parametrize("name, kind", [("bound", "lei_linf"), ("wide", "lei_l1")])
def test_lower_bound_larger_than_the_evidence_proves(certs, name, kind):
    cert = only(certs[name], kind)
    entry = cert["claims"][0]["evidence"]["layers"][0]
    c = F(entry["c_lower"])
    _set_c(entry, c + F(1, 2**80))
    j = entry["layer"]
    assert _rejected(cert, name) == [f"{kind} layer {j}: c_lower = {c + F(1, 2**80)} is not proven by its evidence "
                                     f"(it proves {c})"]


def test_perturbed_dual_vector_proves_less(certs):
    cert = only(certs["bound"], "lei_linf")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    y = entry["c_evidence"]["y"]
    f = 0
    y[f] = [v + (1 if i % 2 else -1) * max(map(abs, y[f])) for i, v in enumerate(y[f])]
    (reason,) = _rejected(cert, "bound")
    assert reason.startswith(f"lei_linf layer 1: c_lower = {entry['c_lower']} is not proven by its evidence"), reason


@pytest.mark.parametrize("edit", ["drop", "fraction", "bool", "short"])
def test_dual_vectors_must_be_k_rows_of_integers(certs, edit):
    cert = only(certs["bound"], "lei_linf")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    y = entry["c_evidence"]["y"]
    n = len(y[0])
    if edit == "drop":
        y.pop()
    elif edit == "fraction":
        y[0][0] = "1/2"
    elif edit == "bool":
        y[0][0] = True
    else:
        y[0].pop()
    assert _rejected(cert, "bound") == [f"lei_linf layer 1.y: expected 12 lists of {n} integers"]


def test_constant_must_be_named(certs):
    cert = only(certs["bound"], "lei_linf")
    cert["claims"][0]["evidence"]["layers"][0]["constant"] = "approximate"
    assert _rejected(cert, "bound") == ["lei_linf layer 1: constant must be one of exact, lower_bound; "
                                        "got 'approximate'"]


@pytest.mark.parametrize("name, kind", [("bound", "lei_linf"), ("wide", "lei_l1")])
def test_exact_constant_needs_a_witness(certs, name, kind):
    cert = only(certs[name], kind)
    entry = cert["claims"][0]["evidence"]["layers"][0]
    entry["constant"] = "exact"
    assert _rejected(cert, name) == [f"{kind} layer {entry['layer']}: constant 'exact' needs a primal witness x "
                                     "in c_evidence"]


def test_exact_constant_with_a_wrong_witness(certs):
    cert = only(certs["inj"], "lei_linf")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    x = [F(v) for v in entry["c_evidence"]["x"]]
    entry["c_evidence"]["x"] = [str(v) for v in [x[0] * 2] + x[1:]] if x[0] else [str(F(1))] + [str(v) for v in x[1:]]
    (reason,) = _rejected(cert, "inj")
    assert reason.startswith(f"lei_linf layer 1: c_lower = {entry['c_lower']} is claimed exact but the witness x "
                             "gives "), reason


def test_exact_constant_on_a_lower_bound(certs):
    """A smaller c_lower is still a proven lower bound, but no longer the constant the duals and x pin."""
    for kind, message in (("lei_linf", "the witness x gives"), ("lei_l1", "the kernel rays give")):
        cert = only(certs["inj"], kind)
        entry = cert["claims"][0]["evidence"]["layers"][0]
        c = F(entry["c_lower"])
        _set_c(entry, c / 2)
        assert _rejected(cert, "inj") == [f"{kind} layer 1: c_lower = {c / 2} is claimed exact but {message} {c}"]
        entry["constant"] = "lower_bound"  # stated as a bound it is true; the chain then rejects
        assert _rejected(cert, "inj") == [f"{kind} layer 1: noise_in does not equal 2 l eps / c"]


def test_zero_witness(certs):
    cert = only(certs["inj"], "lei_linf")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    entry["c_evidence"]["x"] = ["0"] * len(entry["c_evidence"]["x"])
    assert _rejected(cert, "inj") == [f"lei_linf layer 1: c_lower = {entry['c_lower']} is claimed exact but the "
                                      "witness x gives None"]


@pytest.mark.parametrize("edit, message", [
    (lambda ev: ev.update(scale="0"), "lei_l1 layer 0: the scale of L must be positive"),
    (lambda ev: ev.update(scale="-1/4096"), "lei_l1 layer 0: the scale of L must be positive"),
    (lambda ev: ev["L"][0].__setitem__(0, "1/2"), "lei_l1 layer 0.L: expected 4 lists of 52 integers"),
    (lambda ev: ev["L"].pop(), "lei_l1 layer 0.L: expected 4 lists of 52 integers"),
    (lambda ev: ev.update(scale="one"), "lei_l1 layer 0.scale: expected an exact rational like '3/4' (or float hex), "
                                        "got 'one'"),
])
def test_left_inverse_rejections(certs, edit, message):
    cert = only(certs["wide"], "lei_l1")
    assert len(_rows_J("wide", _layer(cert, "lei_l1"))) == 52
    edit(_layer(cert, "lei_l1")["c_evidence"])
    assert _rejected(cert, "wide") == [message]


def test_left_inverse_scaled_up_proves_less(certs):
    cert = only(certs["wide"], "lei_l1")
    ev = _layer(cert, "lei_l1")["c_evidence"]
    ev["scale"] = str(F(ev["scale"]) * 2)
    (reason,) = _rejected(cert, "wide")
    assert reason.startswith("lei_l1 layer 0: c_lower = ") and "is not proven by its evidence (it proves 0)" in reason


def test_legacy_rejections(certs):
    cert = only(certs["bound"], "lei_linf")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    legacy("bound", entry)
    broken = copy.deepcopy(cert)
    broken["claims"][0]["evidence"]["layers"][0]["c_evidence"]["certificates"].pop()
    assert _rejected(broken, "bound") == ["lei_linf layer 1: need one dual vector per facet 0..11"]
    off = next(r for r in range(30) if r not in _rows_J("bound", entry))
    entry["c_evidence"]["certificates"][0]["y"][str(off)] = "1"
    assert _rejected(cert, "bound") == ["lei_linf layer 1: a dual vector uses a row outside J"]
    cert = only(certs["wide"], "lei_l1")
    legacy("wide", _layer(cert, "lei_l1"))
    _layer(cert, "lei_l1")["c_evidence"]["L"].pop()
    assert _rejected(cert, "wide") == ["lei_l1 layer 0: L must have 4 rows"]


def test_schema_names_the_constants(certs):
    from tests.certify.test_certificate import SCHEMA, _errors

    cert = copy.deepcopy(certs["bound"])
    assert _errors(cert, SCHEMA, SCHEMA) == []
    _layer(cert, "lei_linf")["constant"] = "approximate"
    assert any("'approximate' not in ['exact', 'lower_bound']" in e for e in _errors(cert, SCHEMA, SCHEMA))


# --- evidence the checker derives: a left inverse named by its precision ------------------------


@pytest.fixture(scope="module")
def derived() -> dict[str, dict]:
    """The ``inj`` and ``wide`` certificates with every layer over the table limit: ``left_inverse`` evidence."""
    mp = pytest.MonkeyPatch()
    for name, value in (("TABLE_LIMIT", 0), ("EXACT_CINF_LIMIT", 0), ("KERNEL_CERTIFY_CAP", 0), ("KERNEL_CHEAP_CAP", 0)):
        mp.setattr(certify_stability, name, value)
    out = {n: json.loads(json.dumps(build_certificate(NETS[n][0], NETS[n][1], source="t", noise=F(1, 1000),
                                                      kinds=("lei_linf", "lei_l1")))) for n in ("inj", "wide")}
    mp.undo()
    return out


def test_left_inverse_evidence_is_only_its_precision_and_bounds_the_constant(derived, certs):
    bits = certify_stability.LEFT_INVERSE_PRECISION
    for name in ("inj", "wide"):
        assert check_certificate(derived[name], _net(name)).verified
        for kind in ("lei_linf", "lei_l1"):
            for e in claim_of(derived[name], kind)["evidence"]["layers"]:
                assert e["c_evidence"] == {"method": "left_inverse", "bits": bits} and e["constant"] == "lower_bound"
    for kind in ("lei_linf", "lei_l1"):  # below the exact constants, and not far below
        for lo, ex in zip(claim_of(derived["inj"], kind)["evidence"]["layers"],
                          claim_of(certs["inj"], kind)["evidence"]["layers"]):
            assert 0 < F(lo["c_lower"]) <= F(ex["c_lower"]) and F(lo["c_lower"]) >= F(ex["c_lower"]) / 4


@pytest.mark.parametrize("edit, message", [
    (lambda ev: ev.update(bits=41), "lei_linf layer 1.bits: expected an integer in 8..40, got 41"),
    (lambda ev: ev.update(bits=7), "lei_linf layer 1.bits: expected an integer in 8..40, got 7"),
    (lambda ev: ev.update(bits="20"), "lei_linf layer 1.bits: expected int, got str"),
    (lambda ev: ev.pop("bits"), "lei_linf layer 1: missing field 'bits'"),
])
def test_left_inverse_precision_rejections(derived, edit, message):
    cert = only(derived["inj"], "lei_linf")
    edit(_layer(cert, "lei_linf")["c_evidence"])
    assert _rejected(cert, "inj") == [message]


def test_left_inverse_claiming_more_than_it_proves(derived):
    from theorychk.check.stability import derived_left_inverse

    cert = only(derived["inj"], "lei_linf")
    entry = _layer(cert, "lei_linf")
    net, z = NETS["inj"]
    proven = derived_left_inverse(trace(net, z), 1, _rows_J("inj", entry), 20)["inf"]
    assert F(entry["c_lower"]) <= proven
    entry["c_lower"] = str(proven + F(1, 2**80))
    assert _rejected(cert, "inj") == [f"lei_linf layer 1: c_lower = {proven + F(1, 2**80)} is not proven by its "
                                      f"evidence (it proves {proven})"]
    cert = only(derived["inj"], "lei_linf")
    _layer(cert, "lei_linf")["c_evidence"]["bits"] = 8  # a coarser L proves less than what was claimed
    (reason,) = _rejected(cert, "inj")
    assert reason.startswith("lei_linf layer 1: c_lower = ") and "is not proven by its evidence" in reason


def test_whole_layer_left_inverse_is_derived_once_per_layer(monkeypatch):
    from theorychk.check import stability as check_stability

    calls = []
    real = check_stability._derive
    monkeypatch.setattr(check_stability, "_derive", lambda *a: calls.append(a[2]) or real(*a))
    net = Network([Layer(np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]]), None, "leaky_relu:0.1")])
    for z in ([F(1), F(2)], [F(-3), F(1, 2)]):  # every row observed: the bound does not depend on z
        tr = trace(net, z)
        first = check_stability.derived_left_inverse(tr, 0, [0, 1, 2], 16)
        assert check_stability.derived_left_inverse(tr, 0, [0, 1, 2], 16) is first and first["inf"] > 0
    check_stability.derived_left_inverse(trace(net, [F(1), F(1)]), 0, [0, 2], 16)  # a row subset: per trace
    assert calls == [16, 16]


@pytest.mark.parametrize("seed", range(8))
def test_left_inverse_bounds_on_int64_equal_the_flint_ones(seed):
    # the derived left inverse's fast path (float64 limb products, int64 norms) states exactly the
    # numbers of the reference formula on flint matrices
    from theorychk.check.intmat import int_product
    from theorychk.check.stability import _left_inverse_bounds_int64, _small_residual, left_inverse_bounds

    rng = np.random.default_rng(seed)
    m, k = int(rng.integers(3, 400)), int(rng.integers(1, 12))
    a = rng.integers(-(2**45), 2**45, (m, k), dtype=np.int64)
    lf = np.linalg.pinv(a.astype(np.float64))
    e = int(np.frexp(np.abs(lf).max())[1])
    zl = np.rint(np.ldexp(lf, 20 - e)).astype(np.int64)
    if seed % 4 == 3:
        zl[0] *= -1  # a poor left inverse (row 0 of L A is -e_0): the bound is 0
    sa = Fraction(1, 2**44)
    sl = Fraction(2) ** (e - 20) / sa
    want = left_inverse_bounds(flint.fmpz_mat(m, k, [int(v) for v in a.ravel()]), sa,
                               flint.fmpz_mat(k, m, [int(v) for v in zl.ravel()]), sl)
    assert _left_inverse_bounds_int64(a, sa, zl, sl) == want
    assert (want["inf"] > 0) == (seed % 4 != 3)
    if seed % 4 != 3:  # (the poor left inverse has a residual near 2 den: beyond int64)
        assert _small_residual(int_product(zl, a), 1, (sl * sa).denominator) is not None  # the int64 path ran
    # a scale of L off by 2**-40: den (I - L A) has entries far beyond 2**64, where int64 wraps; the
    # float magnitude test must send it to Python integers (mutation-checked)
    off = sl / 2**40
    huge = left_inverse_bounds(flint.fmpz_mat(m, k, [int(v) for v in a.ravel()]), sa,
                               flint.fmpz_mat(k, m, [int(v) for v in zl.ravel()]), off)
    assert _small_residual(int_product(zl, a), 1, (off * sa).denominator) is None
    assert _left_inverse_bounds_int64(a, sa, zl, off) == huge
    near = zl.copy()
    near[0, 0] += 2**19  # a residual of about 2**64 in row 0: wrapped modulo 2**64, unless refused
    ref = left_inverse_bounds(flint.fmpz_mat(m, k, [int(v) for v in a.ravel()]), sa,
                              flint.fmpz_mat(k, m, [int(v) for v in near.ravel()]), sl)
    assert _left_inverse_bounds_int64(a, sa, near, sl) == ref


def _kernel_rays_oracle(w: list[list[Fraction]], k: int) -> Fraction:
    """min over the rays of ker W_T, |T| = k - 1, of ||W x||_1 / ||x||_1, on Fractions."""
    from itertools import combinations

    from theorychk import exact

    best = None
    for t in combinations(range(len(w)), k - 1):
        ker = exact.nullspace([w[i] for i in t] or [[Fraction(0)] * k])
        if len(ker) == 1:
            x = ker[0]
            val = sum(abs(sum(p * q for p, q in zip(r, x))) for r in w) / sum(map(abs, x))
            best = val if best is None else min(best, val)
    return best or Fraction(0)


@pytest.mark.parametrize("seed", range(12))
def test_kernel_rays_on_integers_equal_the_fraction_enumeration(seed):
    from theorychk.check.stability import c_bound

    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(1, 4)), int(rng.integers(4, 8))
    w = rng.integers(-3, 4, (n, k)).astype(np.float64) * 0.375
    if seed % 3 == 0:
        w[1] = 2 * w[0]  # parallel rows: some T are rank deficient
    net = Network([Layer(w, None, "identity")])
    tr = trace(net, [Fraction(1, 3)] * k)
    rows = list(range(n))
    if np.linalg.matrix_rank(w) < k:
        with pytest.raises(CertificateError, match="rank deficient"):
            c_bound(tr, 0, rows, "1", {"method": "kernel_rays"}, "l1")
        return
    got = c_bound(tr, 0, rows, "1", {"method": "kernel_rays"}, "l1")
    assert got == _kernel_rays_oracle([[Fraction(float(v)) for v in r] for r in w], k) and got > 0


def _sylvester_positive_definite(m: flint.fmpq_mat) -> bool:
    """Oracle: every leading principal minor positive (exact, on rationals)."""
    k = m.nrows()
    return all(flint.fmpq_mat(i, i, [m[a, b] for a in range(i) for b in range(i)]).det() > 0
               for i in range(1, k + 1))


@pytest.mark.parametrize("seed", range(10))
def test_eigenvalue_tests_on_product_parts_agree_with_the_exact_test(seed):
    # the Gram matrix's int64 parts, shifted and rounded to 40 bits with a margin of k c, may only
    # say "positive definite" where an exact test does (mutation-checked); the reference is built
    # from the weights (W^T W in rationals, Sylvester's criterion), not by the Gram under test:
    # thresholds within 1e-13 relative of the extreme eigenvalues on both sides
    from theorychk.check import rationals
    from theorychk.check.intmat import IntProduct
    from theorychk.check.stability import _gram_array, _shift_pd

    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(40, 300)), int(rng.integers(2, 12))
    w = rng.standard_normal((n, k)).astype(np.float32)
    tr = trace(Network([Layer(w, None, "identity")]), [Fraction(1)] * k)
    parts, s = _gram_array(tr, 0, list(range(n)), None)
    wq = flint.fmpq_mat(n, k, [flint.fmpq(*float(v).as_integer_ratio()) for v in w.ravel()])
    gram = wq.transpose() * wq
    ev = np.linalg.eigvalsh(w.astype(np.float64).T @ w.astype(np.float64))
    fast = 0
    for lam, sign in ((ev[0], 1), (ev[-1], -1)):
        for rel in (-1e-9, -1e-12, -3e-13, -1e-13, 1e-13, 3e-13, 1e-12, 1e-9):
            t = Fraction(float(lam * (1 + sign * rel)))
            shifted = gram - flint.fmpq_mat(k, k, [flint.fmpq(t.numerator, t.denominator) if a == b else 0
                                                   for a in range(k) for b in range(k)])
            want = _sylvester_positive_definite(shifted if sign > 0 else -shifted)
            assert _shift_pd(parts, s, t, sign) == want
            q = t / s
            a = q.denominator.bit_length() - 1
            assert q.denominator == 1 << a
            short, _ = rationals._rounded(IntProduct(parts.shape, {sh + a: p for sh, p in parts.parts.items()}),
                                          -q.numerator, sign)
            if rationals.positive_definite_short(short):
                assert want
                fast += 1
    assert fast >= 2  # the fast path decides the comfortable cases


def test_an_undecided_rounded_eigenvalue_test_goes_straight_to_the_exact_charpoly(monkeypatch):
    # when the Gram matrix's rounded 40-bit test does not prove "positive definite", the exact
    # characteristic polynomial decides at once: the congruence test and the short charpoly run
    # once per _shift_pd, not again on the Python-integer matrix
    from theorychk.check import rationals
    from theorychk.check.stability import _gram_array, _shift_pd

    rng = np.random.default_rng(0)
    w = rng.standard_normal((60, 5)).astype(np.float32)
    tr = trace(Network([Layer(w, None, "identity")]), [Fraction(1)] * 5)
    g, s = _gram_array(tr, 0, list(range(60)), None)
    lam = np.linalg.eigvalsh(w.astype(np.float64).T @ w.astype(np.float64))[0]
    calls = []
    for name in ("_congruent_dominant", "_charpoly_positive_definite"):
        monkeypatch.setattr(rationals, name, lambda *a, f=getattr(rationals, name), n=name: calls.append(n) or f(*a))
    assert not _shift_pd(g, s, Fraction(float(lam * (1 + 1e-13))), 1)  # just above lambda_min
    assert sorted(calls) == ["_charpoly_positive_definite", "_charpoly_positive_definite", "_congruent_dominant"]


def test_a_global_inverse_lipschitz_constant_reads_no_pre_activation():
    # identity, LeakyReLU and PLU have one constant for the whole range (max(1, 1/a): a slope
    # above 1 is steeper, its inverse flatter); lipschitz() takes it without making the layer's
    # exact pre-activations (Fractions) it does not need
    from theorychk.check.activations import global_inverse_lipschitz, inverse_lipschitz_bound
    from theorychk.check.stability import lipschitz

    assert [global_inverse_lipschitz(s) for s in ("identity", "leaky_relu:0.25", "plu:0.5:1.0", "leaky_relu:2.0")] \
        == [1, 4, 2, 1]
    assert [global_inverse_lipschitz(s) for s in ("relu", "tanh", "sigmoid", "leaky_relu:0.0")] == [None] * 4
    assert inverse_lipschitz_bound("leaky_relu:2.0", F(-1), F(1, 10)) == 1
    rng = np.random.default_rng(0)
    for spec in ("identity", "leaky_relu:0.25", "plu:0.5:1.0"):
        net = Network([Layer(rng.standard_normal((4, 2)), None, spec), Layer(rng.standard_normal((5, 4)), None, "relu")])
        tr = trace(net, [F(1, 2), F(-1, 3)])
        assert lipschitz(tr, 0, F(1, 100)) == global_inverse_lipschitz(spec)
        assert tr.pre._made[0] is None  # the layer's Fractions were never built


def test_small_residual_wraps_negative_parts_modulo_2_64():
    # |den I - num P| from int64 parts shifted far past 2**63 (wrapping modulo 2**64 on the unsigned
    # view), negative parts included, equals the exact residual on Python integers: P = 2**40 X +
    # 2**41 Y with X = 2 Z, Y = D - Z is 2**41 D, and den I - num P = -2**51 F for D = 2**10 I + F
    from theorychk.check.intmat import IntProduct
    from theorychk.check.stability import _small_residual

    rng = np.random.default_rng(0)
    k = 4
    z = rng.integers(-(2**40), 2**40, (k, k), dtype=np.int64)
    f = rng.integers(-(2**8), 2**8, (k, k), dtype=np.int64)
    d = 2**10 * np.eye(k, dtype=np.int64) + f
    prod = IntProduct((k, k), {40: 2 * z, 41: d - z})
    assert (prod.parts[40] < 0).any() and (prod.parts[41] < 0).any()
    got = _small_residual(prod, 2**10, 2**61)
    want = np.abs(2**61 * np.eye(k, dtype=np.int64).astype(object) - 2**10 * prod.ints())
    assert want.tolist() == np.abs(2**51 * f.astype(object)).tolist()
    assert got is not None and got.dtype == np.int64 and got.tolist() == want.tolist()
