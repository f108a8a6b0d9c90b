"""``theorychk experiment NAME``: reproduce a figure or table of the papers (see docs/experiments.md)."""


from typing import Annotated

import typer

from theorychk.cli import app, out_folder


@app.command()
def experiment(
    name: Annotated[str, typer.Argument(help="lei-success, lei-noise, lei-cputime, aberdam-fig4, zoo-inpainting, "
                                             "injectivity, hardness.")],
    runs: Annotated[int | None, typer.Option("--runs", help="Runs per grid point (default: the size's own).")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the sweep; every CSV row records its task seed.")] = 0,
    out: Annotated[str | None, typer.Option("--out", help="Output directory (default experiments-out/NAME-SIZE); "
                                                          "an existing runs.csv there is resumed.")] = None,
    dask: Annotated[str | None, typer.Option("--dask", help="Run the tasks on this Dask scheduler (tcp://host:8786).")] = None,
    full: Annotated[bool, typer.Option("--full", help="The paper's size (hours for some; see docs/experiments.md).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Run (or resume) an experiment: writes runs.csv, PNG plots and report.md; prints where the report is."""
    from theorychk.experiments import get_experiment, run_experiment

    get_experiment(name)  # an unknown name fails before any work
    out_folder(out)
    res = run_experiment(name, full=full, runs=runs, seed=seed, out=out, dask=dask, quiet=quiet)
    state = "" if res.complete else f" (incomplete: {res.tasks_run} tasks run this time)"
    typer.echo(f"{res.name}: {res.tasks} tasks{state}, {res.seconds:.1f} s; report: {res.report}")
