"""Tests of theorychk.solvers.gradient: the gradient-descent baseline (method ``gd``).

Gradient descent has no recovery guarantee on these nets (the papers' point), so the recovery
assertions here are on easy instances -- small, strongly expansive, Gaussian ``N(0, 1/n_in)``
weights -- and are looser than for the pursuits: a residual below 1e-6 of the signal's norm.
"""

from __future__ import annotations

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import REGISTRY, InversionStatus, invert
from theorychk.solvers.gradient import _loss_and_gradient, default_step, gradient_descent


def gaussian_net(widths, out="tanh", seed=0, hidden="relu"):
    rng = np.random.default_rng(seed)
    return Network([
        Layer(rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i]),
              0.1 * rng.standard_normal(widths[i + 1]), hidden if i < len(widths) - 2 else out)
        for i in range(len(widths) - 1)
    ])


def planted(net, seed):
    # 1000 + seed: the planted code must not coincide with gd's own seeded start
    z = np.random.default_rng(1000 + seed).standard_normal(net.latent_dim)
    return z, net(z)


@pytest.mark.parametrize("out", ["tanh", "identity", "sigmoid", "plu", "relu", "leaky_relu:0.2"])
@pytest.mark.parametrize("hidden", ["relu", "leaky_relu:0.1"])
def test_manual_backprop_matches_finite_differences(out, hidden):
    net = gaussian_net((4, 12, 30), out, seed=1, hidden=hidden)
    rng = np.random.default_rng(2)
    z = rng.standard_normal((3, 4))
    y = net(rng.standard_normal((3, 4)))
    mask = rng.random((3, 30)) < 0.8
    loss, grad = _loss_and_gradient(net, z, y, mask)
    h = 1e-6
    for j in range(4):
        dz = np.zeros_like(z)
        dz[:, j] = h
        fd = (_loss_and_gradient(net, z + dz, y, mask)[0] - _loss_and_gradient(net, z - dz, y, mask)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-7)
    r = mask * (net(z) - y)
    np.testing.assert_allclose(loss, 0.5 * (r * r).sum(axis=1))


def test_relu_subgradient_at_zero_is_zero():
    net = Network([Layer(np.array([[1.0]]), np.array([0.0]), "relu"), Layer(np.array([[1.0]]), None, "identity")])
    _, grad = _loss_and_gradient(net, np.array([[0.0]]), np.array([[1.0]]), np.ones((1, 1)))
    assert grad[0, 0] == 0.0


@pytest.mark.parametrize("out", ["tanh", "identity"])
def test_gd_reaches_small_residual_on_easy_instances(out):
    net = gaussian_net((5, 30, 80), out, seed=3)
    for seed in range(3):
        z, y = planted(net, seed)
        r = invert(net, y, method="gd", seed=seed)
        assert r.status is InversionStatus.SOLVED, r.reason
        assert r.residual_l2 <= 1e-6 * np.linalg.norm(y)
        assert r.counts["iterations"] < 10_000 and r.info["grad_norm"] <= 1e-9
        assert len(r.hidden) == net.depth


def test_momentum_and_adam_options():
    net = gaussian_net((5, 30, 80), "tanh", seed=4)
    z, y = planted(net, 0)
    plain = invert(net, y, method="gd", seed=0)
    heavy = invert(net, y, method="gd", seed=0, momentum=0.9)
    assert heavy.solved and heavy.counts["iterations"] < plain.counts["iterations"]
    adam = invert(net, y, method="gd", seed=0, optimizer="adam", step=1e-2, iterations=3000)
    assert adam.residual_l2 <= 1e-4 * np.linalg.norm(y)  # Adam with a fixed step hovers; looser
    decayed = invert(net, y, method="gd", seed=0, momentum=0.9, step=0.05, decay=0.9995)
    assert decayed.residual_l2 <= 1e-6 * np.linalg.norm(y)


def test_restarts_keep_the_best():
    net = gaussian_net((5, 30, 80), "tanh", seed=5)
    z, y = planted(net, 1)
    bad = 30.0 * np.ones(5)  # far out: tanh saturates, descent crawls
    one = invert(net, y, method="gd", init=bad, iterations=200)
    many = invert(net, y, method="gd", init=bad, iterations=200, restarts=4, seed=0)
    assert many.info["loss"] <= one.info["loss"]
    assert many.info["restart_kept"] != 0 and many.counts["restarts"] == 4


