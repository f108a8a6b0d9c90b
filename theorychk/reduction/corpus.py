"""The ``reductions/`` corpus: generate it, and re-check its expected answers.

The corpus is a VNN-COMP style benchmark folder (``instances.csv`` with ``onnx,vnnlib,timeout``
rows, ``generate_properties.py <seed>``) that also carries the source formulas, the networks as
``.npz``, the DRUP proofs of the unsatisfiable formulas, and ``manifest.json`` with every
instance's expected answer, construction, size, seed, file names, ε and — for satisfiable
formulas — an exact witness latent. Regenerate it with::

    python -m theorychk.reduction.corpus reductions --seed 2024

(or ``python reductions/generate_properties.py 2024``). Generation is deterministic: the same
seed gives byte-identical files, except the ``.npz`` archives, whose zip entries carry a
timestamp (their arrays are identical; the regeneration test compares those by content).

:func:`check_corpus` re-verifies a corpus folder: PySAT's answer on each DIMACS file, the
witness of each satisfiable instance through the network read back from the ONNX file (exact),
the DRUP proof of each unsatisfiable one, the VNN-LIB property read back against the manifest,
and optionally the MILP on the smaller instances.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from theorychk.errors import ExactCheckFailed, InvalidInput
from theorychk.reduction.cnf import (
    CNF,
    SatStatus,
    assignment_to_literals,
    check_drup,
    genhard,
    graph_coloring,
    random_kcnf,
    solve,
    write_dimacs,
)
from theorychk.reduction.constructions import construct, exact_output
from theorychk.reduction.export import EPSILON, decimal, read_vnnlib, with_explicit_biases, write_onnx, write_vnnlib
from theorychk.verdict import Status, jsonable

__all__ = ["DEFAULT_SEED", "SIZES", "CONSTRUCTIONS", "generate_corpus", "check_corpus", "CorpusCheck", "main"]

DEFAULT_SEED = 2024
SIZES = (5, 10, 20)
RATIO = 4.26
CONSTRUCTIONS = ("four-layer", "bias-free", "one-hidden")
TIMEOUT = 300
_SUBDIRS = ("cnf", "onnx", "vnnlib", "npz", "proofs")
_GENERATE_PROPERTIES = '''#!/usr/bin/env python3
"""Regenerate this benchmark folder: python generate_properties.py <seed>

