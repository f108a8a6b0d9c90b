"""invert_batch / invert_stream: shared set-up, seeds independent of workers, errors before work,
batched methods equal to one signal at a time."""

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import InversionStatus, invert, invert_batch, invert_stream
from theorychk.solvers import batch as batch_module
from theorychk.solvers.base import prepare
from theorychk.solvers.batch import processes_used, signal_seeds
from theorychk.solvers.gradient import GradientDescent
from theorychk.solvers.pursuit import LatentPursuit


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(3)
    net = Network([Layer(rng.normal(size=(30, 5)) / 5, None, "relu"), Layer(rng.normal(size=(60, 30)) / 8, None, "relu")])
    z = rng.normal(size=(10, 5))
    return net, z, np.array([net.forward(v) for v in z])


def test_batch_equals_one_signal_at_a_time(planted):
    net, z, y = planted
    batch = invert_batch(net, y, method="linf")
    for i, r in enumerate(batch):
        single = invert(net, y[i], method="linf")
        assert r.status == single.status
        np.testing.assert_array_equal(r.latent, single.latent)
    assert all(r.solved for r in batch)
    np.testing.assert_allclose(np.array([r.latent for r in batch]), z, atol=1e-7)


@pytest.mark.parametrize("seed", [5, "generator"])
def test_workers_do_not_change_results_of_a_randomised_method(planted, seed):
    net, _, y = planted

    def run(workers):
        s = np.random.default_rng(5) if seed == "generator" else seed
        return invert_batch(net, y, method="gd", seed=s, workers=workers, iterations=300)

    one, two = run(1), run(2)
    for a, b in zip(one, two, strict=True):
        # gd is batched: its chunks differ with workers, and BLAS rounds a product of many rows
        # differently from one of a few -- equal up to that rounding: float64's for a signal
        # that stopped (at its region's least-squares point, or on the gradient norm), float32's
        # (precision="mixed") for one the iteration limit cut while still far from its signal
        assert a.status == b.status
        rtol = 1e-9 if a.method_status == "SOLVED" else 1e-6
        np.testing.assert_allclose(a.latent, b.latent, rtol=rtol, atol=0)


def test_stream_yields_every_index_once(planted):
    net, _, y = planted
    got = sorted(i for i, _ in invert_stream(net, y, workers=2))
    assert got == list(range(len(y)))


def test_a_bad_row_fails_before_any_work_and_is_named(planted):
    net, _, y = planted
    bad = y.copy()
    bad[7, 3] = np.nan
    with pytest.raises(InvalidInput, match=r"signal 7 must be finite; got NaN or Inf at index 3"):
        invert_stream(net, bad)  # raises at the call, not on iteration
    with pytest.raises(InvalidInput, match=r"signal 0 must have length 60"):
        invert_batch(net, y[:, :5])
    with pytest.raises(InvalidInput, match=r"workers must be an int in \[1, inf\); got 0"):
        invert_batch(net, y, workers=0)


def test_processes_used():
    assert [processes_used(n, 2) for n in (1, 3, 4, 200)] == [1, 1, 2, 2]
    assert processes_used(200, 1) == 1


def test_dask_cluster_gives_the_same_results(planted):
    distributed = pytest.importorskip("distributed")
    net, _, y = planted
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = invert_batch(net, y, method="gd", seed=4, iterations=200, dask=client)
    here = invert_batch(net, y, method="gd", seed=4, iterations=200)
    for a, b in zip(here, on_dask, strict=True):
        np.testing.assert_allclose(a.latent, b.latent, rtol=1e-9, atol=0)  # other chunks: rounding


# --------------------------------------------------------------------------------------------
# Batched methods (latent, gd): one vectorised call per chunk, each signal as if alone
# --------------------------------------------------------------------------------------------

#: method, options: latent as the paper runs it (a lower cap: rows that do not converge reach it
#: sooner) and with debiasing; gd with two restarts drawn per signal and a step grid (a signal
#: moves on to the next step alone, drawing again from its own generator)
LATENT = ("latent", {"iterations": 2000})
LATENT_DEBIAS = ("latent", {"iterations": 2000, "debias": True})
GD = ("gd", {"iterations": 1500, "restarts": 2, "step": [0.01, 0.1]})