def test_step_grid_takes_smallest_converging_step():
    net = gaussian_net((5, 30, 80), "identity", seed=6)
    z, y = planted(net, 0)
    r = invert(net, y, method="gd", step=[1e-6, 1e-1], iterations=2000, seed=0)
    assert r.solved and r.info["step"] == 1e-1 and r.counts["steps_tried"] == 2


def test_divergence_is_reported():
    net = gaussian_net((5, 30, 80), "identity", seed=7)
    z, y = planted(net, 0)
    r = invert(net, y, method="gd", step=1e6, iterations=500, seed=0)
    assert r.status is InversionStatus.FAILED and r.reason == "diverged" and r.method_status == "UNKNOWN"


def test_masked_entries_are_ignored():
    net = gaussian_net((4, 24, 80), "tanh", seed=8)
    z, y = planted(net, 0)
    mask = np.random.default_rng(0).random(80) < 0.6
    r = invert(net, np.where(mask, y, 5.0), method="gd", mask=mask, seed=0, momentum=0.9)
    assert r.solved and r.residual_l2 <= 1e-6 * np.linalg.norm(y[mask])
    assert np.linalg.norm(r.latent - z) <= 1e-5 * np.linalg.norm(z)


def test_batched_descent_is_per_signal():
    net = gaussian_net((5, 30, 80), "tanh", seed=9)
    zs = np.random.default_rng(0).standard_normal((3, 5))
    starts = np.random.default_rng(1).standard_normal((3, 5))
    run = gradient_descent(net, net(zs), rng=np.random.default_rng(0), init=starts, iterations=300)
    for i in range(3):
        single = gradient_descent(net, net(zs[i])[None], rng=np.random.default_rng(0), init=starts[i], iterations=300)
        np.testing.assert_allclose(run.latent[i], single.latent[0], atol=1e-12)
        assert run.iterations[i] == single.iterations[0]


def test_default_step_is_the_curvature_bound():
    net = gaussian_net((3, 10, 30), "sigmoid", seed=10)
    bound = (np.linalg.norm(net.layers[0].weight, 2) ** 2) * (np.linalg.norm(net.layers[1].weight, 2) * 0.25) ** 2
    assert default_step(net, np.ones(30, bool)) == pytest.approx(1 / bound)


def test_time_limit_and_bad_options(fake_clock):
    fake_clock.step = 1.0  # each look at the clock moves it a second: past the limit at once, on any machine
    net = gaussian_net((5, 30, 80), "tanh", seed=11)
    z, y = planted(net, 0)
    r = invert(net, y, method="gd", time_limit=1e-9, seed=0)
    assert r.status is InversionStatus.UNKNOWN and r.reason == "time limit" and r.latent is not None
    for bad, match in (({"momentum": 1.5}, "momentum"), ({"stp": 0.1}, "did you mean 'step'"),
                       ({"optimizer": "rmsprop"}, "optimizer"), ({"restarts": 0}, "restarts"),
                       ({"step": []}, "step"), ({"init": np.ones(3)}, "init")):
        with pytest.raises(InvalidInput, match=match):
            invert(net, y, method="gd", **bad)


def test_registered():
    invert(gaussian_net((2, 6, 12), "identity"), np.zeros(12), method="gd", iterations=1)
    m = REGISTRY["gd"]
    assert m.name == "gd" and m.supports_mask