Needs theorychk installed (pip install theorychk). This folder was generated with seed {seed}; another
seed draws other random formulas. Same as: python -m theorychk.reduction.corpus <this folder> --seed <seed>
"""

import sys
from pathlib import Path

from theorychk.reduction.corpus import generate_corpus

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python generate_properties.py <seed>")
    generate_corpus(Path(__file__).resolve().parent, seed=int(sys.argv[1]))
'''


def _pick_formula(n: int, want: str, seed: int) -> tuple[CNF, int]:
    """The first random 3-CNF (formula seed ``seed + 1000·n + k``, k = 0, 1, ...) with answer ``want``."""
    for k in range(1000):
        fseed = seed + 1000 * n + k
        cnf = random_kcnf(n, ratio=RATIO, seed=fseed)
        if solve(cnf).status == want:
            return cnf, fseed
    raise InvalidInput(f"no {want} random 3-CNF with n = {n} among 1000 seeds",
                       argument="n", got=n)  # pragma: no cover


def _formulas(seed: int) -> list[tuple[CNF, dict[str, Any], tuple[str, ...]]]:
    out = []
    for n in SIZES:
        for want in ("SAT", "UNSAT"):
            cnf, fseed = _pick_formula(n, want, seed)
            out.append((cnf, {"kind": "random-3cnf", "ratio": RATIO, "seed": fseed}, CONSTRUCTIONS))
    out.append((genhard("php", 3), {"kind": "genhard-php", "size": 3}, ("four-layer",)))
    color, _ = graph_coloring(8, degree=3, colors=3, seed=seed)
    out.append((color, {"kind": "3-colouring, random 3-regular graph", "vertices": 8, "seed": seed}, ("four-layer",)))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate_corpus(out_dir: str | Path, *, seed: int = DEFAULT_SEED, epsilon: Fraction = EPSILON) -> dict[str, Any]:
    """Write the corpus into ``out_dir`` (its generated subfolders are replaced); returns the manifest."""
    from theorychk.io import save_network

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer; got {seed!r}", argument="seed", got=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in _SUBDIRS:
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    entries = []
    rows = []
    for cnf, origin, constructions in _formulas(seed):
        sat = solve(cnf, proof=True)
        cnf_path = write_dimacs(cnf, out / "cnf" / f"{cnf.name}.cnf")
        proof_file = None
        if sat.status == SatStatus.UNSAT:
            proof_file = out / "proofs" / f"{cnf.name}.drup"
            proof_file.parent.mkdir(parents=True, exist_ok=True)
            proof_file.write_text("\n".join(sat.proof or ()) + "\n", encoding="ascii")
        for name in constructions:
            inst = construct(cnf, name)
            stem = inst.name
            onnx_path = write_onnx(inst, out / "onnx" / f"{stem}.onnx")
            vnnlib_path = write_vnnlib(inst, out / "vnnlib" / f"{stem}.vnnlib", epsilon=epsilon)
            npz_path = save_network(inst.network, out / "npz" / f"{stem}.npz")
            entry: dict[str, Any] = {
                "name": stem,
                "construction": name,
                "formula": {"name": cnf.name, **origin, "n_vars": cnf.n_vars, "n_clauses": cnf.n_clauses},
                "expected": sat.status,
                "vnnlib_answer": "sat" if sat.status == SatStatus.SAT else "unsat",
                "files": {
                    "cnf": cnf_path.relative_to(out).as_posix(),
                    "onnx": onnx_path.relative_to(out).as_posix(),
                    "vnnlib": vnnlib_path.relative_to(out).as_posix(),
                    "npz": npz_path.relative_to(out).as_posix(),
                    "proof": None if proof_file is None else proof_file.relative_to(out).as_posix(),
                },
                "sha256": {"cnf": _sha256(cnf_path), "onnx": _sha256(onnx_path), "vnnlib": _sha256(vnnlib_path)},
                "widths": list(inst.network.widths),
                "target": jsonable(inst.target),
                "latent_box": [decimal(inst.latent_lo[0]), decimal(inst.latent_hi[0])],
                "gap_linf": jsonable(inst.gap_linf),
                "fingerprint": with_explicit_biases(inst.network).fingerprint(),
                "witness": None,
            }
            if sat.model is not None:
                latent = inst.encode(sat.model)
                if exact_output(inst.network, latent) != inst.target:  # never ship an unverified witness
                    raise ExactCheckFailed(f"internal: the witness of {stem} is not an exact preimage")
                entry["witness"] = {"model": assignment_to_literals(sat.model), "latent": jsonable(latent)}
            entries.append(entry)
            rows.append((entry["files"]["onnx"], entry["files"]["vnnlib"], TIMEOUT))
    manifest = {
        "format": "theorychk-reductions",
        "version": 1,
        "seed": seed,
        "epsilon": str(Fraction(epsilon)),
        "epsilon_note": "each output equality is a <=/>= pair of half-width epsilon; sound since the gap is >= 1/2",
        "latent_box_note": "every input X_i is bounded by the latent box [lo, hi]",
        "regenerate": f"python -m theorychk.reduction.corpus <folder> --seed {seed}",
        "constructions": list(CONSTRUCTIONS),
        "instances": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    (out / "instances.csv").write_text(buf.getvalue(), encoding="utf-8")
    (out / "generate_properties.py").write_text(_GENERATE_PROPERTIES.format(seed=seed), encoding="utf-8")
    (out / "README.md").write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _readme(manifest: dict[str, Any]) -> str:
    lines = [
        "# reductions/ — the NP-hardness instance corpus",
        "",
        "Generated 3SAT → ReLU-network instances: each formula (`cnf/`, DIMACS) reduced by a construction of",
        "`theorychk.reduction` to a network (`onnx/`, `npz/`) and a VNN-LIB 1.0 property (`vnnlib/`) whose answer",
        "is `sat` exactly when the formula is satisfiable. `manifest.json` lists every instance with its expected",
        "answer, construction, size, seed, file names and sha256, the target, latent box and gap, and for",
        "satisfiable formulas an exact witness latent; `proofs/` holds PySAT's DRUP proofs of the unsatisfiable",
        "formulas. The folder is a VNN-COMP style benchmark: `instances.csv` (`onnx,vnnlib,timeout`) and",
        "`generate_properties.py <seed>`.",
        "",
        f"Output tolerance ε = {manifest['epsilon']}: each output equality `Y_j = x_j` is written as",
        "`x_j − ε <= Y_j <= x_j + ε`, which the ½ gap keeps sound (see `docs/reductions.md`). Every input is",
        "bounded by the latent box.",
        "",
        "Regenerate (deterministic; the regeneration test in `tests/reduction/test_corpus.py` checks it):",
        "",
        "```bash",
        f"python -m theorychk.reduction.corpus reductions --seed {manifest['seed']}",
        "# or: python reductions/generate_properties.py " + str(manifest["seed"]),
        "```",
        "",
        "| instance | construction | n | m | expected |",
        "|---|---|---|---|---|",
    ]
    for e in manifest["instances"]:
        f = e["formula"]
        lines.append(f"| `{e['name']}` | {e['construction']} | {f['n_vars']} | {f['n_clauses']} | {e['expected']} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Re-checking
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusCheck:
    """The re-check of one corpus instance: ``status`` CERTIFIED only if every part passed,
    REFUTED if a part contradicts the manifest, UNKNOWN if a DRUP proof was not verified."""

    name: str
    status: Status
    parts: dict[str, str] = field(default_factory=dict)
    message: str = ""


def check_corpus(
    folder: str | Path, *, milp_max_vars: int = 0, time_limit: float | None = None,
) -> list[CorpusCheck]:
    """Re-verify every instance of a corpus folder against its manifest (module docstring).

    ``milp_max_vars``: also run :func:`theorychk.reduction.verify.run_milp` on instances with at
    most this many variables (0: never).
    """
    from theorychk.io import load_network
    from theorychk.reduction.cnf import read_dimacs
    from theorychk.reduction.verify import DEFAULT_GAP_TOL, run_milp

    root = Path(folder)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise InvalidInput(f"no manifest.json in corpus folder {folder}", argument="folder", got=folder)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    eps = Fraction(manifest["epsilon"])
    results = []
    for e in manifest["instances"]:
        parts: dict[str, str] = {}
        problems: list[str] = []
        unverified: list[str] = []
        files = e["files"]
        cnf = read_dimacs(root / files["cnf"])
        sat = solve(cnf)
        parts["pysat"] = sat.status
        if sat.status != e["expected"]:
            problems.append(f"PySAT says {sat.status}, manifest {e['expected']}")
        net = load_network(root / files["onnx"])
        if net.fingerprint() != e["fingerprint"]:
            problems.append("the ONNX network's fingerprint differs from the manifest")
        inst = construct(cnf, e["construction"])
        if with_explicit_biases(inst.network) != net:
            problems.append("the ONNX network differs from the construction rebuilt from the DIMACS file")
        prop = read_vnnlib(root / files["vnnlib"])
        target = tuple(Fraction(t) for t in e["target"])
        if prop.target != target or prop.epsilon != eps or prop.n_inputs != net.latent_dim:
            problems.append("the VNN-LIB property does not match the manifest (target, epsilon or inputs)")
        if (tuple(decimal(v) for v in (prop.input_lo[0], prop.input_hi[0])) != tuple(e["latent_box"])):
            problems.append("the VNN-LIB input box does not match the manifest")
        if e["expected"] == "SAT":
            latent = [Fraction(v) for v in e["witness"]["latent"]]
            ok = exact_output(net, latent) == target
            parts["witness"] = "exact preimage" if ok else "NOT a preimage"
            if not ok:
                problems.append("the witness latent is not an exact preimage of the target")
        else:
            proof = (root / files["proof"]).read_text(encoding="ascii").splitlines()
            res = check_drup(cnf, proof, time_limit=time_limit)
            parts["drup"] = res.outcome.value
            if not res.verified:  # says nothing against the formula: UNKNOWN, not REFUTED
                unverified.append(f"DRUP proof not verified: {res.reason}")
        if cnf.n_vars <= milp_max_vars:
            res = run_milp(inst, time_limit=time_limit)
            if e["expected"] == "SAT":
                ok = res.latent is not None and res.objective <= 1e-6 * max(1.0, float(max(abs(t) for t in target)))
            else:
                ok = res.bound >= float(inst.gap_linf) - DEFAULT_GAP_TOL
            parts["milp"] = f"{res.status}, objective {res.objective:.3g}, bound {res.bound:.3g}"
            if not ok:
                problems.append(f"MILP: {parts['milp']}")
        status = Status.REFUTED if problems else (Status.UNKNOWN if unverified else Status.CERTIFIED)
        results.append(CorpusCheck(e["name"], status, parts, "; ".join(problems + unverified)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m theorychk.reduction.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="corpus folder to (re)generate, e.g. reductions")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"base seed (default {DEFAULT_SEED})")
    parser.add_argument("--check", action="store_true", help="re-check the folder instead of generating it")
    args = parser.parse_args(argv)
    try:
        if args.check:
            bad = [r for r in check_corpus(args.folder) if r.status is not Status.CERTIFIED]
            for r in bad:
                print(f"{r.name}: {r.message}", file=sys.stderr)
            return 1 if bad else 0
        manifest = generate_corpus(args.folder, seed=args.seed)
    except InvalidInput as exc:
        print(f"theorychk: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(manifest['instances'])} instances to {args.folder}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
