"""Reproductions of the papers' figures and tables, run as seeded sweeps (see :mod:`.sweep`).

An :class:`Experiment` is a task function, a ``reduced`` and a ``full`` configuration (grid,
runs, options) and a ``report`` function that turns the CSV's rows into PNG plots and a
``report.md`` stating each theorem's prediction next to what was observed. Run one with
:func:`run_experiment` or ``theorychk experiment NAME``; the registry is ``EXPERIMENTS``, filled
on first use: importing the package (e.g. for the sweep engine, which ``certify`` runs its batches
on) does not import the experiment modules (~1.1 s CPU: ``aberdam_fig4`` integrates its phase
transitions at import, with ``scipy.stats``).

Examples
--------
>>> from theorychk.experiments import EXPERIMENTS
>>> sorted(EXPERIMENTS)  # doctest: +NORMALIZE_WHITESPACE
['aberdam-fig4', 'hardness', 'injectivity', 'lei-cputime', 'lei-noise', 'lei-success',
 'zoo-inpainting']
>>> get_experiment("lei-sucess")
Traceback (most recent call last):
    ...
theorychk.errors.InvalidInput: unknown experiment 'lei-sucess'; valid: aberdam-fig4, hardness, injectivity, lei-cputime, lei-noise, lei-success, zoo-inpainting; did you mean 'lei-success'?
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theorychk.errors import InvalidInput, unknown_name
from theorychk.experiments.sweep import TaskFn, read_rows, run_sweep

__all__ = ["Config", "Experiment", "EXPERIMENTS", "get_experiment", "run_experiment", "ExperimentRun"]


@dataclass(frozen=True)
class Config:
    """One size of an experiment: its grid, default number of runs, and what the size means."""

    grid: tuple[dict[str, Any], ...]
    runs: int
    #: measured or estimated wall time on 2 cores, stated with which it is
    runtime: str
    note: str = ""


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    paper: str
    task: TaskFn
    columns: tuple[str, ...]
    reduced: Config
    full: Config
    #: ``report(rows, out_dir, config_name) -> markdown body`` (writes its PNGs into out_dir)
    report: Callable[[list[dict[str, Any]], Path, str], str]
    #: row columns that are timings (they differ from run to run; everything else is seeded)
    timing_columns: tuple[str, ...] = field(default=())


_REGISTRY: dict[str, Experiment] = {}
_LOADED = False
_MODULES = ("lei_success", "lei_noise", "aberdam_fig4", "zoo_inpainting", "injectivity", "hardness")


def register(exp: Experiment) -> Experiment:
    _REGISTRY[exp.name] = exp
    return exp


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for m in _MODULES:
        try:
            importlib.import_module(f"theorychk.experiments.{m}")
        except ModuleNotFoundError as exc:
            if exc.name != f"theorychk.experiments.{m}":
                raise


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name``; an unknown name lists the valid ones."""
    experiments = _experiments()
    if name not in experiments:
        raise unknown_name("experiment", name, experiments)
    return experiments[name]


def _experiments() -> dict[str, Experiment]:
    """Every registered experiment (the experiment modules imported on first use)."""
    _load()
    return _REGISTRY


def __getattr__(name: str) -> Any:
    if name == "EXPERIMENTS":  # the registry, loaded when first asked for
        return _experiments()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ExperimentRun:
    name: str
    out: Path
    csv: Path
    report: Path
    plots: tuple[Path, ...]
    tasks: int
    tasks_run: int
    complete: bool
    seconds: float


def run_experiment(
    name: str,
    *,
    full: bool = False,
    runs: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    dask: Any = None,
    engine: str | None = None,
    limit: int | None = None,
    grid: Sequence[dict[str, Any]] | None = None,
    quiet: bool = False,
) -> ExperimentRun:
    """Run (or resume) experiment ``name`` into ``out`` and write ``runs.csv``, plots and ``report.md``.

    ``engine`` defaults to ``"dask"`` when ``dask`` (an address or a ``Client``) is given, else
    ``"process"``. ``grid`` overrides the configuration's grid (tests run tiny sizes).
    """
    exp = get_experiment(name)
    config = exp.full if full else exp.reduced
    size = "full" if full else "reduced"
    the_grid = tuple(grid) if grid is not None else config.grid
    n_runs = config.runs if runs is None else runs
    if not isinstance(n_runs, int) or n_runs < 1:
        raise InvalidInput(f"--runs must be a positive integer; got {n_runs!r}", argument="runs", got=n_runs)
    out_dir = Path(out) if out is not None else Path("experiments-out") / f"{name}-{size}"
    out_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or ("dask" if dask is not None else "process")
    start = time.perf_counter()
    res = run_sweep(exp.task, the_grid, runs=n_runs, seed=seed, out_csv=out_dir / "runs.csv",
                    columns=exp.columns, experiment=name, engine=engine, dask=dask, limit=limit, quiet=quiet)
    seconds = time.perf_counter() - start
    before = set(out_dir.glob("*.png"))
    body = exp.report(res.rows, out_dir, size)
    plots = tuple(sorted(set(out_dir.glob("*.png")) | before))
    status = "complete" if res.complete else f"INCOMPLETE: {res.done_before + res.ran} of {res.total} tasks"
    header = (
        f"# {exp.title}\n\n"
        f"Experiment `{name}` ({size} size, {status}); paper: {exp.paper}.\n\n"
        f"Command: `theorychk experiment {name} --runs {n_runs} --seed {seed}"
        f"{' --full' if full else ''}` — {len(res.rows)} rows in `runs.csv` "
        f"(every row carries its task seed: re-run a point alone with the task function and that seed). "
        f"This invocation ran {res.ran} tasks in {seconds:.1f} s "
        f"({res.done_before} were already in the CSV). Expected runtime of this size: {config.runtime}.\n\n"
    )
    if config.note:
        header += config.note + "\n\n"
    report = out_dir / "report.md"
    report.write_text(header + body + "\n", encoding="utf-8")
    (out_dir / "meta.json").write_text(json.dumps({
        "experiment": name, "size": size, "seed": seed, "runs": n_runs, "grid": list(the_grid),
        "tasks": res.total, "complete": res.complete}, indent=2, default=str), encoding="utf-8")
    return ExperimentRun(name, out_dir, res.csv, report, plots, res.total, res.ran, res.complete, seconds)


def _read(path: str | Path) -> list[dict[str, Any]]:
    return read_rows(path)

