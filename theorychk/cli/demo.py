"""``theorychk demo``: the toolkit's main jobs on the bundled zoo nets, in about a minute on 2 cores.

The demo runs the very commands a user would type (each step's command line is printed in the
report), in-process with ``--json``, and writes ``report.md`` for a person to read: first a verdict
per signal in words (is its latent code unique, by which theorem, how far each inversion method's
estimate was from it), a short glossary, a figure when matplotlib is installed (else a note saying
how to get it), then the details of each step:

1. ``info`` on the zoo nets;
2. ``certify`` a batch of signals of ``zoo:vae-relu`` and ``check`` every certificate with the
   trusted checker; ``certify`` on ``zoo:aberdam``, whose first layer is refuted non-injective
   with an exact witness pair (the refuted case);
3. ``invert`` the same signals with three methods (``linf``, ``latent``, ``gd``);
4. ``reduce`` a random 3-CNF formula to a ReLU network and verify it with PySAT and the MILP;
5. one small experiment (``injectivity``: Lemma 1 of paper 001 against exact decisions; it draws
   plots, so it needs matplotlib and is skipped without it).

Every link in the report is relative to the report's folder and points to a file the demo wrote.
"""


import contextlib
import io
import json
import math
import shlex
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from theorychk.cli import app, out_folder
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


#: The per-signal uniqueness claims, in words (see docs/certificates.md for each).
UNIQUENESS_WORDS = {
    "aberdam_thm1": "Theorem 1 of Aberdam, Simon & Elad (2020)",
    "polytope": "the layer-wise polytope test",
    "complete": "an exact branch-and-bound search with a replayable certificate",
    "lei_thm2": "Theorem 2 of Lei et al. (2019)",
    "milp_global": "an exact MILP search for a second latent code",
}
#: The inversion methods the demo runs, in words.
METHOD_WORDS = {"linf": "Lei et al.'s layer-wise linear programs (linf)",
                "latent": "Aberdam et al.'s latent pursuit (latent)", "gd": "gradient descent (gd)"}
GLOSSARY = """\
* **CERTIFIED** — a claim proved for this signal, with evidence that `theorychk check` re-verifies
  in exact arithmetic; **REFUTED** — proved false, with a witness (e.g. two latent codes with the
  same output); **UNKNOWN** — not decided (time limit, or a hypothesis does not hold), with the reason.
* **SOLVED** — an inversion method returned a latent code ẑ whose output G(ẑ) reproduces the signal
  within the stated tolerance; otherwise the method reports why not (e.g. a time limit).
* **relative error** — ‖ẑ − z‖₂ / ‖z‖₂, how far the recovered code ẑ is from the true one z.
* **VERIFIED / REJECTED** — the trusted checker's verdict on a certificate file.

The full definitions are in `docs/glossary.md` of the theorychk sources."""


def _matplotlib() -> Any:
    """matplotlib.pyplot on the Agg backend, or ``None`` when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _link(root: Path, path: Path) -> str:
    """A markdown link to ``path`` relative to the report's folder (the path must exist)."""
    rel = path.relative_to(root).as_posix()
    return f"[`{rel}`]({rel})"


def _uniqueness(cert: dict[str, Any]) -> str:
    """The verdict on one certificate's latent code, in words."""
    claims = [c for c in cert["claims"] if c["kind"] in UNIQUENESS_WORDS]
    refuted = [c for c in claims if c["status"] == "REFUTED"]
    certified = [c for c in claims if c["status"] == "CERTIFIED"]
    if refuted:
        return (f"is **not unique**: {UNIQUENESS_WORDS[refuted[0]['kind']]} found a second latent code with the "
                "same output (REFUTED, with both codes in the certificate)")
    if certified:
        by = "; ".join(UNIQUENESS_WORDS[c["kind"]] for c in certified)
        return f"is **unique** (CERTIFIED by {by})"
    reasons = "; ".join(sorted({str(c.get("reason", "")) for c in claims if c.get("reason")}))[:200]
    return f"is **undecided**: no uniqueness claim was decided (UNKNOWN{': ' + reasons if reasons else ''})"


def _recovery(method: str, result: dict[str, Any], rel: float) -> str:
    if not math.isfinite(rel):
        return f"{METHOD_WORDS[method]} gave no estimate ({result['status']}: {result['reason'] or 'no reason'})"
    if result["status"] == "SOLVED":
        return f"{METHOD_WORDS[method]} recovered it to a relative error of {rel:.1e} (SOLVED)"
    why = f": {result['reason']}" if result.get("reason") else ""
    return f"{METHOD_WORDS[method]} came within a relative error of {rel:.1e} but ended {result['status']}{why}"


