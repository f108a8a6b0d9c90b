"""``theorychk benchmark``: write a hardness benchmark folder, or re-check one's ground truth."""


from pathlib import Path
from typing import Annotated, Any

import typer

from theorychk.cli import JsonOpt, app, print_json
from theorychk.errors import InvalidInput


@app.command()
def benchmark(
    name: Annotated[str, typer.Argument(help="Benchmark to write (hardness, hardness-mini), or 'verify'.")],
    folder: Annotated[
        Path | None, typer.Argument(help="With 'verify': the benchmark folder to re-check.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder to write the benchmark into.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the random formulas and graphs (default 2026).")] = None,
    no_onnxruntime: Annotated[
        bool, typer.Option("--no-onnxruntime", help="verify: skip the onnxruntime replay (SAT instances end UNKNOWN).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write a VNN-COMP benchmark of 3SAT -> ReLU instances with certified ground truth, or re-check one.

    theorychk benchmark hardness --out DIR [--seed S] writes onnx/, vnnlib/, cnf/, proofs/,
    instances.csv, manifest.json, generate_properties.py and README.md.
    theorychk benchmark verify DIR re-checks every instance from the files, without a SAT solver
    or a MILP: each ONNX network is the construction rebuilt from its DIMACS formula, each SAT
    witness is an exact preimage (and onnxruntime reproduces the target), each DRUP proof is
    accepted by theorychk's RUP checker.

    Exit codes: 0 written / every instance's ground truth VERIFIED; 1 some instance REJECTED or UNKNOWN;
    2 bad arguments or an unreadable folder.
    """
    if name == "verify":
        if folder is None:
            raise InvalidInput("benchmark verify needs the folder to re-check: theorychk benchmark verify DIR",
                               argument="FOLDER", got=folder)
        for given, opt in ((out, "--out"), (seed, "--seed")):
            if given is not None:
                raise InvalidInput(f"{opt} is for writing a benchmark, not for 'benchmark verify'",
                                   argument=opt, got=given)
        _verify(folder, onnxruntime=not no_onnxruntime, json_out=json_out)
        return
    if folder is not None:
        raise InvalidInput(f"unexpected argument {str(folder)!r}; write with: theorychk benchmark {name} --out DIR",
                           argument="FOLDER", got=str(folder))
    if out is None:
        raise InvalidInput(f"give the folder to write into: theorychk benchmark {name} --out DIR",
                           argument="--out", got=out)
    if no_onnxruntime:
        raise InvalidInput("--no-onnxruntime is for 'benchmark verify'",
                           argument="--no-onnxruntime", got=no_onnxruntime)
    from theorychk.reduction.benchmark import DEFAULT_SEED, generate_benchmark

    manifest = generate_benchmark(name, out, seed=DEFAULT_SEED if seed is None else seed)
    entries = manifest["instances"]
    n_sat = sum(e["expected"] == "SAT" for e in entries)
    summary = {"benchmark": manifest["benchmark"], "seed": manifest["seed"], "folder": str(out),
               "instances": len(entries), "sat": n_sat, "unsat": len(entries) - n_sat}
    if json_out:
        print_json(summary)
    else:
        typer.echo(f"wrote {len(entries)} instances ({n_sat} sat, {len(entries) - n_sat} unsat) of benchmark "
                   f"{manifest['benchmark']} (seed {manifest['seed']}) to {out}")


def _verify(folder: Path, *, onnxruntime: bool, json_out: bool) -> None:
    from theorychk.reduction.benchmark import verify_benchmark

    if not folder.is_dir():
        raise InvalidInput(f"benchmark folder not found: {folder}", argument="FOLDER", got=str(folder))
    results = verify_benchmark(folder, onnxruntime=onnxruntime)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    data: dict[str, Any] = {"folder": str(folder), "instances": len(results), "counts": counts,
                            "results": [r.to_dict() for r in results]}
    if json_out:
        print_json(data)
    else:
        bad = [r for r in results if r.status.value != "VERIFIED"]
        for r in bad:
            typer.echo(f"{r.status.value}: {r.name}: {r.message}")
        typer.echo(f"{counts.get('VERIFIED', 0)}/{len(results)} instances VERIFIED"
                   + (f", {len(bad)} not" if bad else " (ground truth re-checked)"))
    if any(r.status.value != "VERIFIED" for r in results):
        raise typer.Exit(code=1)
