"""The sweep runner: a grid of parameter dicts × runs, executed by pure tasks, written to a tidy CSV.

A *task* is a top-level (picklable) function ``task(params, seed) -> list[dict]``: a pure
function of its parameters and an integer seed (it builds every random object from
``numpy.random.default_rng(seed)``, and every solver object — e.g. ``highspy.Highs``, which cannot
be pickled — inside itself). Run ``r`` of grid point ``g`` gets the seed of the child
``SeedSequence(seed).spawn(len(grid))[g].spawn(runs)[r]`` (equivalently ``spawn_key=(g, r)``), so

* the results do not depend on the engine (serial, local processes, Dask) nor on the order tasks
  finish in, and
* raising ``--runs`` later keeps the seeds of the runs already done (the key is per grid point).

The seed is recorded in every row as the integer handed to the task, so any point of a plot can
be re-run alone: ``task(params, seed)``.

CSV layout (tidy: one row per observation): ``experiment, grid_index, run, seed, task_rows``,
then the parameter columns, then the task's row fields. ``task_rows`` is the number of rows the
task produced; a task's rows are written in one write and flushed as the task finishes. On
restart the runner reads the CSV, keeps the tasks whose rows are all there (task key =
parameters + run index) and drops the rows of a task cut short by the interruption, then runs
the rest.
"""

from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput, MissingDependency, unknown_name
from theorychk.runtime import progress

__all__ = ["Task", "SweepResult", "task_seed", "plan", "run_sweep", "read_rows", "ENGINES"]

META_COLUMNS = ("experiment", "grid_index", "run", "seed", "task_rows")
ENGINES = ("serial", "process", "dask")

#: Seconds to wait for a Dask scheduler before ``--dask ADDRESS`` is an error.
DASK_CONNECT_SECONDS = 10