@app.command()
def demo(
    out: Annotated[str, typer.Option("--out", help="Folder for the report, certificates and plots.")] = "theorychk-demo",
    samples: Annotated[int, typer.Option("--samples", min=1, help="Signals to certify and invert.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of every random step.")] = 0,
) -> None:
    """Run the main jobs on the bundled zoo nets and write a report for people to --out/report.md."""
    import numpy as np

    from theorychk import zoo
    from theorychk.certify.certificate import sample_latents

    out_folder(out)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    plt = _matplotlib()
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
                       "--out", str(certs / "vae-relu"), "--time-limit", "20", "--json"], log)
    _, refuted = _run(["certify", "zoo:aberdam", "--samples", "1", "--seed", str(seed),
                       "--out", str(certs / "aberdam"), "--time-limit", "10", "--json"], log)
    checks, checked = [], {}
    for path in sorted(certs.rglob("*.json")):
        code, _ = _run(["check", str(path), "--json"], log)
        checked[path] = "VERIFIED" if code == 0 else "REJECTED"
        checks.append([_link(root, path), checked[path]])
    counts = _table(["claim", "CERTIFIED", "REFUTED", "UNKNOWN"],
                    [[k, v["CERTIFIED"], v["REFUTED"], v["UNKNOWN"]] for k, v in summary["counts"].items()])
    layers = _table(["layer", "shape", "status", "method"],
                    [[r.get("layer"), r.get("shape", ""), r.get("status"), r.get("method", "")]
                     for r in refuted.get("injectivity") or []])
    sections.append(
        f"## 2. Certification\n\n`zoo:vae-relu`, {samples} signals — claims per status:\n\n{counts}\n\n"
        f"`zoo:aberdam` (the refuted case: a layer that is not injective), the whole model:\n\n{layers}\n\n"
        "Every certificate re-checked by the trusted checker (exact arithmetic, fails closed):\n\n"
        + _table(["certificate", "checker"], checks)
    )

    say("3/5 invert the same signals with three methods")
    net = zoo.load("vae-relu")
    z = np.array([[float(v) for v in row] for row in sample_latents(net, samples, seed)])  # certify's latents
    np.save(root / "signals.npy", net.forward(z))
    np.save(root / "latents.npy", z)
    rel_err: dict[str, np.ndarray] = {}
    results: dict[str, list[dict[str, Any]]] = {}
    rows = []
    for method in METHOD_WORDS:
        target = root / f"latent_{method}.npy"
        _, res = _run(["invert", "zoo:vae-relu", "--signal", str(root / "signals.npy"), "--method", method,
                       "--seed", str(seed), "--out", str(target), "--json"], log)
        rel_err[method] = np.linalg.norm(np.load(target) - z, axis=1) / np.linalg.norm(z, axis=1)
        results[method] = res["results"]
        statuses = [r["status"] for r in res["results"]]
        rows.append([method, f"{statuses.count('SOLVED')}/{len(statuses)}", f"{np.nanmedian(rel_err[method]):.1e}",
                     f"{np.nanmax(rel_err[method]):.1e}", f"{sum(r['elapsed_seconds'] for r in res['results']):.2f}"])
    sections.append("## 3. Inversion of the same signals\n\n"
                    + _table(["method", "SOLVED", "median relative error", "max relative error", "seconds"], rows))

    say("4/5 an NP-hardness instance")
    code, red = _run(["reduce", "--vars", "5", "--clauses", "21", "--seed", str(seed + 1), "--verify",
                      "--out", str(root / "reduction"), "--json"], log)
    inst, ver = red["instance"], red.get("verification", {})
    rows = [[c["name"], c["status"], c["method"], c["message"]] for c in ver.get("checks", [])]
    sections.append(
        "## 4. A 3SAT → ReLU instance, verified\n\n"
        f"Formula `{inst['formula']}` ({inst['n_vars']} variables, {inst['n_clauses']} clauses), construction "
        f"`{inst['construction']}`: network widths {' → '.join(map(str, inst['widths']))}. "
        f"Statement: {inst['statement']}.\n\n"
        f"Verification: **{ver.get('status', 'not run')}**; PySAT: {(ver.get('sat') or {}).get('status', '?')}. "
        f"Files (ONNX, VNN-LIB, DIMACS, .npz, JSON): {_link(root, root / 'reduction')}.\n\n"
        + _table(["check", "status", "method", "finding"], rows)
    )

    say("5/5 a small experiment")
    if plt is None:
        sections.append("## 5. Experiment: is a Gaussian ReLU layer injective?\n\nSkipped: the experiments draw "
                        "plots and matplotlib is not installed. Install it with `pip install '.[plot]'` (from "
                        "the theorychk sources) or `pip install matplotlib`, then run `theorychk demo` again, or "
                        f"`theorychk experiment injectivity --seed {seed}` on its own.")
    else:
        _run(["experiment", "injectivity", "--seed", str(seed), "--out", str(root / "experiment"), "--quiet"], log)
        found = [p for p in [root / "experiment" / "report.md", *sorted((root / "experiment").glob("*.png"))]
                 if p.exists()]
        sections.append("## 5. Experiment: is a Gaussian ReLU layer injective?\n\nLemma 1 of Lei et al. (2019) "
                        "against exact decisions of injectivity. The experiment's own report and plots: "
                        + ", ".join(_link(root, p) for p in found) + ".")

    verdicts = _verdicts(root, certs, checked, results, rel_err, refuted)
    figure = _figure(root, plt, rel_err)
    commands = _table(["command", "exit", "seconds"], [[f"`{e['command']}`", e["exit"], f"{e['seconds']:.1f}"] for e in log])
    report = root / "report.md"
    report.write_text(
        "# theorychk demo\n\n"
        f"theorychk certified and inverted {samples} signals of the zoo net `zoo:vae-relu` (and one of "
        f"`zoo:aberdam`), reduced a 3SAT formula to a ReLU network and ran a small experiment, in "
        f"{time.perf_counter() - start:.0f} s. Every step is a command you can run yourself (listed at the end).\n\n"
        "## Verdicts, signal by signal\n\n" + verdicts + "\n\n## Words used here\n\n" + GLOSSARY
        + "\n\n## Figure\n\n" + figure + "\n\n" + "\n\n".join(sections)
        + "\n\n## Commands run\n\n" + commands + "\n")
    say(f"report written to {report}")


