"""``theorychk demo``: the toolkit's main jobs on the bundled zoo nets, in a few minutes on 2 cores.

The demo runs the very commands a user would type (each step's command line is printed in the
report), in-process with ``--json``, and writes ``report.md`` with the numbers and plots:

1. ``info`` on the zoo nets;
2. ``certify`` a batch of signals of ``zoo:vae-relu`` and ``check`` every certificate with the
   trusted checker; ``certify`` on ``zoo:aberdam``, whose first layer is refuted non-injective
   with an exact witness pair (the refuted case);
3. ``invert`` the same signals with three methods (``linf``, ``latent``, ``gd``);
4. ``reduce`` a random 3-CNF formula to a ReLU network and verify it with PySAT and the MILP;
5. one small experiment (``injectivity``: Lemma 1 of paper 001 against exact decisions).
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from theorychk.cli import app
from theorychk.errors import SolverError


def _run(argv: list[str], log: list[dict[str, Any]]) -> tuple[int, Any]:
    """Run one ``theorychk`` command in-process; return its exit code and parsed JSON output."""
    from theorychk.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue()
    try:
        data = json.loads(text) if "--json" in argv else text
    except json.JSONDecodeError:
        data = text
    log.append({"command": "theorychk " + shlex.join(argv), "exit": code, "seconds": time.perf_counter() - start,
                "stderr": err.getvalue().strip()})
    if code not in (0, 1):  # 1 is a legitimate verdict (a refuted reduction, a rejected certificate)
        raise SolverError(f"demo step failed: theorychk {shlex.join(argv)}: {err.getvalue().strip()}")
    return code, data


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@app.command()
def demo(
    out: Annotated[str, typer.Option("--out", help="Folder for the report, certificates and plots.")] = "theorychk-demo",
    samples: Annotated[int, typer.Option("--samples", help="Signals to certify and invert.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
) -> None:
    """Run the main jobs on the bundled zoo nets and write a markdown report to --out."""
    import numpy as np

    from theorychk import zoo

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    log: list[dict[str, Any]] = []
    sections: list[str] = []
    say = typer.echo

    say("1/5 the zoo nets")
    rows = []
    for name in zoo.names():
        _, facts = _run(["info", f"zoo:{name}", "--json"], log)
        rows.append([name, " → ".join(map(str, facts["widths"])), ", ".join(l["activation"] for l in facts["layers"]),
                     facts["n_params"], facts["fingerprint"][:12]])
    sections.append("## 1. The zoo nets\n\n" + _table(["net", "widths", "activations", "parameters", "fingerprint"], rows))

    say("2/5 certify signals and re-check the certificates")
    certs = root / "certificates"
    _, summary = _run(["certify", "zoo:vae-relu", "--samples", str(samples), "--seed", str(seed),
                       "--out", str(certs / "vae-relu"), "--time-limit", "60", "--json"], log)
    _, refuted = _run(["certify", "zoo:aberdam", "--samples", "1", "--seed", str(seed),
                       "--out", str(certs / "aberdam"), "--time-limit", "20", "--json"], log)
    checks = []
    for path in sorted(certs.rglob("*.json")):
        code, _ = _run(["check", str(path), "--json"], log)
        checks.append([path.relative_to(root), "VERIFIED" if code == 0 else "REJECTED"])
    sections.append(
        "## 2. Certification\n\n"
        f"`zoo:vae-relu`, {samples} signals — counts per claim:\n\n```json\n{json.dumps(summary.get('counts', summary), indent=1)}\n```\n\n"
        "`zoo:aberdam` (the refuted case: its first layer, 24 × 8 ReLU, is not injective):\n\n"
        f"```json\n{json.dumps(refuted.get('injectivity', refuted.get('counts', refuted)), indent=1)[:3000]}\n```\n\n"
        "Every certificate re-checked by the trusted checker (exact arithmetic, fails closed):\n\n"
        + _table(["certificate", "checker"], checks)
    )

    say("3/5 invert with three methods")
    net = zoo.load("vae-relu")
    z = np.random.default_rng(seed).standard_normal((samples, net.latent_dim))
    np.save(root / "signals.npy", net.forward(z))
    np.save(root / "latents.npy", z)
    rows = []
    for method in ("linf", "latent", "gd"):
        target = root / f"latent_{method}.npy"
        _, res = _run(["invert", "zoo:vae-relu", "--signal", str(root / "signals.npy"), "--method", method,
                       "--seed", str(seed), "--out", str(target), "--json"], log)
        err = np.abs(np.load(target) - z).max(axis=1)
        statuses = [r["status"] for r in res["results"]]
        rows.append([method, f"{statuses.count('SOLVED')}/{len(statuses)}", f"{np.nanmedian(err):.2e}",
                     f"{np.nanmax(err):.2e}", f"{sum(r['elapsed_seconds'] for r in res['results']):.2f}"])
    sections.append("## 3. Inversion of the same signals\n\n"
                    + _table(["method", "SOLVED", "median ‖ẑ − z‖∞", "max ‖ẑ − z‖∞", "seconds"], rows))

    say("4/5 an NP-hardness instance")
    code, red = _run(["reduce", "--vars", "5", "--clauses", "21", "--seed", str(seed + 1), "--verify",
                      "--out", str(root / "reduction"), "--json"], log)
    inst, ver = red["instance"], red.get("verification", {})
    checks = [[c["name"], c["status"], c["method"], c["message"]] for c in ver.get("checks", [])]
    sections.append(
        "## 4. A 3SAT → ReLU instance, verified\n\n"
        f"Formula `{inst['formula']}` ({inst['n_vars']} variables, {inst['n_clauses']} clauses), construction "
        f"`{inst['construction']}`: network widths {' → '.join(map(str, inst['widths']))}, target "
        f"{inst['target']}. Statement: {inst['statement']}.\n\n"
        f"Verification: **{ver.get('status', 'not run')}**; PySAT: {(ver.get('sat') or {}).get('status', '?')}. "
        f"Files (ONNX, VNN-LIB, DIMACS, "
        f".npz, JSON) are in `reduction/`.\n\n" + _table(["check", "status", "method", "finding"], checks)
    )

    say("5/5 a small experiment")
    _run(["experiment", "injectivity", "--seed", str(seed), "--out", str(root / "experiment"), "--quiet"], log)
    exp_report = root / "experiment" / "report.md"
    plots = sorted((root / "experiment").glob("*.png"))
    sections.append("## 5. Experiment: is a Gaussian ReLU layer injective?\n\n"
                    + (exp_report.read_text() if exp_report.exists() else "(no report)") + "\n\n"
                    + "\n".join(f"![{p.stem}](experiment/{p.name})" for p in plots))

    commands = _table(["command", "exit", "seconds"], [[f"`{e['command']}`", e["exit"], f"{e['seconds']:.1f}"] for e in log])
    report = root / "report.md"
    report.write_text("# theorychk demo\n\nEvery step below is a command you can run yourself.\n\n"
                      + "\n\n".join(sections) + "\n\n## Commands run\n\n" + commands + "\n")
    say(f"report written to {report}")
