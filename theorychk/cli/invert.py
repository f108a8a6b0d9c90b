"""``theorychk invert MODEL --signal Y.npy``: recover latent codes with any registered method.

A batch shares its set-up (:func:`theorychk.solvers.batch.invert_stream`): the method, mask and
network are validated once and every signal before the first inversion; the signals are spread
over ``--workers`` processes (or a Dask cluster), and the methods with a vectorised form
(``latent``, ``gd``) invert each chunk of signals in one call, each signal still getting what it
gets alone; latent estimates stream into ``--out`` as they (or their chunk) finish. Small dense
linear algebra runs single-threaded unless the user set a BLAS thread variable. The JSON holds
one short entry per signal; ``--verbose`` adds each method's details.
"""


import time
from typing import Annotated, Any

import typer

from theorychk.cli import (
    ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, cell, load_array, load_model, load_signals,
    positive_seconds, print_json,
)
from theorychk.runtime import DEFAULT_TIME_LIMIT

#: signals in a table before it becomes a per-status summary (``--verbose`` shows every row)
_TABLE_ROWS = 20


def _latents_file(out: str, shape: tuple[int, ...]) -> Any:
    """An ``.npy`` file of NaNs, filled as results arrive (a row still NaN: not finished or no estimate)."""
    import numpy as np
    from numpy.lib.format import open_memmap

    from theorychk.errors import InvalidInput

    path = out if out.endswith(".npy") else out + ".npy"  # as numpy.save names it
    try:
        arr = open_memmap(path, mode="w+", dtype=np.float64, shape=shape)
    except OSError as exc:
        raise InvalidInput(f"cannot write --out {out}: {exc.strerror or exc}",
                           argument="--out", got=out) from None
    arr[...] = np.nan
    return arr


def _brief(i: int, r: Any) -> dict[str, Any]:
    from theorychk.verdict import jsonable

    return {
        "signal": i,
        "status": r.status.value,
        "reason": r.reason,
        "residual": {
            "l2": jsonable(r.residual_l2, exact_floats=False),
            "linf": jsonable(r.residual_linf, exact_floats=False),
        },
        "signal_offset": jsonable(r.signal_offset, exact_floats=False),
        "signal_tol": jsonable(r.signal_tol, exact_floats=False),
        "method_status": r.method_status,
        "elapsed_seconds": round(r.elapsed, 6),
    }


#: The registered inversion methods, spelled out so that `--help` imports no solver (a test keeps
#: this equal to ``theorychk.solvers.REGISTRY``).
METHOD_NAMES = ("linf", "l1", "relax", "milp", "lbp", "latent", "oracle", "gd")