def test_restarts_at_the_same_minimum_tie_and_the_first_is_kept():
    # A least-squares problem (linear net, signals off its range): every restart converges to the
    # one minimiser, with losses equal up to rounding. Which of them is lowest is rounding noise
    # (and would differ between a signal alone and in a batch), so restart 0 is kept.
    rng = np.random.default_rng(4)
    net = Network([Layer(rng.normal(size=(8, 3)), None, "identity")])
    y = rng.normal(size=(20, 8))
    run = gradient_descent(net, y, rng=np.random.default_rng(0), restarts=3)
    assert run.converged.all() and (run.loss > 0.1).all()
    assert run.restart.tolist() == [0] * 20


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("nan signal", r"signal must be finite; got NaN or Inf at index 2"),
        ("wrong length", r"signal must have length 12 \(the network's output\); got shape \(11,\)"),
        ("mask of halves", r"mask must be boolean or 0/1; got 0.5 at index 0"),
        ("bad option", r"momentum must be a float in \[0, 1\); got 1.5"),
        ("bad init", r"init must be a finite vector of length 2 \(or one per signal\); got \[1.0, 2.0, 3.0\]"),
    ],
)
def test_gradient_descent_validates_at_entry(case, message):
    net = gaussian_net((2, 6, 12), "identity")
    y = net(np.ones(2))[None]
    kwargs = {"rng": np.random.default_rng(0), "iterations": 5}
    if case == "nan signal":
        y = y.copy()
        y[0, 2] = np.nan
    elif case == "wrong length":
        y = y[:, :11]
    elif case == "mask of halves":
        kwargs["mask"] = np.full(12, 0.5)
    elif case == "bad option":
        kwargs["momentum"] = 1.5
    else:
        kwargs["init"] = [1.0, 2.0, 3.0]
    with pytest.raises(InvalidInput, match=message):
        gradient_descent(net, y, **kwargs)


def test_gd_step_grid_is_checked_entry_by_entry():
    net = gaussian_net((2, 6, 12), "identity")
    with pytest.raises(InvalidInput, match=r"step must be a float in \(0, inf\), a list of at least 1 floats in "
                                           r"\(0, inf\) or None; got \[0.1, -1\]"):
        invert(net, net(np.ones(2)), method="gd", step=[0.1, -1])


@pytest.mark.parametrize(("hidden", "out"), [("relu", "plu"), ("leaky_relu:0.1", "relu"), ("relu", "identity")])
def test_affine_fast_path_gives_the_backprop_iterates(monkeypatch, hidden, out):
    # While a row's activation pattern holds, gd iterates with G's affine map on that region
    # (theorychk.solvers.gradient._AffinePieces): same iterations and latents up to rounding as the
    # forward/backward pass, alone and in a batch, with a mask and momentum.
    from theorychk.solvers import gradient as gd

    net = gaussian_net((6, 40, 120), out, seed=12, hidden=hidden)
    zs = np.random.default_rng(3).standard_normal((5, 6))
    y = net(zs)
    mask = np.random.default_rng(4).random(120) < 0.9
    used = []
    real = gd._AffinePieces.__call__

    def spy(self, z, yy, m):
        loss, grad, inside = real(self, z, yy, m)
        used.append(int(inside.sum()))
        return loss, grad, inside

    monkeypatch.setattr(gd._AffinePieces, "__call__", spy)
    runs = {}
    for fast in (True, False):
        monkeypatch.setattr(gd, "_AFFINE_PATH", fast)
        batch = gradient_descent(net, y, mask=mask, rng=np.random.default_rng(0), momentum=0.9, polish=False,
                                 precision="float64")
        singles = [gradient_descent(net, y[i:i + 1], mask=mask, rng=np.random.default_rng(0), init=batch_start,
                                    momentum=0.9, polish=False, precision="float64")
                   for i, batch_start in enumerate(_starts(5, 6))]
        runs[fast] = (batch, singles)
    assert sum(used) > 0  # the fast path ran, inside the regions' balls
    (fb, fs), (pb, ps) = runs[True], runs[False]
    assert fb.converged.all() and pb.converged.all()
    np.testing.assert_array_equal(fb.iterations, pb.iterations)
    np.testing.assert_allclose(fb.latent, pb.latent, rtol=1e-9, atol=0)
    np.testing.assert_allclose(fb.loss, pb.loss, rtol=1e-3, atol=1e-20)
    for f, p in zip(fs, ps, strict=True):
        assert f.converged[0] and f.iterations[0] == p.iterations[0]
        np.testing.assert_allclose(f.latent, p.latent, rtol=1e-9, atol=0)


POLISH_NETS = [((k, n1, n2), out, hidden, seed)
               for seed, (k, n1, n2) in enumerate([(4, 30, 60), (6, 40, 120), (8, 60, 100)])
               for out, hidden in [("plu", "relu"), ("relu", "relu"), ("identity", "leaky_relu:0.1"),
                                   ("leaky_relu:0.2", "relu")]]


