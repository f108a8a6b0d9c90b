"""``theorychk invariants``: spark, sub-spark, sub-rank, coherence, μ_s, c_∞, c_1 of a matrix or layer."""


from typing import TYPE_CHECKING, Annotated, Any

import typer

from theorychk.cli import (
    ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, app, cell, load_array, load_model, positive_seconds,
    print_json,
)
from theorychk.errors import InvalidInput
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline

if TYPE_CHECKING:  # numpy is imported where it is used: `theorychk --help` does not need it
    import numpy as np


def _matrix(source: str, layer: int | None, layers: str | None, activation: str | None, final: str | None) -> "tuple[np.ndarray, str]":
    """The matrix to analyse: a ``.npy`` file, or weight ``layer`` of a MODEL."""
    import numpy as np

    if source.endswith(".npy"):
        if layer is not None:
            raise InvalidInput(f"--layer selects a layer of a MODEL; {source} is a matrix (drop --layer)",
                               argument="--layer", got=layer)
        arr = load_array(source, "MATRIX")
        if arr.ndim != 2 or 0 in arr.shape:
            raise InvalidInput(f"MATRIX {source} must be a non-empty 2-D array (rows, columns); "
                               f"got shape {arr.shape}", argument="MATRIX", got=arr.shape)
        bad = np.argwhere(~np.isfinite(arr))
        if len(bad):
            row, col = bad[0]
            raise InvalidInput(f"MATRIX {source} must be finite; got {arr[row, col]} at row {row}, column {col}",
                               argument="MATRIX", got=arr[row, col])
        return arr, source
    if layer is None:
        raise InvalidInput(f"{source} is a model: pass --layer I to choose which weight matrix to analyse",
                           argument="--layer", got=layer)
    # A layer's activations do not matter for its weight: default them so state_dicts load too.
    net = load_model(source, layers, activation or "relu", final)
    if not 0 <= layer < net.depth:
        raise InvalidInput(f"--layer must be between 0 and {net.depth - 1} for {source}; got {layer}",
                           argument="--layer", got=layer)
    return net.layers[layer].weight, f"{source} layer {layer} ({net.layers[layer].n_out}x{net.layers[layer].n_in})"


@app.command()
def invariants(
    source: Annotated[str, typer.Argument(help="MATRIX.npy, or a MODEL (with --layer).")],
    layer: Annotated[int | None, typer.Option("--layer", help="Weight matrix of this layer (0 = latent side).")] = None,
    spark: Annotated[bool, typer.Option("--spark", help="spark: fewest linearly dependent columns.")] = False,
    sub_spark: Annotated[int | None, typer.Option("--sub-spark", metavar="S", help="sub-spark(W, S).")] = None,
    sub_rank: Annotated[int | None, typer.Option("--sub-rank", metavar="S", help="sub-rank(W, S).")] = None,
    coherence: Annotated[bool, typer.Option("--coherence", help="mutual coherence of the columns.")] = False,
    mu_s: Annotated[int | None, typer.Option("--mu-s", metavar="S", help="μ_S: coherence over S-row submatrices.")] = None,
    c_inf: Annotated[int | None, typer.Option("--c-inf", metavar="M", help="c_∞(W, M) of paper 001.")] = None,
    c_1: Annotated[int | None, typer.Option("--c-1", metavar="M", help="c_1(W, M) of paper 001.")] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", callback=positive_seconds, help="Wall-clock seconds per invariant; past it the invariant ends UNKNOWN \"time limit\" "
                             "with the bounds reached ('inf': no limit).")] = DEFAULT_TIME_LIMIT,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Exact values, or certified bounds with their evidence, of the matrix invariants.

    With no invariant flag, computes spark, coherence and sub-rank at half the rows.
    """
    import numpy as np

    from theorychk import invariants as inv

    matrix, label = _matrix(source, layer, layers, activation, final_activation)
    time_limit = Deadline(time_limit).seconds  # validated; `inf` is None (no limit)
    show = not quiet
    todo: list[tuple[str, Any]] = []
    if spark:
        todo.append(("spark", lambda: inv.spark(matrix, time_limit=time_limit, progress=show)))
    if sub_spark is not None:
        todo.append((f"sub_spark(s={sub_spark})", lambda: inv.sub_spark(matrix, sub_spark, time_limit=time_limit, progress=show)))
    if sub_rank is not None:
        todo.append((f"sub_rank(s={sub_rank})", lambda: inv.sub_rank(matrix, sub_rank, time_limit=time_limit, progress=show)))
    if coherence:
        todo.append(("coherence", lambda: inv.coherence(matrix)))
    if mu_s is not None:
        todo.append((f"mu_s(s={mu_s})", lambda: inv.coherence_s(matrix, mu_s, time_limit=time_limit, progress=show)))
    if c_inf is not None:
        todo.append((f"c_inf(m={c_inf})", lambda: inv.c_inf(matrix, c_inf, time_limit=time_limit, progress=show)))
    if c_1 is not None:
        todo.append((f"c_1(m={c_1})", lambda: inv.c_1(matrix, c_1, time_limit=time_limit, progress=show)))
    if not todo:
        half = max(1, np.asarray(matrix).shape[0] // 2)
        todo = [
            ("spark", lambda: inv.spark(matrix, time_limit=time_limit, progress=show)),
            ("coherence", lambda: inv.coherence(matrix)),
            (f"sub_rank(s={half})", lambda: inv.sub_rank(matrix, half, time_limit=time_limit, progress=show)),
        ]
    results = [(name, compute()) for name, compute in todo]
    if json_out:
        print_json({"source": label, "results": [r.to_dict() for _, r in results]})
        return
    from theorychk.cli import _table  # not rich: its import was a tenth of this command's start-up

    def num(value: Any) -> str:  # rationals shown to 6 digits; --json has them exactly
        return "-" if value is None else (str(value) if isinstance(value, int) else f"{float(value):.6g}")

    rows = []
    for name, r in results:
        d = r.to_dict()
        rows.append([
            name,
            num(r.value),
            f"[{num(r.lower.value)}, {num(r.upper.value)}]",
            cell(d["status"] + (f": {r.reason}" if r.reason else "")),
            cell(r.lower.method),
            cell(r.upper.method),
            f"{r.elapsed:.3f}",
        ])
    _table.echo(f"invariants of {label}",
                ("invariant", "value", "bounds", "status", "lower bound by", "upper bound by", "seconds"), rows)