def _net(output: str, seed: int) -> Network:
    rng = np.random.default_rng(seed)
    widths = (3, 15, 45, 120)  # expansive enough that most planted signals converge quickly
    return Network([
        Layer(rng.normal(size=(widths[i + 1], widths[i])) / np.sqrt(widths[i]),
              0.1 * rng.normal(size=widths[i + 1]), "relu" if i < 2 else output)
        for i in range(3)
    ])


def _alone(net, y, method, opts, seed):
    """Each signal inverted alone with its child generator: what the batch must reproduce."""
    seeds = signal_seeds(seed, len(y))
    return [invert(net, row, method=method, seed=np.random.default_rng(s), **opts)
            for row, s in zip(y, seeds, strict=True)]


def assert_same_as_alone(batch, alone):
    for i, (r, s) in enumerate(zip(batch, alone, strict=True)):
        assert (r.status, r.reason) == (s.status, s.reason), i
        if s.solved:  # stopped by its rule: the same iterations, the same point up to rounding
            assert r.counts == s.counts, i
            np.testing.assert_allclose(r.latent, s.latent, rtol=1e-9, atol=1e-300, err_msg=str(i))
            np.testing.assert_allclose(r.residual_l2, s.residual_l2, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(("output", "method", "opts"), [
    ("plu", *LATENT), ("tanh", *LATENT), ("relu", *LATENT),  # FISTA last layer; ADMM for a ReLU output
    ("tanh", *LATENT_DEBIAS), ("relu", *LATENT_DEBIAS),  # Gauss-Newton; least squares
    ("plu", *GD), ("tanh", *GD),
], ids=["latent-plu", "latent-tanh", "latent-relu", "debias-tanh", "debias-relu", "gd-plu", "gd-tanh"])
def test_batched_method_equals_each_signal_alone(output, method, opts, monkeypatch):
    net = _net(output, seed=0)
    rng = np.random.default_rng(1)
    y = net(rng.normal(size=(9, 3)))
    if output == "tanh":  # noise on every other signal: those end UNKNOWN at a cap in latent
        y[::2] = np.clip(y[::2] + 1e-3 * rng.normal(size=y[::2].shape), -0.999, 0.999)
    alone = _alone(net, y, method, opts, seed=7)
    assert sum(r.solved for r in alone) >= 2  # the comparison below is not vacuous
    for workers, rows in ((1, 32), (1, 4), (2, 2)):  # chunks of 9; of 4, 4, 1; of 2, 2, 2, 2, 1
        _chunk_rows(monkeypatch, rows)
        assert_same_as_alone(invert_batch(net, y, method=method, seed=7, workers=workers, **opts), alone)


def _chunk_rows(monkeypatch, rows):
    # chunks of `rows` signals for every batched method (gd asks for its own size)
    monkeypatch.setattr(batch_module, "_BATCH_ROWS", rows)
    monkeypatch.setattr(GradientDescent, "batch_rows", rows)


def test_gd_chunks_are_its_own_size(planted):
    # gd's float32 products get cheaper per signal in larger calls: its chunks are batch_rows, not
    # the default _BATCH_ROWS; the other batched methods keep the default
    net, _, _ = planted
    assert batch_module._batch_rows(prepare(net, method="gd")) == GradientDescent.batch_rows > batch_module._BATCH_ROWS
    assert batch_module._batch_rows(prepare(net, method="latent")) == batch_module._BATCH_ROWS
    assert batch_module._batch_rows(prepare(net, method="linf")) is None
    assert [len(c) for c in batch_module._chunks(600, 1, GradientDescent.batch_rows)] == [256, 256, 88]


@pytest.mark.parametrize(("method", "impl"), [("latent", LatentPursuit), ("gd", GradientDescent)])
def test_a_chunk_is_one_batched_call(planted, method, impl, monkeypatch):
    net, _, y = planted
    calls = []
    original = impl.run_batch

    def spy(self, problems):
        calls.append(problems.y.shape[0])
        return original(self, problems)

    monkeypatch.setattr(impl, "run_batch", spy)
    _chunk_rows(monkeypatch, 4)
    opts = {"iterations": 300} if method == "gd" else {}
    invert_batch(net, y, method=method, seed=1, **opts)
    assert calls == [4, 4, 2]  # ten signals, chunks of four: three calls, not ten
    assert prepare(net, method=method).batched and not prepare(net, method="linf").batched


@pytest.mark.parametrize(("method", "opts"), [LATENT, GD], ids=["latent", "gd"])
def test_tiny_time_limit_stops_every_row_unknown(planted, method, opts, fake_clock):
    fake_clock.step = 1.0  # each look at the clock moves it a second: past the limit at once, on any machine
    net, _, y = planted
    for r in invert_batch(net, y, method=method, seed=3, time_limit=1e-9, **opts):
        assert (r.status, r.reason) == (InversionStatus.UNKNOWN, "time limit")
        if method == "gd":  # it stops where it is: its start, never a guess
            assert r.latent is not None and r.counts["iterations"] == 0
        else:  # stopped in the first stage: no latent yet, and the stage is named
            assert r.latent is None and r.info["stage"] == "x_1" and list(r.counts) == ["x_1"]


@pytest.mark.parametrize(("method", "opts"), [LATENT, GD], ids=["latent", "gd"])
def test_a_time_limit_per_signal_never_solves_what_alone_would_not(method, opts):
    # Where the limit falls depends on the machine; what may not: a row the method calls solved
    # is as it is alone (same point, same iterations); a row it cut says "time limit" and is
    # UNKNOWN, or SOLVED only by the central rule (its estimate reproduces y within signal_tol).
    # gd: a signal whose kept restart met the rule while another restart was cut is cut (CI once
    # saw it SOLVED with the other restart's iterations missing: alone, that restart was kept).
    net = _net("plu", seed=2)
    y = net(np.random.default_rng(5).normal(size=(12, 3)))
    alone = _alone(net, y, method, opts, seed=9)
    limited = invert_batch(net, y, method=method, seed=9, time_limit=0.002, **opts)
    for r, s in zip(limited, alone, strict=True):
        if r.reason == "time limit":
            assert r.method_status == InversionStatus.UNKNOWN.value
            assert r.status is InversionStatus.UNKNOWN or (
                r.status is InversionStatus.SOLVED and r.residual_l2 <= r.signal_tol)
        else:
            assert_same_as_alone([r], [s])


@pytest.mark.parametrize(("startup", "workers", "words"), [
    (1e6, 1, "auto: 1 process -- first"), (0.0, 2, "auto: 2 workers -- first"),
])
def test_auto_workers_start_only_when_the_measured_startup_pays(planted, monkeypatch, startup, workers, words):
    # The decision rule, with the measured start-up replaced: huge -> finish here; free -> workers.
    # Either way the results are the ones of workers=1 (up to gd's batched rounding).
    from theorychk.solvers.gradient import GradientDescent

    net, _, y = planted
    monkeypatch.setattr("theorychk.runtime.free_cores", lambda: (2, "2 of 2 core(s) free at load average 0.00"))
    monkeypatch.setattr(batch_module, "_startup_seconds", lambda prepared, pinned: startup)
    monkeypatch.setattr(GradientDescent, "batch_rows", 2)  # 5 chunks: after the first, work for 2 workers
    stream = invert_stream(net, y, method="gd", seed=3, iterations=200, workers="auto")
    assert stream.workers_reason.startswith("auto: deciding")
    got = dict(stream)
    assert stream.workers == workers and stream.workers_reason.startswith(words), stream.workers_reason
    assert "ms each" in stream.workers_reason and "(measured)" in stream.workers_reason
    ref = dict(invert_stream(net, y, method="gd", seed=3, iterations=200, workers=1))
    assert sorted(got) == list(range(len(y)))
    for i, r in ref.items():
        # float32's rounding for a signal the iteration limit cut (precision="mixed"; see above)
        np.testing.assert_allclose(got[i].latent, r.latent, rtol=1e-9 if r.method_status == "SOLVED" else 1e-6, atol=0)


def test_auto_counts_only_the_workers_that_get_a_chunk(planted, monkeypatch):
    # 4 free cores, 4 chunks of gd signals: after the first (here) 3 are left, so a pool of 3
    from theorychk.solvers.gradient import GradientDescent

    net, _, y = planted
    monkeypatch.setattr("theorychk.runtime.free_cores", lambda: (4, "4 of 4 core(s) free at load average 0.00"))
    monkeypatch.setattr(batch_module, "_startup_seconds", lambda prepared, pinned: 0.0)
    monkeypatch.setattr(GradientDescent, "batch_rows", 3)
    assert len(batch_module._chunks(len(y), 4, 3)) == 4
    stream = invert_stream(net, y, method="gd", seed=3, iterations=50, workers="auto")
    assert sorted(dict(stream)) == list(range(len(y)))
    assert stream.workers == 3 and stream.workers_reason.startswith("auto: 3 workers -- first 3 signal(s)")


def test_auto_runs_a_batch_of_two_chunks_here_in_one_call(planted, monkeypatch):
    # Two chunks (10 gd signals, 2 free cores): the first would run here, timed, and leave one
    # chunk for one worker, which cannot pay -- so no probe, and one call for the whole batch.
    net, _, y = planted
    monkeypatch.setattr("theorychk.runtime.free_cores", lambda: (2, "2 of 2 core(s) free at load average 0.00"))
    monkeypatch.setattr(batch_module, "_startup_seconds", lambda prepared, pinned: pytest.fail("probed"))
    calls = []
    real = batch_module._run_chunk
    monkeypatch.setattr(batch_module, "_run_chunk", lambda p, idx, rows, seeds: (calls.append(len(idx)),
                                                                                  real(p, idx, rows, seeds))[1])
    assert len(batch_module._chunks(len(y), 2, 256)) == 2
    stream = invert_stream(net, y, method="gd", seed=3, iterations=200, workers="auto")
    got = dict(stream)
    assert calls == [len(y)]
    assert stream.workers == 1
    assert stream.workers_reason == ("auto: 1 process -- 10 signals make 2 chunks for 2 workers; with the first "
                                     "timed here one would be left for them: they cannot pay")
    ref = dict(invert_stream(net, y, method="gd", seed=3, iterations=200, workers=1))
    for i, r in ref.items():
        np.testing.assert_array_equal(got[i].latent, r.latent)  # the same call: the same numbers


def test_explicit_workers_are_obeyed_and_say_so(planted, monkeypatch):
    net, _, y = planted
    monkeypatch.setattr(batch_module, "_startup_seconds", lambda prepared, pinned: pytest.fail("probed"))
    stream = invert_stream(net, y, method="gd", seed=3, iterations=50, workers=2)
    assert len(dict(stream)) == len(y)
    assert (stream.workers, stream.workers_reason) == (2, "asked for 2")
    small = invert_stream(net, y[:3], method="gd", seed=3, iterations=50, workers=2)
    assert (small.workers, small.workers_reason) == (1, "3 signal(s): fewer than 2 per worker for 2 workers")


def test_startup_probe_measures_a_real_worker(planted):
    net, _, _ = planted
    assert batch_module._startup_seconds(prepare(net, method="gd"), False) > 0


def test_auto_workers_run_here_when_one_core_is_free(planted, monkeypatch):
    # Other jobs hold all cores but one: no worker is probed or started, and the reason says why.
    from theorychk import runtime

    net, _, y = planted
    monkeypatch.setattr(runtime, "default_workers", lambda: 2)
    monkeypatch.setattr(runtime.os, "getloadavg", lambda: (1.6, 1.0, 0.5))
    monkeypatch.setattr(batch_module, "_startup_seconds", lambda prepared, pinned: pytest.fail("probed"))
    stream = invert_stream(net, y, method="gd", seed=3, iterations=50, workers="auto")
    assert len(dict(stream)) == len(y)
    assert (stream.workers, stream.workers_reason) == (1, "auto: 1 of 2 core(s) free at load average 1.60")
    assert runtime.free_cores(load=0.4) == (2, "2 of 2 core(s) free at load average 0.40")


# --------------------------------------------------------------------------------------------
# BLAS threads in the workers
# --------------------------------------------------------------------------------------------


class _InlinePool:
    """ProcessPoolExecutor's interface, run here: the initializer at once, each chunk at submit."""

    made: list[tuple] = []

    def __init__(self, max_workers, mp_context, initializer, initargs):
        _InlinePool.made.append(initargs)
        initializer(*initargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        import concurrent.futures

        fut = concurrent.futures.Future()
        fut.set_result(fn(*args))
        return fut


@pytest.mark.parametrize(("how", "limited"), [("pinned at start", False), ("library", True), ("user threads", False)])
def test_workers_limit_blas_threads_only_when_this_process_was_not_pinned_at_start(planted, monkeypatch, how,
                                                                                  limited):
    # the command pinned BLAS before it loaded: its workers inherit that (the variables, or the
    # forked single-threaded libraries), so neither the probe nor the pool's initializer calls
    # threadpoolctl; a library caller's batch limits them; a user's thread variable wins
    import concurrent.futures
    import contextlib
    import sys

    import threadpoolctl

    from theorychk import runtime

    net, _, y = planted
    for v in (*runtime.BLAS_THREAD_VARIABLES, runtime.PINNED_BY_THEORYCHK):
        monkeypatch.delenv(v, raising=False)
    if how == "pinned at start":
        runtime.pin_blas_at_start()  # monkeypatch restores the variables
        monkeypatch.setattr(runtime, "_single_threaded_since_start", lambda: {"blas": 1, "openmp": None})
    elif how == "user threads":
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    calls = []  # the worker initializer's calls (a library caller's batch limits this process too)

    def limits(**kw):
        if sys._getframe(1).f_code.co_name == "_init_worker":
            calls.append(kw)
        return contextlib.nullcontext()

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", limits)
    monkeypatch.setattr(batch_module, "_WORKER", {})
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _InlinePool)
    monkeypatch.setattr(_InlinePool, "made", [])
    probed = []
    monkeypatch.setattr(batch_module, "_startup_seconds", lambda prepared, limit: (probed.append(limit), 0.0)[1])
    monkeypatch.setattr("theorychk.runtime.free_cores", lambda: (2, "2 of 2 core(s) free at load average 0.00"))
    monkeypatch.setattr(GradientDescent, "batch_rows", 2)
    stream = invert_stream(net, y, method="gd", seed=3, iterations=50, workers="auto")
    assert sorted(dict(stream)) == list(range(len(y)))
    assert stream.workers == 2
    assert probed == [limited] and [args[1] for args in _InlinePool.made] == [limited]
    assert calls == ([{"limits": 1}] if limited else [])


_WORKER_THREADS = """
import json, os, sys
from theorychk import runtime
runtime.pin_blas_at_start()  # as entry() does before numpy loads (batch, imported here to patch it, loads it)
from theorychk.solvers import batch
parent, real = os.getpid(), batch._run_chunk
def run_chunk(*args):
    if os.getpid() != parent:  # a worker: what it runs with
        with open("workers.jsonl", "a") as f:
            f.write(json.dumps({"blas": runtime._thread_counts()["blas"], "limited": "limits" in batch._WORKER}) + "\\n")
    return real(*args)
batch._run_chunk = run_chunk
sys.argv = ["theorychk", "invert", "net.npz", "--signal", "y.npy", "--method", "gd", "--workers", "2", "--json"]
from theorychk.cli import entry
entry()
"""


@pytest.mark.parametrize("user", [{}, {"OPENBLAS_NUM_THREADS": "2"}], ids=["command", "OPENBLAS_NUM_THREADS=2"])
def test_the_commands_workers_run_one_blas_thread_without_limiting_it(planted, tmp_path, user):
    # `theorychk invert --workers 2` in a fresh process (the console script's entry()): the workers
    # run one BLAS thread, inherited from the command's pinning, not limited again; a user's
    # thread variable wins there too
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from theorychk.io import save_network
    from theorychk.runtime import BLAS_THREAD_VARIABLES, PINNED_BY_THEORYCHK

    net, _, y = planted
    save_network(net, tmp_path / "net.npz")
    np.save(tmp_path / "y.npy", y)
    env = {k: v for k, v in os.environ.items() if k not in (*BLAS_THREAD_VARIABLES, PINNED_BY_THEORYCHK)}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-c", _WORKER_THREADS], env={**env, **user}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["runtime"]["workers"] == 2
    seen = [json.loads(line) for line in (tmp_path / "workers.jsonl").read_text().splitlines()]
    assert seen and all(s == {"blas": 1 if not user else 2, "limited": False} for s in seen), seen