def test_polish_solves_as_often_as_plain_gd_and_every_polished_point_is_stationary():
    # polish=True (the default) stops a row at the least-squares point of its current activation
    # pattern once the pattern has held; accepted only where a forward pass there sees the same
    # pattern and the backpropagated gradient meets grad_tol. Against the pure iteration on 12
    # random nets, planted and perturbed signals, momentum 0 and 0.9: as many SOLVED (residual
    # within the signal tolerance, decided by invert_batch), and every polished latent checked
    # here with the plain forward/backward pass: gradient norm <= grad_tol, loss as reported.
    from theorychk.solvers import invert_batch

    solved = {True: 0, False: 0}
    polished = 0
    for widths, out, hidden, seed in POLISH_NETS:
        net = gaussian_net(widths, out, seed=seed, hidden=hidden)
        rng = np.random.default_rng(100 + seed)
        y = net(rng.standard_normal((6, widths[0])))
        y[4:] += 1e-2 * rng.standard_normal((2, widths[-1]))  # not realizable: a stationary point only
        for momentum in (0.0, 0.9):
            for polish in (True, False):
                res = invert_batch(net, y, method="gd", momentum=momentum, polish=polish, seed=seed,
                                   iterations=3000)
                solved[polish] += sum(r.status is InversionStatus.SOLVED for r in res)
                for i, r in enumerate(res):
                    assert r.info["polished"] is (polish and r.info["polished"])
                    if not r.info["polished"]:
                        continue
                    polished += 1
                    loss, grad = _loss_and_gradient(net, r.latent[None], y[i:i + 1], np.ones((1, widths[-1])))
                    assert np.linalg.norm(grad) <= r.info["grad_tol"]
                    assert r.method_status == "SOLVED" and loss[0] == pytest.approx(r.info["loss"], rel=1e-6, abs=1e-28)
    assert polished > 100  # the polish did most of the work
    assert solved[True] >= solved[False] > 80  # 94 each when written


def test_mixed_precision_solves_as_often_as_float64_and_decides_in_float64():
    # precision="mixed" (the default) runs a row's passes in float32 while its residual is large;
    # on the polish test's 12 nets, planted and perturbed signals, momentum 0 and 0.9, with and
    # without the polish: as many SOLVED as precision="float64", every SOLVED latent stationary
    # by the float64 backward pass, and every reported loss the float64 loss at the latent.
    from theorychk.solvers import invert_batch

    solved = {"mixed": 0, "float64": 0}
    for widths, out, hidden, seed in POLISH_NETS:
        net = gaussian_net(widths, out, seed=seed, hidden=hidden)
        rng = np.random.default_rng(100 + seed)
        y = net(rng.standard_normal((6, widths[0])))
        y[4:] += 1e-2 * rng.standard_normal((2, widths[-1]))
        for momentum in (0.0, 0.9):
            for polish in (True, False):
                for precision in ("mixed", "float64"):
                    res = invert_batch(net, y, method="gd", momentum=momentum, polish=polish, seed=seed,
                                       iterations=3000, precision=precision)
                    solved[precision] += sum(r.status is InversionStatus.SOLVED for r in res)
                    if precision == "float64":
                        continue
                    for i, r in enumerate(res):
                        assert r.info["precision"] == "mixed"
                        loss, grad = _loss_and_gradient(net, r.latent[None], y[i:i + 1], np.ones((1, widths[-1])))
                        # equal up to ||r|| times the rounding of the residual (~1e-15 here)
                        assert loss[0] == pytest.approx(r.info["loss"], rel=1e-6, abs=1e-13 * np.sqrt(loss[0]) + 1e-28)
                        if r.method_status == "SOLVED":
                            assert np.linalg.norm(grad) <= 2 * r.info["grad_tol"]
    assert solved["mixed"] >= solved["float64"] > 160