@app.command()
def invert(
    model: ModelArg,
    signal: Annotated[str, typer.Option("--signal", help="Y.npy: one signal (n,) or a batch (batch, n).")],
    method: Annotated[str, typer.Option("--method", help=f"Inversion method: {', '.join(METHOD_NAMES)}.")] = "linf",
    mask: Annotated[str | None, typer.Option("--mask", help="MASK.npy: boolean (n,) of observed outputs.")] = None,
    noise: Annotated[float | None, typer.Option(
        "--noise", help="Declared noise level (SOLVED then means a fit within signal_tol + noise).")] = None,
    signal_tol: Annotated[float | None, typer.Option(
        "--signal-tol", min=0.0, help="How far (l2) G(z) may be from the signal for SOLVED / from the range before "
                                      "INFEASIBLE (default: float rounding of the model's dtype).")] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", callback=positive_seconds, help="Wall-clock seconds per signal, every method ('inf': no limit); past it the signal "
                             "ends UNKNOWN \"time limit\".")] = DEFAULT_TIME_LIMIT,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed for randomised methods.")] = None,
    latent_true: Annotated[str | None, typer.Option(
        "--latent-true", metavar="Z.npy", help="The true latents, one row per signal: --method oracle only "
                                               "(Aberdam et al.'s Oracle is told the true supports).")] = None,
    out: Annotated[str | None, typer.Option(
        "--out", help="Write the latent estimates to this .npy file (replaced if it exists), row by row as they "
                      "finish (NaN: none).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Worker processes for a batch (default: up to the cores, if the first chunk's "
                                 "measured time says they pay; 1: this process).")] = None,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", help="Run the batch on this Dask scheduler instead of local processes.")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="Per-signal details: latent, counts and method info in --json; every row in the table.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    option: Annotated[list[str] | None, typer.Option(
        "--option", metavar="NAME=VALUE", help="A method option, repeatable: --option momentum=0.9 --option "
                                               "restarts=4 (VALUE read as JSON, else as text).")] = None,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Invert each signal with METHOD; print status, residuals and timing per signal.

    Statuses: SOLVED (G(z) within the signal tolerance of the signal), APPROXIMATE, FAILED,
    UNKNOWN (time limit), INFEASIBLE (proved farther than the tolerance); see docs/glossary.md.
    """
    from theorychk.errors import InvalidInput
    from theorychk.runtime import Deadline, blas_threads, progress
    from theorychk.solvers import get_method
    from theorychk.solvers.batch import invert_stream

    start = time.perf_counter()
    net = load_model(model, layers, activation, final_activation)
    get_method(method)  # an unknown name fails before any work, listing the valid ones
    batch, single = load_signals(signal, net.output_dim, "--signal")
    mask_arr = None if mask is None else load_array(mask, "--mask")
    n = batch.shape[0]
    n_workers: int | str = workers if workers is not None else "auto"  # auto: batch.py decides, from measurements
    common = {"mask": mask_arr, "noise": noise, "time_limit": Deadline(time_limit).seconds, "seed": seed,
              "signal_tol": signal_tol, **_method_options(option or [])}
    if method == "oracle" or latent_true is not None:
        if method != "oracle":
            raise InvalidInput(f"--latent-true is for --method oracle only; got --method {method}",
                               argument="--method", got=method)
        if latent_true is None:
            raise InvalidInput("--method oracle needs --latent-true Z.npy: the true latent of each signal "
                               "(the Oracle of Aberdam et al. is told the true supports)",
                               argument="--latent-true", got=None)
        truth, _ = load_signals(latent_true, net.latent_dim, "--latent-true")
        if truth.shape[0] != n:
            raise InvalidInput(f"--latent-true {latent_true} has {truth.shape[0]} row(s); --signal has {n}",
                               argument="--latent-true", got=truth.shape[0])
        stream = _oracle_stream(net, batch, truth, common)  # one signal per call: each gets its own true latent
    else:
        stream = invert_stream(
            net, batch, method=method, workers=n_workers, dask=dask, **common,
        )  # validates everything before the first inversion
    latents = None if out is None else _latents_file(out, (net.latent_dim,) if single else (n, net.latent_dim))
    results: list[Any] = [None] * n
    threads: dict[str, Any] = {}
    with progress(f"inverting with {method}", total=n, quiet=quiet or n < 2) as bar:
        for i, r in stream:
            if not threads:
                threads = blas_threads()  # inside the batch: the threads the inversions ran with
            results[i] = r
            if latents is not None and r.latent is not None:
                if single:
                    latents[...] = r.latent
                else:
                    latents[i] = r.latent
            bar.advance()
    if latents is not None:
        latents.flush()
        del latents
    wall = time.perf_counter() - start
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    used = getattr(stream, "workers", 1)
    reason = getattr(stream, "workers_reason", "--method oracle: one signal per call")
    if json_out:
        print_json({
            "model": model,
            "method": method,
            "signals": n,
            "status_counts": counts,
            "out": out,
            "runtime": {
                "wall_seconds": round(wall, 6),
                "workers": used,
                "workers_reason": reason,
                "engine": "dask" if dask else ("process" if used > 1 else "this process"),
                "blas_threads": threads.get("blas"),
                "openmp_threads": threads.get("openmp"),
                "threads_set_by_user": threads.get("set_by_user", False),
            },
            "results": [r.to_dict() | {"signal": i} if verbose else _brief(i, r) for i, r in enumerate(results)],
        })
        return
    _table(model, method, results, counts, verbose, out, wall, used)


def _method_options(pairs: list[str]) -> dict[str, Any]:
    """``--option NAME=VALUE`` pairs as keyword options of the method (checked by the method itself)."""
    import json

    from theorychk.errors import InvalidInput

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InvalidInput(f"--option must be NAME=VALUE (e.g. momentum=0.9); got {pair!r}",
                               argument="--option", got=pair)
        if name in ("mask", "noise", "time_limit", "seed", "signal_tol", "latent_true", "method", "workers", "dask"):
            raise InvalidInput(f"--option {name} has its own command-line option; use --{name.replace('_', '-')}",
                               argument="--option", got=pair)
        try:
            out[name] = json.loads(text)
        except ValueError:
            out[name] = text
    return out


def _oracle_stream(net: Any, batch: Any, truth: Any, common: dict[str, Any]) -> Any:
    """``(i, Inversion)`` of the Oracle for each signal with its own true latent, validated up front."""
    from theorychk.solvers.batch import invert_stream

    streams = [invert_stream(net, batch[i:i + 1], method="oracle", latent_true=truth[i], **common)
               for i in range(batch.shape[0])]  # every row validated before the first inversion
    for i, s in enumerate(streams):
        for _, r in s:
            yield i, r


def _table(model: str, method: str, results: list[Any], counts: dict[str, int], verbose: bool,
           out: str | None, wall: float, workers: int) -> None:
    import statistics

    from rich.console import Console
    from rich.table import Table

    console = Console()
    if verbose or len(results) <= _TABLE_ROWS:
        table = Table(title=f"{method} on {model}: {len(results)} signal(s)")
        for col in ("signal", "status", "signal offset (l2)", "signal tol", "residual linf", "seconds", "reason"):
            table.add_column(col, overflow="fold")
        for i, r in enumerate(results):
            table.add_row(str(i), r.status.value, f"{r.signal_offset:.3g}", f"{r.signal_tol:.3g}",
                          f"{r.residual_linf:.3g}", f"{r.elapsed:.3f}", cell(r.reason))
    else:
        table = Table(title=f"{method} on {model}: {len(results)} signals (every row: --verbose)")
        for col in ("status", "signals", "median residual linf", "median seconds", "first signals"):
            table.add_column(col, overflow="fold")
        for status in sorted(counts):
            rows = [(i, r) for i, r in enumerate(results) if r.status.value == status]
            table.add_row(
                status, str(len(rows)), f"{statistics.median(r.residual_linf for _, r in rows):.3g}",
                f"{statistics.median(r.elapsed for _, r in rows):.4f}", ", ".join(str(i) for i, _ in rows[:8])
                + (", ..." if len(rows) > 8 else ""),
            )
    console.print(table)
    console.print(f"{len(results)} signal(s) in {wall:.2f} s with {workers} worker(s)")
    if out is not None:
        console.print(f"latent estimates written to {out}")
