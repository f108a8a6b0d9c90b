"""The checker's integer form of layers (``check/intmat.py``) and its exact forward pass on integers
(``check/exactnet.py``), against Fraction oracles; rank proofs mod p with the exact fallback; and a
certificate of a net whose weights changed in one bit."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import flint
import numpy as np
import pytest

from theorychk.check import exactnet, intmat, rationals
from theorychk.check.core import check_certificate, trace
from theorychk.check.rationals import is_positive_definite, parse_vector
from theorychk.check.stability import int_rows
from theorychk.errors import CertificateError
from theorychk.io import load_network
from theorychk.network import Layer, Network

ROOT = Path(__file__).resolve().parents[2]


def _exact(a: np.ndarray) -> list[Fraction]:
    return [Fraction(float(v)) for v in np.asarray(a, dtype=np.float64).ravel()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dyadic_ints_exact_and_canonical(dtype):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 5)).astype(dtype)
    a[0, 0], a[1, 1], a[2, 2] = 0.0, 2.0**-40, 3 * 2.0**20
    z, e = intmat.dyadic_ints(a)
    assert [Fraction(int(v)) * Fraction(2) ** e for v in z.ravel()] == _exact(a)
    assert any(int(v) % 2 for v in z.ravel())  # common trailing zero bits stripped
    z2, e2 = intmat.dyadic_ints(a * 8)  # the same integers, the scale moves
    assert (z2 == z).all() and e2 == e + 3


def test_dyadic_ints_wide_exponent_range_falls_back_to_python_ints():
    a = np.array([[2.0**-1000, 2.0**900 + 2.0**848]])
    z, e = intmat.dyadic_ints(a)
    assert z.dtype == object and e == -1000
    assert [Fraction(int(v)) * Fraction(2) ** e for v in z.ravel()] == _exact(a)


def test_integer_layers_cached_by_content():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    net = Network([Layer(w, b, "relu")])
    (a,) = intmat.integer_layers(net)
    assert intmat.integer_layers(Network([Layer(w.copy(), b.copy(), "relu")]))[0] is a
    w2 = w.copy()
    w2.view(np.int64)[1, 2] ^= 1  # one bit of one weight
    (c,) = intmat.integer_layers(Network([Layer(w2, b, "relu")]))
    assert c is not a and [Fraction(int(v)) * c.scale for v in c.array.ravel()] == _exact(w2)
    assert list(a.bias_q) == _exact(b)


def test_rank_mod_p_full_settles_it():
    z = flint.fmpz_mat([[1, 2], [3, 4], [5, 6]])
    assert intmat.rank(z) == 2 and intmat.full_column_rank(z)
    assert not intmat.full_column_rank(flint.fmpz_mat([[1, 2], [2, 4], [3, 6]]))  # rank 1 over Q too


@pytest.mark.parametrize("prime", [7, 13])
def test_rank_drops_mod_p_but_not_over_q_falls_back_to_exact(prime):
    # det = prime: singular mod prime, invertible over Q
    z = flint.fmpz_mat([[prime + 1, 1], [1, 1]])
    assert int(flint.nmod_mat(z, prime).rank()) == 1
    assert intmat.rank(z, prime) == 2
    assert intmat.full_column_rank(z, prime)
    tall = flint.fmpz_mat([[prime, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, prime]])  # column 0 vanishes mod p
    assert int(flint.nmod_mat(tall, prime).rank()) == 2 and intmat.rank(tall, prime) == 3


def _oracle(net: Network, z: list[Fraction]) -> list[tuple[Fraction, ...]]:
    """Layer by layer on Fractions, from the float weights read exactly."""
    x, out = list(z), []
    for layer in net.layers:
        w = [_exact(row) for row in layer.weight]
        b = _exact(layer.bias)
        u = [sum((wi * xi for wi, xi in zip(row, x)), Fraction(0)) + bi for row, bi in zip(w, b)]
        slope = {"relu": Fraction(0), "identity": Fraction(1)}.get(layer.activation.spec)
        if slope is None:
            slope = Fraction(float(layer.activation.spec.split(":")[1]))
        x = [v if v > 0 else slope * v for v in u]
        out.append(tuple(u))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("acts", [("relu", "relu", "identity"), ("leaky_relu:0.1", "leaky_relu:0.3", "relu"),
                                  ("identity", "leaky_relu:0.25", "leaky_relu:0.1")])
def test_forward_on_integers_equals_fraction_oracle(seed, acts):
    rng = np.random.default_rng(seed)
    dims = [3, 7, 6, 5]
    dt = np.float32 if seed % 2 else np.float64
    net = Network([Layer(rng.standard_normal((dims[i + 1], dims[i])).astype(dt),
                         rng.standard_normal(dims[i + 1]).astype(dt), acts[i]) for i in range(3)])
    z = [Fraction(int(v), 7) for v in rng.integers(-9, 9, size=3)]
    tr = trace(net, z)
    assert list(tr.pre) == _oracle(net, z)
    assert tr.inputs[0] == tuple(z)


def test_smooth_last_layer_has_no_exact_output():
    net = Network([Layer(np.array([[1.0, -2.0]]), np.array([0.5]), "relu"),
                   Layer(np.array([[3.0]]), None, "tanh")])
    passes = exactnet.forward(intmat.integer_layers(net), ["relu", "tanh"], [Fraction(1), Fraction(1, 4)])
    assert passes[-1][1] == (Fraction(3),)  # relu(1 - 1/2 + 1/2) = 1, then 3 * 1 and passes[-1][2] is None


def _flip_weight_bit(net: Network, z_star: list[Fraction]) -> Network:
    """The net with the lowest bit of one last-layer weight flipped, on a unit that carries signal."""
    tr = trace(net, z_star)
    j = net.depth - 1
    c = next(i for i, v in enumerate(tr.inputs[j]) if v != 0)
    layers = []
    for i, layer in enumerate(net.layers):
        dt = np.float32 if layer.dtype == "float32" else np.float64  # flip a bit of the stored number
        w = layer.weight.astype(dt)
        if i == j:
            w.view(np.int32 if dt is np.float32 else np.int64)[0, c] ^= 1
        layers.append(Layer(w, layer.bias.astype(dt), layer.activation))
    return Network(layers)


@pytest.mark.parametrize("zoo", ["vae-relu", "vae-leaky"])
def test_certificate_of_one_bit_altered_weights_is_rejected(zoo):
    cert = json.loads((ROOT / "certificates" / "zoo" / zoo / "signal-000.json").read_text())
    net = load_network(f"zoo:{zoo}")
    assert check_certificate(cert, net).verified
    z_star = parse_vector(cert["signal"]["latent"], None, "latent")
    bad = _flip_weight_bit(net, z_star)
    report = check_certificate(cert, bad)
    assert not report.verified and "fingerprint mismatch" in report.claims[0].reason
    # Even with the fingerprint made to match, the exact forward pass catches the one bit.
    forged = copy.deepcopy(cert)
    forged["model"]["fingerprint"] = bad.fingerprint()
    report = check_certificate(forged, bad)
    assert not report.verified
    assert report.claims[0].reason in ("signal.output does not equal G(latent) (exact forward pass)",
                                       "signal.output_pre_activation does not equal the exact last pre-activation")


def _ldl_positive_definite(m: list[list[Fraction]]) -> bool:
    """Oracle: exact LDL^T on Fractions, every pivot positive."""
    a = [row[:] for row in m]
    for p in range(len(a)):
        if a[p][p] <= 0:
            return False
        for i in range(p + 1, len(a)):
            f = a[i][p] / a[p][p]
            for j in range(p + 1, len(a)):
                a[i][j] -= f * a[p][j]
    return True


@pytest.mark.parametrize("seed", range(40))
def test_positive_definite_by_charpoly_signs_equals_ldl(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    b = [[Fraction(int(v), int(d)) for v, d in zip(row, drow)]
         for row, drow in zip(rng.integers(-3, 4, size=(k + 1 - seed % 3, k)), rng.integers(1, 4, size=(k + 1, k)))]
    g = [[sum((b[r][i] * b[r][j] for r in range(len(b))), Fraction(0)) for j in range(k)] for i in range(k)]
    shift = Fraction(int(rng.integers(-2, 3)), int(rng.integers(1, 5)))  # around the smallest eigenvalues
    m = [[g[i][j] - shift * (i == j) for j in range(k)] for i in range(k)]
    assert is_positive_definite(m) == _ldl_positive_definite(m)


def test_positive_definite_edge_cases():
    assert is_positive_definite([[Fraction(1, 3)]]) and not is_positive_definite([[Fraction(0)]])
    assert not is_positive_definite([[Fraction(1), Fraction(1)], [Fraction(1), Fraction(1)]])  # singular PSD
    assert not is_positive_definite([[Fraction(-1), Fraction(0)], [Fraction(0), Fraction(-1)]])  # all signs even
    assert is_positive_definite(flint.fmpz_mat([[2, -1, 0], [-1, 2, -1], [0, -1, 2]]))
    with pytest.raises(CertificateError, match="symmetric"):
        is_positive_definite([[Fraction(1), Fraction(2)], [Fraction(0), Fraction(1)]])


@pytest.mark.parametrize("bad", [[[1, True]], [[1, 2.0]], [[1, "2"]], [[1]], [[1, 2], [3, 4]], [(1, 2)]])
def test_integer_evidence_rows_reject_anything_but_json_integers(bad):
    with pytest.raises(CertificateError, match="expected 1 lists of 2 integers"):
        int_rows(bad, 1, 2, "L")
    assert int_rows([[1, -2**70]], 1, 2, "L") == [[1, -2**70]]


def test_checker_rank_falls_back_when_the_layer_is_singular_mod_its_prime():
    # det [[2^62, 3], [19, 1]] = 2^62 - 57 = intmat.PRIME: every entry an exact float, singular mod
    # the checker's prime, invertible over Q -- a full-rank claim must still verify (exactly).
    assert 2**62 - 57 == intmat.PRIME
    w = np.array([[2.0**62, 3.0], [19.0, 1.0]])
    net = Network([Layer(w, None, "identity")])
    (layer,) = intmat.integer_layers(net)
    assert int(flint.nmod_mat(layer.z, intmat.PRIME).rank()) == 1
    assert layer.rank == 2
    tr = trace(net, [Fraction(1), Fraction(-1, 3)])
    assert tr.full_rank(0, [0, 1]) and tr.full_rank(0, [1, 0])  # the cached whole-layer path and the submatrix path
    singular = Network([Layer(np.array([[2.0**62, 3.0], [2.0**63, 6.0]]), None, "identity")])
    assert not trace(singular, [Fraction(1), Fraction(0)]).full_rank(0, [0, 1])


# --- exact products by float64 BLAS on limbs, the Gram rank test, positive definiteness fast paths ---


def _flint_product(a: np.ndarray, b: np.ndarray) -> list[list[int]]:
    n, m = a.shape
    k = b.shape[1]
    fa = flint.fmpz_mat(n, m, [int(v) for v in a.ravel().tolist()])
    fb = flint.fmpz_mat(m, k, [int(v) for v in b.ravel().tolist()])
    return [[int(v) for v in row] for row in (fa * fb).tolist()]


@pytest.mark.parametrize("seed", range(60))
def test_int_matmul_is_exact(seed):
    # widths up to 62 bits, extreme entries, long inner dimensions: every partial sum of a float64
    # limb product must stay exact, whatever the BLAS summation order
    rng = np.random.default_rng(seed)
    n, k = (int(v) for v in rng.integers(1, 12, 2))
    m = int(rng.choice([1, 7, 300, 5000]))
    ba, bb = (int(v) for v in rng.integers(1, 63, 2))
    a = rng.integers(-(2**ba), 2**ba, (n, m), dtype=np.int64)
    b = rng.integers(-(2**bb), 2**bb, (m, k), dtype=np.int64)
    if seed % 3 == 0:  # all entries at the extreme: the largest sums
        a[:] = 2**62 - 1 if seed % 2 else -(2**62)
        b[:] = -(2**bb) + 1
    assert intmat.int_matmul(a, b).tolist() == _flint_product(a, b)
    wide = a.astype(object) * (2**40 + 3)  # an object left factor (int64 halves)
    assert intmat.int_matmul(wide, b).tolist() == _flint_product(wide, b)


def test_int_matmul_edge_cases():
    i64 = np.iinfo(np.int64)
    a = np.array([[i64.min, 1]], dtype=np.int64)  # |min| does not fit: the flint path
    b = np.array([[1], [i64.max]], dtype=np.int64)
    assert intmat.int_matmul(a, b).tolist() == [[i64.min + i64.max]]
    assert intmat.int_matmul(np.zeros((2, 0), dtype=np.int64), np.zeros((0, 3), dtype=np.int64)).tolist() == [[0] * 3] * 2
    assert intmat.int_matmul(np.zeros((2, 2), dtype=np.int64), np.ones((2, 1), dtype=np.int64)).tolist() == [[0], [0]]


def test_gram_full_rank_mod_proves_only_full_rank():
    a = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.int64)
    assert intmat.gram_full_rank_mod(a)
    assert not intmat.gram_full_rank_mod(np.array([[1, 2], [2, 4], [3, 6]], dtype=np.int64))
    assert not intmat.gram_full_rank_mod(a[:1])  # fewer rows than columns
    # det(A)^2 = 7^2 vanishes mod 7: no proof there (the caller then decides exactly)
    assert not intmat.gram_full_rank_mod(np.array([[8, 1], [1, 1]], dtype=np.int64), 7)
    # tall, wide entries, negative entries, object arrays: the residues' product stays exact
    rng = np.random.default_rng(5)
    tall = rng.integers(-(2**61), 2**61, (40000, 4), dtype=np.int64)  # sums need row blocks
    assert intmat.gram_full_rank_mod(tall) and intmat.gram_full_rank_mod(tall.astype(object) * 2**70 + 1)
    tall[:, 3] = tall[:, 0] - tall[:, 1]  # no int64 overflow: |entries| < 2**62
    assert not intmat.gram_full_rank_mod(tall)
    assert not intmat.gram_full_rank_mod(tall.astype(object) * 2**70)


def _pd_exact(m: np.ndarray) -> bool:
    k = m.shape[0]
    return rationals._charpoly_positive_definite(flint.fmpz_mat(k, k, [int(v) for v in m.ravel().tolist()]))


def _big_symmetric(rng: np.random.Generator, k: int, rank: int, bits: int) -> np.ndarray:
    b = np.array([[int(v) for v in rng.integers(-(2**62), 2**62, k)] for _ in range(rank)], dtype=object)
    return (b * (1 << (bits // 2 - 62)) + b % 977).T.dot(b * (1 << (bits // 2 - 62)) + b % 977) if bits > 124 \
        else (b >> (62 - bits // 2)).T.dot(b >> (62 - bits // 2))


@pytest.mark.parametrize("seed", range(30))
def test_positive_definite_fast_paths_agree_with_the_charpoly(seed):
    # Gram matrices of about 2**(bits) shifted around their smallest eigenvalue (barely PD, singular,
    # barely not PD), and rank-deficient ones whose rounding to 40 bits could look definite: the
    # rounded and congruence pre-tests may only ever answer True where the exact test does.
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    bits = int(rng.choice([60, 90, 140]))
    g = _big_symmetric(rng, k, k if seed % 3 else k - 1, bits)
    lam = float(np.linalg.eigvalsh(np.array(g, dtype=np.float64))[0])
    for shift in (0, int(lam * (1 - 1e-9)), int(lam), int(lam * (1 + 1e-9)), -int(abs(lam) * 1e-6) - 1):
        m = g.copy()
        m[np.diag_indices(k)] -= shift
        assert is_positive_definite(m) == _pd_exact(m), (seed, shift)


def test_rank_deficient_huge_matrices_are_never_definite():
    # singular PSD matrices with 100-bit entries: rounding them to 40 bits often leaves a definite
    # matrix, so only the correction ``- k I`` keeps the rounded test sound (mutation-checked)
    rng = np.random.default_rng(7)
    fooled = 0
    for _ in range(200):
        k = int(rng.integers(2, 6))
        g = _big_symmetric(rng, k, 1, 100)
        assert not is_positive_definite(g)
        short, _ = rationals._rounded(intmat.IntProduct((k, k), {0: g}))
        fooled += _pd_exact((short + k * np.eye(k, dtype=np.int64)).astype(object))
    assert fooled > 0  # the uncorrected rounding would have said "definite" on some of them


def test_congruence_test_needs_diagonal_dominance():
    # integer PSD matrices that floats think definite (Cholesky succeeds) but are singular: only the
    # exact Gershgorin check of X^T a X may refuse them (mutation-checked)
    rng = np.random.default_rng(11)
    passed_cholesky = 0
    for _ in range(300):
        k = int(rng.integers(2, 6))
        b = rng.integers(-(2**19), 2**19, (k - 1, k)).astype(np.int64)
        a = b.T @ b  # rank k - 1, entries < 2**40
        assert not rationals._congruent_dominant(a)
        try:
            np.linalg.cholesky(a.astype(np.float64))
            passed_cholesky += 1
        except np.linalg.LinAlgError:
            pass
    assert passed_cholesky > 0
    assert rationals._congruent_dominant(np.array([[2, -1, 0], [-1, 2, -1], [0, -1, 2]], dtype=np.int64))


@pytest.mark.parametrize("seed", range(4))
def test_unit_sign_tests_on_integers_equal_fraction_comparisons(seed):
    rng = np.random.default_rng(seed)
    net = Network([Layer(rng.standard_normal((9, 3)), rng.standard_normal(9), "relu"),
                   Layer(rng.standard_normal((7, 9)), rng.standard_normal(7), "leaky_relu:0.1")])
    tr = trace(net, [Fraction(int(v), 7) for v in rng.integers(-9, 9, 3)])
    for j in range(2):
        out = tr.outputs[j]
        for t in [Fraction(0), Fraction(-1, 3), Fraction(1, 1000), *out[:3]]:  # thresholds equal to entries too
            assert tr.above(j, t) == [r for r, v in enumerate(out) if v > t]
        assert tr.support(j) == [r for r, v in enumerate(tr.pre[j]) if v > 0]


def test_dominance_on_approximations_keeps_its_margin():
    # T (k = 5, entries below 2**61: shifted right by h = 61 - 50 + bits(5) = 14): diagonal
    # 2**60 + 3 * 2**14, off-diagonal 2**58 + 2**14 - 1 four times per row, 2**60 + 65532 in all: not
    # dominant, but the floor shifts make it look dominant by 3 (the margin k c = 5 refuses it;
    # mutation-checked)
    k = 5
    t = np.full((k, k), 2**58 + 2**14 - 1, dtype=np.int64)
    t[np.diag_indices(k)] = 2**60 + 3 * 2**14
    assert not rationals._dominant([(0, t)], k)
    t[np.diag_indices(k)] = 2**60 + 3 * 2**20  # dominant by about 2**21.6: well above the margin
    assert rationals._dominant([(0, t)], k)
    # the same value cut into two terms at different shifts
    assert rationals._dominant([(0, t - (t >> 20 << 20)), (20, t >> 20)], k)
    # a wide matrix in 16 terms: row sums of the approximation must not overflow int64
    wide = np.full((2000, 2000), 2**40, dtype=np.int64)
    wide[np.diag_indices(2000)] = 2**40 * 1998
    assert not rationals._dominant([(20, wide)] * 16, 2000)
    wide[np.diag_indices(2000)] = 2**40 * 2000
    assert rationals._dominant([(20, wide)] * 16, 2000)
    flat = np.full((2000, 2000), 2**40, dtype=np.int64)  # singular: its row sums would wrap in int64
    assert not rationals._dominant([(20, flat)] * 16, 2000)