def test_mixed_precision_reports_float64_numbers_for_an_unfinished_row():
    # Cut by the iteration limit while its passes are still float32: the loss and gradient norm
    # reported are the float64 ones at the returned latent, not float32 numbers.
    net = gaussian_net((6, 40, 120), "plu", seed=12)
    y = net(np.random.default_rng(3).standard_normal((4, 6)))
    run = gradient_descent(net, y, rng=np.random.default_rng(0), momentum=0.9, iterations=5)
    assert not run.converged.any()
    loss, grad = _loss_and_gradient(net, run.latent, y, np.ones_like(y))
    np.testing.assert_allclose(run.loss, loss, rtol=1e-12)
    np.testing.assert_allclose(run.grad_norm, np.linalg.norm(grad, axis=1), rtol=1e-12)


def test_mixed_precision_never_stops_a_row_on_float32_numbers():
    # Integer weights and a start 1e-8 from the planted code: in float32 the start rounds to the
    # code and the residual and gradient are exactly 0, in float64 the gradient is ~1e-7. The
    # row must not stop there (it would report a stationary point that is not one).
    w0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]])
    w1 = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0],
                   [0.0, 0.0, 1.0, 1.0], [1.0, -1.0, 0.0, 2.0]])
    net = Network([Layer(w0, None, "relu"), Layer(w1, None, "identity")])
    z = np.array([1.0, 0.5])
    y = net(z)[None]
    start = z + np.array([1e-8, 0.0])
    assert np.array_equal(start.astype(np.float32), z.astype(np.float32))
    for precision in ("mixed", "float64"):
        run = gradient_descent(net, y, rng=np.random.default_rng(0), init=start, precision=precision)
        assert run.converged[0] and run.iterations[0] > 0
        _, grad = _loss_and_gradient(net, run.latent, y, np.ones_like(y))
        assert np.linalg.norm(grad) <= 1e-9
        np.testing.assert_allclose(run.latent[0], z, rtol=0, atol=1e-12)


def _starts(batch, k):
    # gradient_descent's starts for rng=default_rng(0): signal i's first draw
    return np.random.default_rng(0).standard_normal((batch, 1, k))[:, 0]


def test_affine_fast_path_is_skipped_where_it_cannot_pay():
    from theorychk.solvers import gradient as gd

    assert gd._affine_path(gaussian_net((6, 40, 120), "plu"))
    assert not gd._affine_path(gaussian_net((6, 40, 120), "tanh"))  # not piecewise linear
    assert not gd._affine_path(gaussian_net((50, 40, 120), "relu"))  # k >= a width


