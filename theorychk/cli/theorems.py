"""``theorychk theorems`` (list the executable theorems) and ``theorychk falsify THEOREM``."""


from typing import Annotated

import typer

from theorychk.cli import JsonOpt, app, print_json


@app.command("theorems")
def theorems_cmd(
    as_json: JsonOpt = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the theory guide (docs/theory.md) instead.")] = False,
) -> None:
    """List the theorems theorychk checks: name, citation, statement, status."""
    from theorychk.theorems import all_theorems

    if markdown:
        from theorychk.theorems.guide import render

        typer.echo(render(), nl=False)
        return
    items = all_theorems()
    if as_json:
        print_json([t.to_dict() for t in items])
        return
    for t in items:
        search = "" if t.instances is not None else "  (no falsify strategy)"
        typer.echo(f"{t.name:<40} {t.status:<17} {t.title}{search}")
        typer.echo(f"    {t.summary}")
        typer.echo(f"    [{t.citation}]")


@app.command("falsify")
def falsify_cmd(
    theorem: Annotated[str, typer.Argument(help="Theorem name, e.g. lei2019.lemma1 (see `theorychk theorems`).")],
    budget: Annotated[int, typer.Option("--budget", help="Hypothesis max_examples.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the search (reproducible).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Let Hypothesis search for an instance where the hypotheses hold and the conclusion fails.

    Exit code 0 if no counterexample was found, 1 if one was (like `theorychk check` and `reduce`
    when they refute), 2 on bad input.
    """
    from theorychk.theorems import falsify, get_theorem
    from theorychk.theorems.base import describe

    thm = get_theorem(theorem)
    res = falsify(thm, budget=budget, seed=seed)
    if as_json:
        print_json({"theorem": thm.name, "budget": budget, "seed": seed, "found": res.found,
                    "examples": res.examples, "hypotheses_held": res.hypotheses_held,
                    "counterexample": describe(res.counterexample) if res.found else None,
                    "hypotheses": res.hypotheses.to_dict() if res.hypotheses else None,
                    "conclusion": res.conclusion.to_dict() if res.conclusion else None})
    else:
        if thm.bound is not None:
            typer.echo(f"predicted bound of {thm.name}:\n{thm.pretty_bound()}\n")
        typer.echo(str(res))
    if res.found:
        raise typer.Exit(1)
