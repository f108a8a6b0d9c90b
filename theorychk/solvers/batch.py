"""Many signals of one network: shared set-up, worker processes, results as they finish.

:func:`invert_stream` validates the method, mask, noise level and network once
(:func:`~theorychk.solvers.base.prepare`) and every signal before any work, then inverts the
signals in this process (``workers=1``), in worker processes, or on a Dask cluster, yielding
``(index, Inversion)`` as each finishes. :func:`~theorychk.solvers.invert_batch` collects them in
signal order.

Seeds
-----
Signal ``i`` is inverted with ``default_rng(SeedSequence(seed).spawn(batch)[i])`` wherever it
runs, so the results do not depend on ``workers`` nor on the order signals finish in, and a
signal re-run alone (``invert(net, Y[i], seed=default_rng(child_i))``) reproduces.

Batched methods
---------------
A method with a vectorised form (:class:`~theorychk.solvers.base.BatchedMethod`: ``latent``,
``gd``) inverts a whole chunk of signals in one call (:meth:`Prepared.run_many
<theorychk.solvers.base.Prepared.run_many>`): one numpy product per iteration for the chunk
instead of one per signal, the set-up (options, step sizes) once. Its steps, stopping rules and
random draws are per signal, so signal ``i`` still gets what it gets alone, whatever the
chunking and ``workers``: the same status, and when its stopping rule was met (SOLVED) the same
iteration counts and the same latent up to the rounding of the batched products (BLAS rounds a
product of one row differently from one of many; measured at 1e-15 relative; the same holds for
its hidden layers and residuals, computed in one forward pass over the chunk's rows). A signal that
runs to an iteration cap keeps its status, but an iteration that amplifies rounding (a gd step
too large, oscillating) can end elsewhere -- as it would on another CPU. The time limit is per
signal (:class:`~theorychk.runtime.RowBudget`: each signal is charged its share of the chunk's
wall time, which is also its ``elapsed``). Their chunks are larger (:data:`_BATCH_ROWS`, or the
method's own ``batch_rows``), as the call's speed per signal grows with its size; the other methods run signal by signal and stream
each result.

Threads
-------
Small dense linear algebra runs single-threaded inside the batch (here and in the workers)
unless the user set a BLAS thread variable: see :func:`theorychk.runtime.single_threaded_blas`.
The workers of a process pinned before its BLAS loaded (the ``theorychk`` command,
:func:`~theorychk.runtime.pin_blas_at_start`) inherit that; a library caller's are limited with
threadpoolctl when they start (:func:`_init_worker`).

Workers
-------
Worker processes are forked where the platform allows it and this process has not made a HiGHS
instance yet (a forked copy of HiGHS's thread scheduler has no threads: a forked MILP idled until
its time limit, see ``theorychk/experiments/sweep.py``); otherwise they are spawned and import
theorychk afresh, which costs a few tenths of a second each. Each worker receives the network
once (pool initializer); signals travel in chunks.

With ``workers="auto"`` (the CLI without ``--workers``) the batch decides for itself whether
workers pay (:class:`Stream`). ``W`` is the cores free (:func:`theorychk.runtime.free_cores`:
the cores less the other jobs' load); with one free it runs here. Otherwise this process
inverts the first chunk and times it per signal, then starts one probe worker process (same
start method and initializer as the pool's, no work) and times it. Workers start only if
``B * startup + rest / B < rest`` -- the remaining signals' estimated time ``rest`` spread over
the ``B = min(W, chunks left)`` workers that get a chunk, plus ``B`` start-ups, beats finishing
them here. A batch that makes only two chunks (a batched method's batch of up to ``W`` times its
``batch_rows`` on two cores: 200 signals of ``gd``) would leave one chunk for one worker, which
cannot pay: it runs here at once, in the fewest calls, without the probe (issue 18: on two free
cores 200 ``gd`` signals took 2.0 s CPU and 2.6 s wall in two chunks, here and then in one
worker, against 1.7 and 2.2 s in one call). The decision and its numbers are on the stream (``workers``,
``workers_reason``), and in the CLI's JSON.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from theorychk._validation import POSITIVE_INT, check
from theorychk.network import Network
from theorychk.solvers.base import Inversion, Prepared, prepare, validate_signals
from theorychk.runtime import DEFAULT_TIME_LIMIT

if TYPE_CHECKING:  # the pool's modules are imported where a batch starts workers
    import multiprocessing.context

__all__ = ["invert_stream", "signal_seeds", "validate_signals", "processes_used", "Stream"]

#: chunks per worker: small enough to balance uneven signals and move the progress bar,
#: large enough that pickling per chunk stays negligible next to the inversions
_CHUNKS_PER_WORKER = 8

#: signals per chunk a batched method gets when there are enough (fewer chunks per worker): on
#: the 20-128-392-784 net of benchmarks/bench_latent_pursuit.py, latent_pursuit took 162, 126,
#: 74, 57 and 42 ms per signal in calls of 1, 2, 5, 10 and 20 signals (one thread, load 3 on
#: 2 shared cores, issue 18); over 200 signals in calls of 32 / 64 / 100 / 200, gd (momentum 0.9)
#: took 16.1 / 13.0 / 12.7 / 13.6 ms CPU per signal and latent 0.71 / 0.69 / - / 0.65. A
#: method may ask for another size (its ``batch_rows``): gd does, see GradientDescent.batch_rows
_BATCH_ROWS = 64


def signal_seeds(seed: int | np.random.Generator | None, n: int) -> list[np.random.SeedSequence]:
    """One child seed per signal (see the module docstring); a Generator seeds through ``spawn``."""
    if isinstance(seed, np.random.Generator):
        return [g.bit_generator.seed_seq for g in seed.spawn(n)]  # type: ignore[misc]
    return np.random.SeedSequence(seed).spawn(n)


# --------------------------------------------------------------------------------------------
# Worker side (module-level functions: they are pickled by reference)
# --------------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(prepared: Prepared, limit: bool) -> None:
    if limit:  # see _stream: only when this process's threads were not pinned before BLAS loaded
        from threadpoolctl import threadpool_limits

        _WORKER["limits"] = threadpool_limits(limits=1)  # kept alive for the worker's life
    _WORKER["prepared"] = prepared


def _run_chunk(
    prepared: Prepared, indices: list[int], rows: np.ndarray, seeds: list[np.random.SeedSequence]
) -> list[tuple[int, Inversion]]:
    results = prepared.run_many(rows, [np.random.default_rng(s) for s in seeds])
    return list(zip(indices, results, strict=True))


def _worker_chunk(indices: list[int], rows: np.ndarray, seeds: list[np.random.SeedSequence]) -> list[tuple[int, Inversion]]:
    return _run_chunk(_WORKER["prepared"], indices, rows, seeds)


def _dask_chunk(params: dict[str, Any], seed: int) -> list[tuple[int, Inversion]]:
    # The sweep engine's task signature; ``seed`` is unused (each signal carries its own).
    from theorychk.runtime import single_threaded_blas

    with single_threaded_blas():
        return _run_chunk(params["prepared"], params["indices"], params["rows"], params["seeds"])


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    from theorychk import _highs

    if sys.platform.startswith("linux") and not _highs.instances_made():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def processes_used(n: int, workers: int) -> int:
    """Worker processes a local batch of ``n`` signals starts: none (1: this process) unless there
    are at least two signals per worker — starting processes costs more than a few inversions."""
    return workers if workers > 1 and n >= 2 * workers else 1


def _batch_rows(prepared: Prepared) -> int | None:
    """Signals per chunk of a batched method (its ``batch_rows``, else :data:`_BATCH_ROWS`);
    ``None`` for a method that runs signal by signal."""
    if not prepared.batched:
        return None
    return getattr(prepared.impl, "batch_rows", None) or _BATCH_ROWS


def _chunks(n: int, workers: int, batch_rows: int | None = None) -> list[list[int]]:
    """Consecutive index chunks: ``_CHUNKS_PER_WORKER`` per worker, or for a batched method
    (``batch_rows`` given) up to ``batch_rows`` signals each while every worker still gets a chunk."""
    size = max(1, math.ceil(n / (workers * _CHUNKS_PER_WORKER)))
    if batch_rows is not None:
        size = max(size, min(batch_rows, math.ceil(n / workers)))
    return [list(range(a, min(n, a + size))) for a in range(0, n, size)]


def invert_stream(
    net: Network,
    signals: object,
    *,
    method: str = "linf",
    mask: object | None = None,
    noise: float | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | np.random.Generator | None = None,
    workers: int | str = 1,
    dask: Any = None,
    signal_tol: float | None = None,
    **options: Any,
) -> Stream:
    """Invert every row of ``signals``; yield ``(row index, Inversion)`` as each finishes.

    Parameters
    ----------
    net, method, mask, noise, time_limit, signal_tol, **options
        As for :func:`~theorychk.solvers.invert` (``time_limit`` is per signal).
    signals : array ``(batch, n_L)``
    seed : int, Generator or None
        Seeds one child per signal (module docstring): results do not depend on ``workers``.
    workers : int or "auto"
        Processes to spread the batch over; 1 (default) inverts here, in order, and so does a
        batch of fewer than two signals per worker (:func:`processes_used`). ``"auto"``: up to
        the cores, if the first chunk's measured time says they pay (module docstring).
    dask : str or distributed.Client, optional
        Run the chunks on this Dask cluster instead (``workers`` then only sizes the chunks).

    Everything is validated before the first inversion, so a bad signal or option fails at
    once. Small dense linear algebra runs single-threaded unless the user set a BLAS thread
    variable (:func:`theorychk.runtime.single_threaded_blas`).

    Examples
    --------
    >>> import numpy as np
    >>> from theorychk.network import Layer, Network
    >>> net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu")])
    >>> Y = np.array([net.forward(np.array([1.0, 2.0])), net.forward(np.array([3.0, 1.0]))])
    >>> sorted((i, r.latent.round(9).tolist()) for i, r in invert_stream(net, Y))
    [(0, [1.0, 2.0]), (1, [3.0, 1.0])]
    """
    auto = workers == "auto"
    free = ""
    if auto:
        from theorychk.runtime import default_workers, free_cores

        workers, free = free_cores() if dask is None else (default_workers(), "")
    workers = check("workers", workers, [POSITIVE_INT])
    prepared = prepare(net, method=method, mask=mask, noise=noise, time_limit=time_limit, options=options,
                       signal_tol=signal_tol)
    arr = validate_signals(net, signals)
    seeds = signal_seeds(seed, arr.shape[0])
    return Stream(prepared, arr, seeds, workers, dask, auto=auto and dask is None, free=free)


class Stream:
    """The ``(index, Inversion)`` pairs of :func:`invert_stream`, and how they were computed:
    ``workers`` (processes that inverted) and ``workers_reason`` (why), set once decided."""

    def __init__(self, prepared: Prepared, arr: np.ndarray, seeds: list[np.random.SeedSequence], workers: int,
                 dask: Any, *, auto: bool = False, free: str = "") -> None:
        n = arr.shape[0]
        if dask is not None:
            self.workers, self.workers_reason = workers, "dask"
        elif processes_used(n, workers) == 1:
            self.workers = 1
            self.workers_reason = (f"auto: {free}" if auto and workers == 1 else "asked for 1" if workers == 1 else
                                   f"{n} signal(s): fewer than 2 per worker for {workers} workers")
        else:
            self.workers, self.workers_reason = workers, ("auto: deciding after the first chunk" if auto
                                                          else f"asked for {workers}")
        self._it = _stream(self, prepared, arr, seeds, self.workers, dask, auto)

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> tuple[int, Inversion]:
        return next(self._it)

    def close(self) -> None:
        self._it.close()


def _startup_seconds(prepared: Prepared, limit: bool) -> float:
    """Wall time to start one worker process as the pool would (its initializer included) and see it exit."""
    t0 = time.perf_counter()
    proc = _context().Process(target=_probe_worker, args=(prepared, limit))
    proc.start()
    proc.join()
    return time.perf_counter() - t0


def _probe_worker(prepared: Prepared, limit: bool) -> None:
    _init_worker(prepared, limit)


def _stream(
    stream: Stream, prepared: Prepared, arr: np.ndarray, seeds: list[np.random.SeedSequence], workers: int,
    dask: Any, auto: bool,
) -> Iterator[tuple[int, Inversion]]:
    from theorychk import runtime

    n = arr.shape[0]
    with runtime.single_threaded_blas() as pinned:
        if dask is not None:
            yield from _on_dask(prepared, arr, seeds, workers, dask)
            return
        chunks = _chunks(n, workers, _batch_rows(prepared))
        if auto and workers > 1 and len(chunks) <= 2:
            # the first chunk runs here, timed, before any worker could start: one chunk left
            # for them can only add a start-up (and two chunks cost a batched method more than
            # one call): this process, in the fewest calls
            stream.workers_reason = (f"auto: 1 process -- {n} signals make 2 chunks for {workers} workers; with "
                                     "the first timed here one would be left for them: they cannot pay")
            workers = stream.workers = 1
        if workers == 1:
            if not prepared.batched:
                for i in range(n):
                    yield i, prepared.run(arr[i], np.random.default_rng(seeds[i]))
                return
            for c in _chunks(n, 1, _batch_rows(prepared)):
                yield from _run_chunk(prepared, c, arr[c], [seeds[i] for i in c])
            return
        # Workers limit their BLAS threads (threadpoolctl, in their initializer) only when this
        # process was not pinned before its BLAS loaded (the library, not the command): the
        # command's workers inherit its pinned variables (spawn: read when their BLAS loads) or
        # its single-threaded libraries (fork), and the import and call would be spent for nothing.
        limit = pinned and runtime._single_threaded_since_start() is None
        if auto:
            # this process inverts the first chunk, timed, then the rule of the module docstring
            t0 = time.perf_counter()
            first = chunks.pop(0)
            yield from _run_chunk(prepared, first, arr[first], [seeds[i] for i in first])
            per_signal = (time.perf_counter() - t0) / len(first)
            rest = per_signal * (n - len(first))
            startup = _startup_seconds(prepared, limit)
            busy = min(workers, len(chunks))  # the pool's processes that get a chunk
            pay = busy * startup + rest / busy < rest
            numbers = (f"first {len(first)} signal(s) here took {1e3 * per_signal:.3g} ms each, so the other "
                       f"{n - len(first)} about {rest:.3g} s; starting a worker took {startup:.3g} s (measured)")
            if not pay:
                stream.workers = 1
                stream.workers_reason = f"auto: 1 process -- {numbers}: {busy} worker(s) would not pay"
                for c in chunks:
                    yield from _run_chunk(prepared, c, arr[c], [seeds[i] for i in c])
                return
            stream.workers, stream.workers_reason = busy, f"auto: {busy} workers -- {numbers}: they pay"
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait  # ~10 ms: only with workers

        with ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)), mp_context=_context(),
            initializer=_init_worker, initargs=(prepared, limit),
        ) as pool:
            # Keep two chunks per worker in flight: enough to never idle, few enough that an
            # interrupted batch stops soon.
            todo = iter(chunks)
            pending = set()
            for c in todo:
                pending.add(pool.submit(_worker_chunk, c, arr[c], [seeds[i] for i in c]))
                if len(pending) >= 2 * workers:
                    break
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield from fut.result()
                        c = next(todo, None)
                        if c is not None:
                            pending.add(pool.submit(_worker_chunk, c, arr[c], [seeds[i] for i in c]))
            finally:
                for fut in pending:
                    fut.cancel()


def _on_dask(
    prepared: Prepared, arr: np.ndarray, seeds: list[np.random.SeedSequence], workers: int, dask: Any
) -> Iterator[tuple[int, Inversion]]:
    # The sweep engine's Dask path: one task per chunk, results as they complete.
    from theorychk.experiments.sweep import Task, _engine_iter

    tasks = [
        Task(g, 0, {"prepared": prepared, "indices": c, "rows": arr[c], "seeds": [seeds[i] for i in c]}, 0)
        for g, c in enumerate(_chunks(arr.shape[0], workers, _batch_rows(prepared)))
    ]
    for _, results in _engine_iter("dask", _dask_chunk, tasks, workers, dask):
        yield from results