@pytest.mark.parametrize("spec", ["relu", "leaky_relu:0.1", "plu:0.1:1.0", "plu:0.25:0.5", "identity"])
def test_piece_table_breaks_ties_as_the_derivative(spec):
    # The fast path reads each unit's piece from a per-net table: the piece's slope is the
    # derivative gradient descent uses, at the breakpoints too, and off them the piece is the
    # activation's own region (its value there is slope * pre + offset).
    from theorychk.network import parse_activation
    from theorychk.solvers.gradient import _PieceTable

    act = parse_activation(spec)
    table = _PieceTable(act)
    bps = np.asarray(act.breakpoints, dtype=float)
    pre = np.concatenate([bps, np.nextafter(bps, -np.inf), np.nextafter(bps, np.inf),
                          np.linspace(-3, 3, 61), [-np.inf, np.inf]])
    piece = table.piece(pre)
    np.testing.assert_array_equal(table.slopes[piece], act.derivative(pre))
    off = ~np.isin(pre, bps) & np.isfinite(pre)
    np.testing.assert_array_equal(piece[off], act.region_index(pre[off]))
    slope, offset, margin = table.on_piece(piece, pre)
    np.testing.assert_allclose(slope[off] * pre[off] + offset[off], act(pre[off]), rtol=1e-15, atol=1e-15)
    assert np.all(margin[: bps.size] == 0)
    # the slopes the backward passes use (a cast for ReLU's (0, 1), a look-up otherwise), and
    # the pieces of a float32 pass (its comparisons in float32)
    np.testing.assert_array_equal(table.slope(piece), act.derivative(pre))
    assert table.slope(piece, np.float32).dtype == np.float32
    np.testing.assert_array_equal(table.slope(piece, np.float32), act.derivative(pre).astype(np.float32))
    pre32 = pre.astype(np.float32)
    np.testing.assert_array_equal(table.slopes[table.piece(pre32)], act.derivative(pre32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_of_few_rows_are_each_rows_own(dtype):
    # _times runs 2.._ROWWISE rows as one matrix-vector product each (cheaper than BLAS's packed
    # matrix product there): every row's product is then exactly the one it gets alone
    from theorychk.solvers.gradient import _ROWWISE, _times

    rng = np.random.default_rng(3)
    w = rng.standard_normal((97, 61)).astype(dtype)
    for rows in range(1, _ROWWISE + 3):
        x = rng.standard_normal((rows, 97)).astype(dtype)
        got = _times(x, w)
        assert got.shape == (rows, 61) and got.dtype == dtype
        alone = np.array([v @ w for v in x])
        if rows <= _ROWWISE:
            np.testing.assert_array_equal(got, alone)
        else:
            np.testing.assert_allclose(got, alone, atol=1e-3 if dtype == np.float32 else 1e-11)  # BLAS's rounding
    np.testing.assert_array_equal(_times(x, w.T.T), x @ w)  # strided views too


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_plu_in_two_buffers_is_the_activation(dtype):
    # the iteration's forward passes evaluate PLU in place: the same numbers as PLU.__call__
    from theorychk.network import parse_activation
    from theorychk.solvers.gradient import _activate

    act = parse_activation("plu:0.1:1.0")
    p = np.concatenate([np.linspace(-4, 4, 801), [-1.0, 1.0, np.nextafter(1.0, 2.0), np.inf, -np.inf, np.nan]])
    p = p.astype(dtype).reshape(-1, 3)
    keep = p.copy()
    got = _activate(act, p)
    np.testing.assert_array_equal(got, act(p))
    assert got.dtype == dtype
    np.testing.assert_array_equal(p, keep)  # the pre-activations are left as they were


@pytest.mark.parametrize("shape", [(30, 10), (10, 30), (1, 7), (7, 1), (0, 4)])
def test_spectral_norm_from_the_gram_is_the_svd_norm(shape):
    # default_step takes ||W||_2 from the largest eigenvalue of the smaller Gram matrix (no SVD)
    from theorychk.solvers.gradient import _norm2

    w = np.random.default_rng(sum(shape)).standard_normal(shape)
    want = np.linalg.norm(w, 2) if w.size else 0.0
    assert _norm2(w) == pytest.approx(want, rel=1e-12, abs=0.0)


def test_default_step_norms_are_computed_once_per_net(monkeypatch):
    # A batch inverted in chunks shares the signal-independent norms of default_step (one per layer).
    from theorychk.solvers import gradient as gd

    net = gaussian_net((4, 12, 30), "relu", seed=5)
    y = net(np.random.default_rng(1).standard_normal((6, 4)))
    calls = []
    real = gd._norm2
    monkeypatch.setattr(gd, "_norm2", lambda w: (calls.append(w.shape), real(w))[1])
    first = gradient_descent(net, y[:3], rng=np.random.default_rng(0), iterations=5)
    norms = len(calls)
    gradient_descent(net, y[3:], rng=np.random.default_rng(0), iterations=5)
    assert norms == 2 and len(calls) == norms  # none for the second chunk
    assert first.step == gd.default_step(net, np.ones(30, bool))


def test_a_signal_with_a_cut_restart_is_cut_even_if_the_kept_one_met_the_rule():
    # Alone, the cut restart would have run on and might have ended lower and been kept: the
    # signal's answer is not the one it gets alone, so the method says "time limit" (CI once saw
    # it SOLVED with the kept restart's iterations differing from the signal alone).
    from dataclasses import replace

    from theorychk.errors import Reason
    from theorychk.solvers.gradient import _gd_options, _inversion

    net = gaussian_net((3, 20, 60), "relu", seed=3)
    _, y = planted(net, 0)
    run = gradient_descent(net, y[None], rng=np.random.default_rng(0), restarts=2, iterations=2000)
    assert run.converged[0] and not run.cut[0]
    opts = _gd_options({"restarts": 2})
    assert _inversion((run, 0), [(run, 0)], opts).status is InversionStatus.SOLVED
    cut = _inversion((replace(run, cut=np.array([True])), 0), [(run, 0)], opts)
    assert (cut.status, cut.reason) == (InversionStatus.UNKNOWN, Reason.TIME_LIMIT)
    assert cut.latent is not None  # the estimate so far