def dask_client(address: str, what: str = "--dask") -> Any:
    """A ``distributed.Client`` connected to ``address``; a malformed or unreachable address is a
    one-line :class:`~theorychk.errors.InvalidInput` naming ``what`` (the caller closes the client)."""
    try:
        import distributed
    except ModuleNotFoundError as exc:
        raise MissingDependency(f"{what} needs dask.distributed: pip install 'theorychk[dask]'") from exc
    try:
        return distributed.Client(address, timeout=DASK_CONNECT_SECONDS)
    except (ValueError, TypeError, OSError, TimeoutError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(f"{what} {address!r}: no Dask scheduler reachable there ({why}); "
                           "give the scheduler's address, e.g. tcp://HOST:8786",
                           argument=what, got=address) from None


TaskFn = Callable[[dict[str, Any], int], list[dict[str, Any]]]


@dataclass(frozen=True)
class Task:
    grid_index: int
    run: int
    params: dict[str, Any]
    seed: int


@dataclass(frozen=True)
class SweepResult:
    csv: Path
    total: int
    done_before: int
    ran: int
    rows: list[dict[str, Any]]

    @property
    def complete(self) -> bool:
        return self.done_before + self.ran == self.total


def task_seed(seed: int, grid_index: int, run: int) -> int:
    """The integer seed of run ``run`` of grid point ``grid_index`` (see the module docstring).

    Examples
    --------
    >>> task_seed(0, 1, 2) == task_seed(0, 1, 2) != task_seed(0, 2, 1)
    True
    """
    child = np.random.SeedSequence(seed, spawn_key=(grid_index, run))
    # 63 bits: fits a signed int64 column and numpy.random.default_rng accepts it.
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def plan(grid: Sequence[dict[str, Any]], *, runs: int, seed: int) -> list[Task]:
    """Every task of the sweep in grid order (grid point major, run minor)."""
    if runs < 1:
        raise InvalidInput(f"runs must be a positive integer; got {runs!r}", argument="runs", got=runs)
    if not grid:
        raise InvalidInput("grid must hold at least one parameter dict; got none", argument="grid", got=grid)
    return [Task(g, r, dict(p), task_seed(seed, g, r)) for g, p in enumerate(grid) for r in range(runs)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (np.integer, np.bool_)):
        return str(value.item())
    return str(value)


def _key(params: dict[str, Any], names: Sequence[str], run: Any) -> tuple[str, ...]:
    return tuple(_cell(params.get(n)) for n in names) + (_cell(run),)


def _parse(text: str) -> Any:
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """The CSV as a list of dicts, numbers and booleans parsed back (empty cell → ``None``)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _call(task_fn: TaskFn, task: Task) -> tuple[Task, list[dict[str, Any]]]:
    return task, task_fn(dict(task.params), task.seed)


def _resume(path: Path, header: list[str], param_names: list[str]) -> set[tuple[str, ...]]:
    """Keys of the tasks fully present in ``path``; rewrites it without partial tasks."""
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    truncated = bool(text) and not text.endswith("\n")
    if truncated:  # a row cut mid-write
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text))
    found = next(reader, None)
    if found is None:
        return set()
    if found != header:
        raise InvalidInput(
            f"{path} was written by a sweep with other columns ({', '.join(found)}); "
            f"expected {', '.join(header)}: use another --out directory", argument="out", got=found
        )
    rows = [r for r in reader if len(r) == len(header)]
    idx = {name: i for i, name in enumerate(header)}
    groups: dict[tuple[str, ...], list[list[str]]] = {}
    for r in rows:
        key = tuple(r[idx[n]] for n in param_names) + (r[idx["run"]],)
        groups.setdefault(key, []).append(r)
    done = {k for k, g in groups.items() if all(_parse(r[idx["task_rows"]]) == len(g) for r in g)}
    kept = [r for k, g in groups.items() if k in done for r in g]
    if truncated or len(kept) != len(rows):
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(kept)
        os.replace(tmp, path)
    return done


#: BLAS thread-count variables set to 1 for the spawned workers (unless the user set them): one
#: worker per core already uses the machine, extra BLAS threads only oversubscribe it, and their
#: spinning inflates the CPU time that the timing experiments (lei-cputime) report per inversion.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    saved = {v: os.environ.get(v) for v in BLAS_THREAD_VARIABLES}
    for v, old in saved.items():
        if old is None:
            os.environ[v] = "1"
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)


def _engine_iter(engine: str, task_fn: TaskFn, todo: list[Task], workers: int,
                 dask: Any) -> Iterator[tuple[Task, list[dict[str, Any]]]]:
    if engine == "serial":
        for t in todo:
            yield _call(task_fn, t)
    elif engine == "process":
        # "spawn", not fork: HiGHS's MIP thread pool does not survive a fork (a forked worker's
        # MILP idled until its time limit), and spawned workers import theorychk afresh.
        with _single_threaded_blas(), \
                ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_call, task_fn, t) for t in todo]  # workers start here, inside the context
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            finally:
                for fut in futures:
                    fut.cancel()
    else:
        own = isinstance(dask, str)
        client = dask_client(dask) if own else dask  # a missing dask.distributed is reported here
        import distributed

        try:
            futures = client.map(_call, [task_fn] * len(todo), todo, pure=False)
            try:
                for fut in distributed.as_completed(futures):
                    yield fut.result()
            finally:
                client.cancel(futures)
        finally:
            if own:
                client.close()


def run_sweep(
    task_fn: TaskFn,
    grid: Sequence[dict[str, Any]],
    *,
    runs: int,
    seed: int,
    out_csv: str | Path,
    columns: Sequence[str],
    experiment: str = "",
    engine: str = "process",
    workers: int = 2,
    dask: Any = None,
    limit: int | None = None,
    quiet: bool = False,
) -> SweepResult:
    """Run every task not yet in ``out_csv`` and append its rows as it finishes.

    Parameters
    ----------
    task_fn : callable ``(params, seed) -> list[dict]``, top-level (picklable)
    grid : parameter dicts (all with the same keys)
    runs, seed : runs per grid point; the sweep's seed (see :func:`task_seed`)
    out_csv : the tidy CSV (created, or resumed when it exists)
    columns : the fields of the task's rows, in CSV order (a row with another field is an error)
    engine : ``"serial"``, ``"process"`` (``workers`` processes) or ``"dask"``
    dask : with ``engine="dask"``: a scheduler address (a ``Client`` is opened and closed) or a
        ``distributed.Client``
    limit : run at most this many new tasks (the rest on a later call)
    """
    if engine not in ENGINES:
        raise unknown_name("engine", engine, ENGINES)
    if engine == "dask" and dask is None:
        raise InvalidInput("engine 'dask' needs a scheduler address or a distributed.Client; got none",
                           argument="dask", got=dask)
    tasks = plan(grid, runs=runs, seed=seed)
    param_names = list(dict.fromkeys(k for p in grid for k in p))
    clash = set(param_names) & (set(columns) | set(META_COLUMNS))
    if clash:
        raise InvalidInput(f"parameter names clash with row columns: {', '.join(sorted(clash))}",
                           argument="grid", got=sorted(clash))
    header = [*META_COLUMNS, *param_names, *columns]
    path = Path(out_csv)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _resume(path, header, param_names) if path.exists() and path.stat().st_size else set()
    todo = [t for t in tasks if _key(t.params, param_names, t.run) not in done]
    done_before = len(tasks) - len(todo)
    if limit is not None:
        todo = todo[: max(0, limit)]
    new = not (path.exists() and path.stat().st_size)
    allowed = set(columns)
    ran = 0
    with open(path, "a", newline="", encoding="utf-8") as f, \
            progress(f"{experiment or 'sweep'}: tasks", total=len(tasks), quiet=quiet) as bar:
        writer = csv.writer(f)
        if new:
            writer.writerow(header)
            f.flush()
        bar.advance(done_before)
        for task, rows in _engine_iter(engine, task_fn, todo, workers, dask):
            extra = {k for r in rows for k in r} - allowed
            if extra:
                raise InvalidInput(f"task of {experiment or 'sweep'} returned undeclared fields: {', '.join(sorted(extra))}",
                                   argument="task_fn", got=sorted(extra))
            buf = io.StringIO()
            w = csv.writer(buf)
            for r in rows:
                meta = [experiment, task.grid_index, task.run, task.seed, len(rows)]
                w.writerow([_cell(v) for v in meta]
                           + [_cell(task.params.get(n)) for n in param_names]
                           + [_cell(r.get(c)) for c in columns])
            f.write(buf.getvalue())  # one write per task: resume sees whole tasks
            f.flush()
            ran += 1
            bar.advance()
    return SweepResult(path, len(tasks), done_before, ran, read_rows(path))
