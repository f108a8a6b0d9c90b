"""``theorychk invert MODEL --signal Y.npy``: recover latent codes with any registered method."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from theorychk.cli import (
    ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, load_array, load_model, print_json,
)
from theorychk.errors import InvalidInput


@app.command()
def invert(
    model: ModelArg,
    signal: Annotated[str, typer.Option("--signal", help="Y.npy: one signal (n,) or a batch (batch, n).")],
    method: Annotated[str, typer.Option("--method", help="Inversion method (see --list-methods).")] = "linf",
    mask: Annotated[str | None, typer.Option("--mask", help="MASK.npy: boolean (n,) of observed outputs.")] = None,
    noise: Annotated[float | None, typer.Option("--noise", help="Declared noise level.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds per signal.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for randomised methods.")] = None,
    out: Annotated[str | None, typer.Option("--out", help="Write the latent estimates to this .npy file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Invert each signal with METHOD; print status, residuals and timing per signal."""
    from theorychk.runtime import progress
    from theorychk.solvers import get_method, invert as run

    net = load_model(model, layers, activation, final_activation)
    get_method(method)  # an unknown name fails before any work, listing the valid ones
    signals = load_array(signal, "signal")
    batch = signals[None, :] if signals.ndim == 1 else signals
    if batch.ndim != 2:
        raise InvalidInput(f"signal must be 1-D (n,) or 2-D (batch, n); got shape {signals.shape}")
    mask_arr = None if mask is None else load_array(mask, "mask")
    seeds = np.random.SeedSequence(seed).spawn(batch.shape[0])
    results = []
    with progress(f"inverting with {method}", total=batch.shape[0], quiet=quiet or json_out) as bar:
        for row, child in zip(batch, seeds):
            results.append(
                run(net, row, method=method, mask=mask_arr, noise=noise, time_limit=time_limit, seed=np.random.default_rng(child))
            )
            bar.advance()
    if out is not None:
        latents = np.array([r.latent if r.latent is not None else np.full(net.latent_dim, np.nan) for r in results])
        np.save(out, latents[0] if signals.ndim == 1 else latents)
    if json_out:
        print_json({"model": model, "method": method, "results": [r.to_dict() for r in results]})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{method} on {model}: {len(results)} signal(s)")
    for col in ("signal", "status", "residual l2", "residual linf", "seconds", "reason"):
        table.add_column(col)
    for i, r in enumerate(results):
        reason = r.reason if len(r.reason) <= 60 else r.reason[:57] + "..."  # full text in --json
        table.add_row(str(i), r.status.value, f"{r.residual_l2:.3g}", f"{r.residual_linf:.3g}", f"{r.elapsed:.3f}", reason)
    console = Console()
    console.print(table)
    if out is not None:
        console.print(f"latent estimates written to {out}")
