"""``theorychk reduce``: build a 3SAT → ReLU-network instance, export it, verify it."""


import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from theorychk.cli import JsonOpt, app, cell, out_folder, positive_seconds, print_json
from theorychk.errors import InvalidInput
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline


def _source(cnf: Path | None, n_vars: int | None, n_clauses: int | None, seed: int | None, k: int):
    from theorychk.reduction.cnf import random_kcnf, read_dimacs

    random_opts = {"--vars": n_vars, "--clauses": n_clauses, "--seed": seed}
    given = [name for name, value in random_opts.items() if value is not None]
    if cnf is not None:
        if given:
            raise InvalidInput(
                f"give either --cnf FILE or --vars N --clauses M --seed S, not both; got --cnf and {given[0]}",
                argument="--cnf", got=str(cnf)
            )
        return read_dimacs(cnf)
    missing = [name for name, value in random_opts.items() if value is None]
    if missing:
        raise InvalidInput(
            f"give --cnf FILE, or --vars N --clauses M --seed S for a random {k}-CNF; missing {', '.join(missing)}",
            argument=missing[0], got=None
        )
    return random_kcnf(n_vars, k=k, n_clauses=n_clauses, seed=seed)  # type: ignore[arg-type]


@app.command()
def reduce(
    cnf: Annotated[Path | None, typer.Option("--cnf", help="DIMACS CNF file to reduce (read strictly).")] = None,
    n_vars: Annotated[int | None, typer.Option("--vars", help="Random k-CNF: number of variables.")] = None,
    n_clauses: Annotated[int | None, typer.Option("--clauses", help="Random k-CNF: number of clauses.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random k-CNF: seed (numpy Generator).")] = None,
    k: Annotated[int, typer.Option("--k", help="Random k-CNF: literals per clause.")] = 3,
    construction: Annotated[
        str, typer.Option("--construction", help="binary, printed, four-layer, bias-free, one-hidden or katz.")
    ] = "four-layer",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write .cnf/.onnx/.vnnlib/.npz/.json (and the DRUP proof) here.")
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Verify: PySAT + DRUP proof, exact arithmetic, the MILP on SAT formulas.")
    ] = False,
    milp_gap: Annotated[
        bool, typer.Option("--milp-gap", help="--verify: also prove the UNSAT gap with the MILP (slow cross-check).")
    ] = False,
    time_limit: Annotated[
        float, typer.Option("--time-limit", callback=positive_seconds, help="Wall-clock seconds for the whole --verify ('inf': no limit); "
                                                 "parts left then end UNKNOWN \"time limit\".")
    ] = DEFAULT_TIME_LIMIT,
    exhaustive_max_vars: Annotated[
        int,
        typer.Option("--exhaustive-max-vars", help="Exhaustive Boolean check up to this many variables, sampled beyond."),
    ] = 12,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Reduce a CNF formula to "is the target in the range of this ReLU network?", and check it.

    A formula with no clause (or no variable) is refused: it has no network to build.
    On an unsatisfiable formula --verify needs no MILP: the DRUP proof plus the exact check that
    the network is the construction's (whose theorem gives the gap); --milp-gap adds the MILP.

    Exit codes: 0 the instance was built (and with --verify every check is CERTIFIED);
    1 --verify ended REFUTED (expected for --construction printed) or UNKNOWN (time limit);
    2 bad input (one line on stderr).
    """
    from theorychk.reduction.constructions import construct
    from theorychk.reduction.export import export_instance

    if milp_gap and not verify:
        raise InvalidInput("--milp-gap is a part of --verify; add --verify",
                           argument="--milp-gap", got=milp_gap)
    out_folder(out)
    formula = _source(cnf, n_vars, n_clauses, seed, k)
    instance = construct(formula, construction)
    data: dict[str, Any] = {"instance": instance.summary(), "files": None, "verification": None}
    if out is not None:
        data["files"] = {kind: str(p) for kind, p in export_instance(instance, out).items()}
    if construction in ("printed", "katz"):
        from theorychk.reduction import flaws

        find = flaws.printed_counterexamples if construction == "printed" else flaws.katz_counterexamples
        data["counterexamples"] = [c.to_dict() for c in find(formula)]
    report = None
    if verify:
        from theorychk.reduction.verify import verify as run_verify

        report = run_verify(instance, time_limit=Deadline(time_limit).seconds, exhaustive_max_vars=exhaustive_max_vars,
                            proof_dir=out, quiet=quiet or json_out, milp_gap=milp_gap)
        data["verification"] = report.to_dict()
        if report.proof_path and data["files"] is not None:
            data["files"]["proof"] = report.proof_path
    if json_out:
        print_json(data)
    else:
        _print_tables(data)
    if report is not None and report.status.value != "CERTIFIED":
        raise typer.Exit(code=1)


def _short(values: list[str], limit: int = 8) -> str:
    text = ", ".join(values[:limit])
    return text + (f", ... ({len(values)} values)" if len(values) > limit else "")


def _print_tables(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(markup=False, highlight=False)
    s = data["instance"]
    table = Table(title=f"{s['name']}", show_header=False)
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    box = s["latent_box"]
    rows = [
        ("construction", s["construction"] + ("  (FLAWED: kept to exhibit counterexamples)" if s["flawed"] else "")),
        ("formula", f"{s['formula']}: {s['n_vars']} variables, {s['n_clauses']} clauses"),
        ("network", " -> ".join(map(str, s["widths"])) + ("" if s["biases"] else "  (no biases)")),
        ("target", _short(s["target"])),
        ("latent", ("{" if s["binary_latent"] else "[") + f"{box['lo']}, {box['hi']}" +
         ("}" if s["binary_latent"] else "]") + f"^{s['widths'][0]}"),
        ("gap (l_inf)", "none claimed" if s["gap_linf"] is None else str(s["gap_linf"])),
        ("statement", s["statement"]),
    ]
    for key, value in rows:
        table.add_row(key, cell(value))
    console.print(table)
    if data["files"]:
        for kind, path in data["files"].items():
            console.print(f"wrote {kind}: {path}", soft_wrap=True)
    for c in data.get("counterexamples", []):
        console.print(f"counterexample [{c['kind']}]: {c['explanation']}", soft_wrap=True)
    v = data["verification"]
    if v is not None:
        checks = Table(title=f"verification: {v['status']} (SAT solver: {v['sat']['status']})")
        for col in ("check", "status", "method", "result"):
            checks.add_column(col, overflow="fold")
        for c in v["checks"]:
            checks.add_row(c["name"], c["status"], cell(c["method"]), cell(c["message"]))
        console.print(checks)