def _verdicts(root: Path, certs: Path, checked: dict[Path, str], results: dict[str, list[dict[str, Any]]],
              rel_err: "dict[str, np.ndarray]", refuted: dict[str, Any]) -> str:
    """One paragraph per signal: uniqueness in words, the certificate, how well each method recovered it."""
    lines = []
    for i, path in enumerate(sorted((certs / "vae-relu").glob("signal-*.json"))):
        cert = json.loads(path.read_text())
        recovered = "; ".join(_recovery(m, results[m][i], float(rel_err[m][i])) for m in results)
        lines.append(f"* **Signal {i}** of `zoo:vae-relu`: its latent code {_uniqueness(cert)}. Certificate "
                     f"{_link(root, path)}, re-checked: {checked[path]}. Inverting it, {recovered}.")
    for path in sorted((certs / "aberdam").glob("signal-*.json")):
        cert = json.loads(path.read_text())
        bad = [r for r in refuted.get("injectivity") or [] if r.get("status") == "REFUTED"]
        whole = (f" The network as a whole is **not injective**: layer {bad[0].get('layer')} "
                 f"({bad[0].get('shape', '')}) is REFUTED with two inputs it maps to the same output, so "
                 "uniqueness holds for some signals and not for others." if bad else "")
        lines.append(f"* **Signal 0** of `zoo:aberdam`: its latent code {_uniqueness(cert)}. Certificate "
                     f"{_link(root, path)}, re-checked: {checked[path]}.{whole}")
    return "\n".join(lines)


def _figure(root: Path, plt: Any, rel_err: "dict[str, np.ndarray]") -> str:
    """The inversion errors as a bar chart beside the report, or a note on how to get it."""
    import numpy as np

    if plt is None:
        return ("No figure: matplotlib is not installed. Install it with `pip install '.[plot]'` (from the "
                "theorychk sources) or `pip install matplotlib` and run `theorychk demo` again.")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    n = len(next(iter(rel_err.values())))
    width = 0.8 / len(rel_err)
    for k, (method, err) in enumerate(rel_err.items()):
        shown = np.where(np.isfinite(err), np.clip(err, 1e-17, None), np.nan)  # no estimate: no bar
        ax.bar(np.arange(n) + k * width, shown, width, label=method)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(n) + 0.4 - width / 2, [f"signal {i}" for i in range(n)])
    ax.set_ylabel("relative error ‖ẑ − z‖ / ‖z‖")
    ax.set_title("zoo:vae-relu: how far each method's estimate is from the true latent")
    ax.legend()
    fig.tight_layout()
    path = root / "inversion-errors.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"![relative error of each method, per signal]({path.name})"
