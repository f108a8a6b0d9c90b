"""Time limits, progress, and how batches use the machine.

Long computations take a :class:`Deadline` and check it at natural break points; when it has
passed they stop and report UNKNOWN with reason ``Reason.TIME_LIMIT`` rather than run on. One
deadline is made per budgeted unit of work (one signal, one invariant, one verification) and
passed down, so that every step of the unit spends the same budget: HiGHS gets
:meth:`Deadline.remaining` as its ``time_limit``, loops and exact (flint / fractions)
computations call :meth:`Deadline.check` between steps, which raises :class:`TimeLimitReached`
for the unit's owner to turn into UNKNOWN ``Reason.TIME_LIMIT``. Every budgeted unit has the finite
default :data:`DEFAULT_TIME_LIMIT`; ``None`` (no limit) is only ever asked for explicitly. Every
budget reads the time from :func:`clock`, looked up when it reads it, so that a test can replace it
(``monkeypatch.setattr(runtime, "clock", fake)``) and make time run out after a known number of
looks, whatever the machine's speed. Progress bars show on stderr when it is a terminal and stay quiet otherwise (or with ``quiet=True``).

Batches run small dense linear algebra single-threaded and spread the batch over worker
processes instead (:func:`single_threaded_blas`, :func:`default_workers`): on matrices of a few
hundred rows a threaded BLAS spends more time waking and synchronising threads than computing
(measured in issue 18: the library's ``linf`` loop took 15 ms per signal with OpenBLAS's
default threads on 2 cores and 4.9 ms with one thread). A thread variable the user set
(``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) always wins.

The ``theorychk`` command pins the threads for its whole process before anything imports numpy
(:func:`pin_blas_at_start`): OpenBLAS reads the variables once, when it loads, and starting its
thread buffers cost a small command ~0.05 s CPU of its ~0.3 s (issue 18). The variables it set
are named in :data:`PINNED_BY_THEORYCHK`, so that they are not taken for the user's choice, here
or in the worker processes that inherit them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from theorychk.errors import InvalidInput, Reason, TimeLimitReached

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "TIME_LIMIT_REASON",
    "Deadline",
    "TimeLimitReached",
    "clock",
    "RowBudget",
    "progress",
    "BLAS_THREAD_VARIABLES",
    "blas_threads_set_by_user",
    "PINNED_BY_THEORYCHK",
    "pin_blas_at_start",
    "single_threaded_blas",
    "blas_threads",
    "default_workers",
    "free_cores",
]

#: The environment variables through which a user chooses BLAS / OpenMP thread counts.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


#: Seconds of wall time of one budgeted unit when the caller names none: one signal (``invert``,
#: ``certify``), one invariant, one ``reduce --verify``, one global-injectivity check.
DEFAULT_TIME_LIMIT = 60.0

#: The reason of every UNKNOWN that a deadline caused (``Reason.TIME_LIMIT``, kept under this name).
TIME_LIMIT_REASON = Reason.TIME_LIMIT

#: The seconds every :class:`Deadline` and :class:`RowBudget` measures: a monotonic wall clock.
#: Read through this module at each look (never bound elsewhere) so that tests can swap it.
clock: Callable[[], float] = time.perf_counter


@dataclass
class Deadline:
    """A wall-clock budget. ``Deadline(None)`` never expires.

    Examples
    --------
    >>> d = Deadline(None)
    >>> d.expired(), d.remaining() is None
    (False, True)
    """

    seconds: float | None
    start: float = field(default_factory=lambda: clock())  # the clock of the moment, not of import

    def __post_init__(self) -> None:
        if self.seconds is not None and self.seconds == float("inf"):
            self.seconds = None  # the CLI's `--time-limit inf`: no limit, asked for explicitly
        if self.seconds is not None and not (self.seconds > 0):
            raise InvalidInput(f"time_limit must be a positive number of seconds or None; got {self.seconds!r}",
                               argument="time_limit", got=self.seconds)

    def elapsed(self) -> float:
        return clock() - self.start

    def remaining(self) -> float | None:
        if self.seconds is None:
            return None
        return max(0.0, self.seconds - self.elapsed())

    def expired(self) -> bool:
        return self.seconds is not None and self.elapsed() >= self.seconds

    def check(self, where: str = "") -> None:
        """Raise :class:`TimeLimitReached` if the deadline has passed (call it between steps).

        >>> Deadline(None).check("never raises")
        """
        if self.expired():
            raise TimeLimitReached(where)

    def limit(self, cap: float | None = None, floor: float = 1e-3) -> float | None:
        """Seconds to hand a sub-engine that takes a ``time_limit``: what is left, at most ``cap``,
        at least ``floor`` (HiGHS refuses 0). ``None`` only when neither bounds it.

        >>> Deadline(None).limit(5.0), Deadline(None).limit()
        (5.0, None)
        """
        rem = self.remaining()
        if rem is None:
            return cap
        return max(floor, rem if cap is None else min(rem, cap))

    # A Deadline is one budget that every row of a batched computation shares: the three
    # methods below let the batched solvers take a Deadline or a RowBudget alike.

    def rows_expired(self, rows: Any) -> Any:
        """One flag per entry of ``rows``: all :meth:`expired` (the rows share this deadline)."""
        import numpy as np  # not at module level: `theorychk --help` imports this module

        return np.full(len(rows), self.expired())

    def charge(self, rows: Any) -> None:
        """Nothing to record: the rows share the wall clock."""

    def for_rows(self, rows: Any) -> Deadline:
        """The same deadline (it is not per row)."""
        return self


class RowBudget:
    """``seconds`` per row of a batched computation, each row charged its share of the wall time.

    A batched solver advances many rows (signals) in one numpy call, so no row has a wall time
    of its own. At each :meth:`rows_expired` / :meth:`charge` the wall time since the previous
    one is split equally among the rows named (those that were computing in between); a row
    whose share reaches ``seconds`` has run out, and the others go on. A row computed alone is
    charged the whole wall time, as under a :class:`Deadline`; the shares add up to the batch's
    wall time. ``seconds=None``: never runs out (the shares are still recorded, as ``spent``).

    :meth:`for_rows` gives a view for a sub-batch (its row ``j`` is row ``rows[j]`` here; rows
    may repeat, e.g. the restarts of one signal), sharing the clock and the shares.

    Examples
    --------
    >>> b = RowBudget(3, None)
    >>> b.rows_expired([0, 2]).tolist(), b.spent.shape
    ([False, False], (3,))
    >>> b.for_rows([2, 2]).rows_expired([0, 1]).tolist()
    [False, False]
    """

    def __init__(self, rows: int, seconds: float | None) -> None:
        import numpy as np  # not at module level: `theorychk --help` imports this module

        Deadline(seconds)  # the same validation
        self.seconds = seconds
        self.spent = np.zeros(rows)
        self._index = np.arange(rows)
        self._clock = [clock()]  # shared with the views

    def for_rows(self, rows: Any) -> RowBudget:
        import numpy as np  # not at module level: `theorychk --help` imports this module

        view = object.__new__(RowBudget)
        view.seconds, view.spent, view._clock = self.seconds, self.spent, self._clock
        view._index = self._index[np.asarray(rows, dtype=np.int64)]
        return view

    def charge(self, rows: Any) -> None:
        """Split the wall time since the last charge among ``rows`` (indices of this view)."""
        import numpy as np  # not at module level: `theorychk --help` imports this module

        now = clock()
        idx = self._index[np.asarray(rows, dtype=np.int64)]
        if idx.size:
            np.add.at(self.spent, idx, (now - self._clock[0]) / idx.size)
            self._clock[0] = now

    def rows_expired(self, rows: Any) -> Any:
        """:meth:`charge` ``rows``, then one flag per row: whether its share reached ``seconds``."""
        import numpy as np  # not at module level: `theorychk --help` imports this module

        self.charge(rows)
        if self.seconds is None:
            return np.zeros(len(rows), dtype=bool)
        return self.spent[self._index[np.asarray(rows, dtype=np.int64)]] >= self.seconds

    def expired(self) -> bool:
        """Every row of this view out of time (a one-row view: that row)."""
        import numpy as np  # not at module level: `theorychk --help` imports this module

        return bool(np.all(self.rows_expired(np.arange(len(self._index)))))


class _Bar:
    def __init__(self, progress: object | None, task: object | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)  # type: ignore[attr-defined]

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        if self._progress is not None:
            kwargs = {k: v for k, v in (("total", total), ("description", description)) if v is not None}
            self._progress.update(self._task, **kwargs)  # type: ignore[attr-defined]


@contextmanager
def progress(description: str, *, total: int | None = None, quiet: bool = False) -> Iterator[_Bar]:
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if quiet or not sys.stderr.isatty():
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True, console=Console(stderr=True),  # stdout carries only what was asked for
    ) as bar:
        yield _Bar(bar, bar.add_task(description, total=total))


_pinned = 0  # open single_threaded_blas blocks: the variables are then ours, not the user's


#: The environment variable in which :func:`pin_blas_at_start` names the thread variables it set
#: (comma-separated); inherited by worker processes, like the variables themselves.
PINNED_BY_THEORYCHK = "THEORYCHK_BLAS_PINNED"


def blas_threads_set_by_user(environ: dict[str, str] | None = None) -> bool:
    """Whether the user set any of :data:`BLAS_THREAD_VARIABLES` (then theorychk leaves threads alone).

    A variable that :func:`pin_blas_at_start` set (named in :data:`PINNED_BY_THEORYCHK`, still
    ``"1"``) is theorychk's, not the user's.

    >>> blas_threads_set_by_user({"OMP_NUM_THREADS": "4"})
    True
    >>> blas_threads_set_by_user({"OMP_NUM_THREADS": "1", PINNED_BY_THEORYCHK: "OMP_NUM_THREADS"})
    False
    """
    if environ is None and _pinned:
        return False
    env = os.environ if environ is None else environ
    ours = set(env.get(PINNED_BY_THEORYCHK, "").split(","))
    return any(env.get(v) and not (v in ours and env.get(v) == "1") for v in BLAS_THREAD_VARIABLES)


def pin_blas_at_start(environ: dict[str, str] | None = None) -> bool:
    """One BLAS / OpenMP thread for this process and its children, unless the user set a variable.

    Call it before numpy is imported (the ``theorychk`` command does, first thing): BLAS
    libraries read the variables when they load. Sets every :data:`BLAS_THREAD_VARIABLES` to
    ``"1"`` and names them in :data:`PINNED_BY_THEORYCHK`; returns whether it pinned.

    >>> env = {}
    >>> pin_blas_at_start(env), env["OPENBLAS_NUM_THREADS"], blas_threads_set_by_user(env)
    (True, '1', False)
    >>> pin_blas_at_start({"OPENBLAS_NUM_THREADS": "4"})
    False
    """
    env = os.environ if environ is None else environ
    if blas_threads_set_by_user(env):
        return False
    for v in BLAS_THREAD_VARIABLES:
        env[v] = "1"
    env[PINNED_BY_THEORYCHK] = ",".join(BLAS_THREAD_VARIABLES)
    return True


@contextmanager
def single_threaded_blas() -> Iterator[bool]:
    """Run the block with one BLAS / OpenMP thread, here and in processes started inside it.

    Does nothing when the user set a thread variable (yields ``False`` then, ``True`` when it
    pinned). In this process the limit is applied with threadpoolctl (the libraries are already
    loaded, so the environment no longer matters to them); the variables are also set for the
    block's duration so that worker processes *spawned* in it start single-threaded too. In a
    process that :func:`pin_blas_at_start` pinned before its libraries loaded (the command and
    its workers) there is nothing to limit, and the block costs nothing.
    """
    if blas_threads_set_by_user():
        yield False
        return
    if _single_threaded_since_start() is not None:  # nothing to limit: ~1.5 ms a call saved per signal
        yield True
        return
    from threadpoolctl import threadpool_limits

    global _pinned
    saved = {v: os.environ.get(v) for v in BLAS_THREAD_VARIABLES}
    for v in BLAS_THREAD_VARIABLES:
        os.environ[v] = "1"
    _pinned += 1
    try:
        with threadpool_limits(limits=1):
            yield True
    finally:
        _pinned -= 1
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:  # theorychk's own "1", set by pin_blas_at_start (a user's value never gets here)
                os.environ[v] = old


def blas_threads() -> dict[str, Any]:
    """The thread counts of the BLAS / OpenMP libraries loaded in this process (threadpoolctl).

    ``{"blas": n, "openmp": m, "set_by_user": bool}``, a count ``None`` when no such library is
    loaded; recorded with timings so that a measurement says how it ran.
    """
    counts = _single_threaded_since_start() or _thread_counts()
    return {**counts, "set_by_user": blas_threads_set_by_user()}


def _thread_counts() -> dict[str, int | None]:
    from threadpoolctl import threadpool_info

    counts: dict[str, int | None] = {"blas": None, "openmp": None}
    for lib in threadpool_info():
        api = lib.get("user_api")
        if api in counts:
            counts[api] = max(counts[api] or 0, int(lib.get("num_threads", 0)))
    return counts


_start_counts: dict[str, int | None] | None = None


def _single_threaded_since_start() -> dict[str, int | None] | None:
    """The thread counts when :func:`pin_blas_at_start` pinned this process (or the one that
    started it) and every loaded BLAS / OpenMP library runs one thread, else ``None``.

    Then nothing needs limiting: a library loaded later reads the pinned variables when it loads.
    Read once per process (``threadpool_info`` inspects every loaded library, ~1.5 ms, and batches
    asked it twice per signal), and only once a BLAS is loaded, so that it is really counted.
    """
    global _start_counts
    if _pinned:  # inside a limiting block: its counts are the block's, not the process's
        return None
    ours = set(os.environ.get(PINNED_BY_THEORYCHK, "").split(","))
    if not all(v in ours and os.environ.get(v) == "1" for v in BLAS_THREAD_VARIABLES):
        return None
    if _start_counts is None:
        counts = _thread_counts()
        if counts["blas"] is None or any(n not in (None, 1) for n in counts.values()):
            return None
        _start_counts = counts
    return _start_counts


def default_workers() -> int:
    """Worker processes for a batch: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def free_cores(load: float | None = None) -> tuple[int, str]:
    """Cores a batch may expect to have to itself, and why: the cores this process may run on
    (:func:`default_workers`) less the runnable processes, read as the one-minute load average
    rounded (``load``: given instead of read, for tests); at least 1. The average lags: it still
    counts a job (yours too) that ended within the last minute or so.

    On a shared machine a second worker on a core another job is using buys no throughput and
    costs its start-up and the contention (issue 18: 2 workers on 2 cores at load 10 were slower
    than one process), so a batch started with one core free runs in this process.

    >>> free_cores(load=0.2)[0] == default_workers()
    True
    >>> free_cores(load=1e9)[0]
    1
    """
    cores = default_workers()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - not on Unix
            return cores, f"{cores} core(s), load unknown"
    free = max(1, min(cores, cores - int(load + 0.5)))
    return free, f"{free} of {cores} core(s) free at load average {load:.2f}"
