"""Hardness benchmarks: VNN-COMP folders from formula families with known hardness, with
certified ground truth that is re-checked without a SAT solver or a MILP.

:func:`generate_benchmark` writes, for a registered benchmark (:data:`BENCHMARKS`) and a seed::

    DIR/onnx/<construction>--<formula>.onnx     the network (explicit zero biases where none)
    DIR/vnnlib/<construction>--<formula>.vnnlib  "∃ z in the box with ‖G(z) − x‖_∞ ≤ ε"
    DIR/cnf/<formula>.cnf                        the source formula (DIMACS)
    DIR/proofs/<formula>.drup                    DRUP proof of every unsatisfiable formula
    DIR/instances.csv                            onnx,vnnlib,timeout (VNN-COMP)
    DIR/manifest.json                            ground truth and provenance per instance
    DIR/generate_properties.py <seed>            regenerates the folder byte for byte
    DIR/README.md                                the ground-truth table

Every formula goes through every construction of :data:`BENCHMARK_CONSTRUCTIONS`.

Ground truth (checked by :func:`verify_benchmark` from the files alone)
-----------------------------------------------------------------------
* **construction** — the network read back from the ONNX file equals, number for number, the
  construction rebuilt from the DIMACS file (:func:`theorychk.reduction.export.with_explicit_biases`
  of it), and the VNN-LIB file bounds the construction's latent box and its target within
  ``ε < gap``. The equivalence "target in ``G(box)`` within ε ⇔ formula satisfiable" is a
  theorem about the construction, proved once (``docs/reductions.md``, the gap lemma); this exact
  check is what ties the instance to it.
* **SAT** — the manifest's model satisfies every clause (direct evaluation), the latent is the
  construction's encoding of it, ``G(latent) = target`` in exact rational arithmetic, and the
  exported ONNX file run by onnxruntime on that latent returns the target exactly (every number
  is a small integer, exact in float32).
* **UNSAT** — the DRUP proof is accepted by theorychk's own RUP checker (no SAT solver imported).
  With the construction check this certifies the instance's ``unsat`` without any MILP, so the
  certificate scales with the SAT solver, not with the network.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from theorychk.errors import ExactCheckFailed, InvalidInput, MissingDependency, unknown_name
from theorychk.reduction.cnf import CNF, SatStatus, assignment_to_literals, read_dimacs, solve, write_dimacs
from theorychk.reduction.constructions import construct, exact_output
from theorychk.reduction.export import EPSILON, decimal, read_vnnlib, with_explicit_biases, write_onnx, write_vnnlib
from theorychk.reduction.families import pigeonhole, threshold_3cnf, threshold_coloring, tseitin
from theorychk.verdict import jsonable

__all__ = [
    "BENCHMARKS",
    "BENCHMARK_CONSTRUCTIONS",
    "DEFAULT_SEED",
    "BenchmarkSpec",
    "GroundTruth",
    "InstanceCheck",
    "generate_benchmark",
    "verify_benchmark",
    "onnx_forward",
    "check_proof",
    "get_benchmark",
]

DEFAULT_SEED = 2026
#: Every formula is reduced with each of these (the real-latent constructions with a gap).
BENCHMARK_CONSTRUCTIONS = ("four-layer", "bias-free", "one-hidden", "katz")
FORMAT = "theorychk-hardness-benchmark"
_SUBDIRS = ("onnx", "vnnlib", "cnf", "proofs")


# --------------------------------------------------------------------------------------------
# Families and the registry
# --------------------------------------------------------------------------------------------


def _rand3(size: int, want: str, seed: int) -> tuple[CNF, dict[str, Any]]:
    cnf, fseed = threshold_3cnf(size, want=want, seed=seed)
    return cnf, {"family": "random-3sat", "n": size, "ratio": 4.26, "formula_seed": fseed}


def _php(size: int, want: str, seed: int) -> tuple[CNF, dict[str, Any]]:
    pigeons = size + 1 if want == "UNSAT" else size
    return pigeonhole(pigeons, size), {"family": "pigeonhole", "pigeons": pigeons, "holes": size}


def _tseitin(size: int, want: str, seed: int) -> tuple[CNF, dict[str, Any]]:
    return tseitin(size, degree=3, odd=want == "UNSAT", seed=seed), {
        "family": "tseitin", "vertices": size, "degree": 3, "graph_seed": seed}


def _color(size: int, want: str, seed: int) -> tuple[CNF, dict[str, Any]]:
    cnf, gseed = threshold_coloring(size, want=want, seed=seed)
    return cnf, {"family": "3-colouring", "vertices": size, "edges_per_vertex": 2.35, "graph_seed": gseed}


#: family → (generator, what ``size`` means, why the family is hard).
FAMILIES: dict[str, tuple[Callable[[int, str, int], tuple[CNF, dict[str, Any]]], str, str]] = {
    "random-3sat": (_rand3, "variables", "uniform random 3-CNF at the threshold ratio 4.26"),
    "pigeonhole": (_php, "holes", "PHP h+1 -> h (UNSAT, exponential resolution) and h -> h (SAT)"),
    "tseitin": (_tseitin, "vertices", "Tseitin parity on random 3-regular (expander) graphs, odd/even charge"),
    "3-colouring": (_color, "vertices", "3-colouring of G(v, 2.35 v), near the colourability threshold"),
}


@dataclass(frozen=True)
class BenchmarkSpec:
    """A registered benchmark: ``tiers`` maps a family to its ``(tier, size)`` pairs; every
    (family, tier) gets one SAT and one UNSAT formula, each reduced by every construction."""

    name: str
    description: str
    tiers: dict[str, tuple[tuple[str, int], ...]]
    constructions: tuple[str, ...] = BENCHMARK_CONSTRUCTIONS
    timeout: int = 60
    epsilon: Fraction = EPSILON


BENCHMARKS: dict[str, BenchmarkSpec] = {
    s.name: s
    for s in (
        BenchmarkSpec(
            "hardness",
            "four formula families in size tiers, SAT and UNSAT halves, through four constructions (104 instances)",
            {
                "random-3sat": (("S", 10), ("M", 20), ("L", 30), ("XL", 40)),
                "pigeonhole": (("S", 3), ("M", 4), ("L", 5)),
                "tseitin": (("S", 8), ("M", 14), ("L", 20)),
                "3-colouring": (("S", 8), ("M", 10), ("L", 13)),
            },
        ),
        BenchmarkSpec(
            "hardness-xxl",
            "random 3-SAT at the threshold ratio beyond tier XL (n = 75 and 100), SAT and UNSAT halves, "
            "through four constructions (16 instances)",
            {"random-3sat": (("XXL", 75), ("XXXL", 100))},
        ),
        BenchmarkSpec(
            "hardness-mini",
            "the smallest tier of each family (32 instances): for tests and quick tool checks",
            {"random-3sat": (("S", 10),), "pigeonhole": (("S", 3),), "tseitin": (("S", 8),),
             "3-colouring": (("S", 8),)},
        ),
    )
}


def get_benchmark(name: str) -> BenchmarkSpec:
    if name not in BENCHMARKS:
        raise unknown_name("benchmark", name, BENCHMARKS)
    return BENCHMARKS[name]


def _formula_seed(seed: int, family: str, size: int, want: str) -> int:
    """A seed per (benchmark seed, family, size, answer); draws go ``seed, seed + 1, ...``."""
    fam = list(FAMILIES).index(family)
    return seed * 10**7 + fam * 10**6 + size * 10**3 + (0 if want == "SAT" else 500)


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------

_GENERATE_PROPERTIES = '''#!/usr/bin/env python3
"""Regenerate this benchmark folder byte for byte: python generate_properties.py <seed>

Needs theorychk installed. This folder is benchmark {name!r}, generated with seed {seed}; another
seed draws other random formulas and graphs. Same as: theorychk benchmark {name} --out <this folder> --seed <seed>
"""

import sys
from pathlib import Path

from theorychk.reduction.benchmark import generate_benchmark

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python generate_properties.py <seed>")
    generate_benchmark({name!r}, Path(__file__).resolve().parent, seed=int(sys.argv[1]))
'''


class GroundTruth(enum.StrEnum):
    """The re-check of an instance's label. Not a verdict on the formula: REJECTED says the files
    do not prove the label (tampered, mismatched, a proof that does not check), never that the
    opposite label holds — that would need the opposite evidence (a model or a proof)."""

    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


def check_proof(cnf: CNF, lines: list[str] | tuple[str, ...]) -> tuple[GroundTruth, str, int, int]:
    """Check a DRUP proof of ``cnf`` with the trusted :func:`theorychk.check.drup.check_drup`
    (drat-trim's deletion semantics): (outcome, reason, lemmas, deletions), VERIFIED only if the
    proof derives the empty clause by RUP steps, REJECTED with the reason, UNKNOWN on a time limit."""
    from theorychk.check.drup import check_drup

    res = check_drup(cnf, lines)
    return GroundTruth(res.outcome.value), res.reason, res.lemmas, res.deletions


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def onnx_forward(path: str | Path, latent: list[Fraction]) -> list[float]:
    """Run an exported ONNX file with onnxruntime on one latent (float32, batch of one)."""
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    x = np.array([[float(v) for v in latent]], dtype=np.float32)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    return [float(v) for v in np.asarray(y).reshape(-1)]


def generate_benchmark(name: str, out_dir: str | Path, *, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write benchmark ``name`` into ``out_dir`` (its generated parts are replaced); returns the manifest.

    Deterministic: the same name and seed give byte-identical files. Every SAT witness is checked
    exactly and through onnxruntime, and every DRUP proof by the RUP checker, before it is written.
    """
    spec = get_benchmark(name)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise MissingDependency("writing a benchmark replays every SAT witness through onnxruntime, which is "
                                "not installed: pip install 'theorychk[verifiers]'") from None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer; got {seed!r}", argument="seed", got=seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out must be a folder; {out} is a file", argument="out_dir", got=out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in _SUBDIRS:
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    entries: list[dict[str, Any]] = []
    rows: list[tuple[str, str, int]] = []
    for family, tiers in spec.tiers.items():
        generator = FAMILIES[family][0]
        for tier, size in tiers:
            for want in ("SAT", "UNSAT"):
                cnf, origin = generator(size, want, _formula_seed(seed, family, size, want))
                entries += _write_formula(spec, out, cnf, {**origin, "tier": tier}, want, rows)
    manifest = {
        "format": FORMAT,
        "version": 1,
        "benchmark": spec.name,
        "description": spec.description,
        "seed": seed,
        "epsilon": str(spec.epsilon),
        "epsilon_note": "each output equality is a <=/>= pair of half-width epsilon; sound since the gap is >= 1/2",
        "timeout": spec.timeout,
        "constructions": list(spec.constructions),
        "regenerate": f"theorychk benchmark {spec.name} --out <folder> --seed {seed}",
        "instances": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (out / "instances.csv").write_text(buf.getvalue(), encoding="utf-8")
    (out / "generate_properties.py").write_text(_GENERATE_PROPERTIES.format(name=spec.name, seed=seed), encoding="utf-8")
    (out / "README.md").write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _write_formula(spec: BenchmarkSpec, out: Path, cnf: CNF, origin: dict[str, Any], want: str,
                   rows: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    sat = solve(cnf, proof=True)
    if sat.status != want:  # the families promise their answer; never ship a wrong label
        raise ExactCheckFailed(f"internal: {cnf.label} was drawn as {want} but PySAT says {sat.status}")
    cnf_path = write_dimacs(cnf, out / "cnf" / f"{cnf.label}.cnf")
    proof_entry = None
    if sat.status == SatStatus.UNSAT:
        proof_path = out / "proofs" / f"{cnf.label}.drup"
        proof_path.parent.mkdir(parents=True, exist_ok=True)
        proof_path.write_text("".join(line + "\n" for line in sat.proof or ()), encoding="ascii")
        status, reason, _, _ = check_proof(cnf, sat.proof or ())
        if status is not GroundTruth.VERIFIED:
            raise ExactCheckFailed(f"internal: the DRUP proof of {cnf.label} is rejected: {reason}")
        proof_entry = {"file": proof_path.relative_to(out).as_posix(), "sha256": _sha256(proof_path),
                       "lines": len(sat.proof or ()), "solver": sat.solver}
    entries = []
    for construction in spec.constructions:
        inst = construct(cnf, construction)
        stem = inst.name
        onnx_path = write_onnx(inst, out / "onnx" / f"{stem}.onnx")
        vnnlib_path = write_vnnlib(inst, out / "vnnlib" / f"{stem}.vnnlib", epsilon=spec.epsilon)
        entry: dict[str, Any] = {
            "name": stem,
            "family": origin["family"],
            "tier": origin["tier"],
            "construction": construction,
            "formula": {"name": cnf.label, **origin, "n_vars": cnf.n_vars, "n_clauses": cnf.n_clauses},
            "expected": sat.status,
            "vnnlib_answer": "sat" if sat.status == SatStatus.SAT else "unsat",
            "files": {
                "onnx": onnx_path.relative_to(out).as_posix(),
                "vnnlib": vnnlib_path.relative_to(out).as_posix(),
                "cnf": cnf_path.relative_to(out).as_posix(),
            },
            "sha256": {"onnx": _sha256(onnx_path), "vnnlib": _sha256(vnnlib_path), "cnf": _sha256(cnf_path)},
            "widths": list(inst.network.widths),
            "target": jsonable(inst.target),
            "latent_box": [decimal(inst.latent_lo[0]), decimal(inst.latent_hi[0])],
            "gap_linf": jsonable(inst.gap_linf),
            "fingerprint": with_explicit_biases(inst.network).fingerprint(),
            "witness": None,
            "proof": proof_entry,
        }
        if sat.model is not None:
            latent = inst.encode(sat.model)
            if exact_output(inst.network, latent) != inst.target:
                raise ExactCheckFailed(f"internal: the witness of {stem} is not an exact preimage")
            if [Fraction(v) for v in onnx_forward(onnx_path, list(latent))] != list(inst.target):
                raise ExactCheckFailed(f"internal: onnxruntime does not reproduce the target at the witness of {stem}")
            entry["witness"] = {"model": assignment_to_literals(sat.model), "latent": jsonable(latent)}
        entries.append(entry)
        rows.append((entry["files"]["onnx"], entry["files"]["vnnlib"], spec.timeout))
    return entries


def _readme(manifest: dict[str, Any]) -> str:
    entries = manifest["instances"]
    n_sat = sum(e["expected"] == "SAT" for e in entries)
    lines = [
        f"# {manifest['benchmark']} — a 3SAT → ReLU hardness benchmark with certified ground truth",
        "",
        f"{len(entries)} instances ({n_sat} `sat`, {len(entries) - n_sat} `unsat`) in the VNN-COMP layout: "
        "`instances.csv` (`onnx,vnnlib,timeout`),",
        "`onnx/`, `vnnlib/`, and `generate_properties.py <seed>`, which regenerates this folder byte for byte",
        f"(seed {manifest['seed']}). {manifest['description']}.",
        "",
        "Each formula (`cnf/`) is reduced by each construction of `theorychk.reduction` (four-layer, bias-free,",
        "one-hidden, Katz-style) to a network and a VNN-LIB 1.0 property whose answer is `sat` exactly when",
        f"the formula is satisfiable: outputs within ε = {manifest['epsilon']} of the target, every input bounded by the",
        "latent box; sound because an unsatisfiable formula keeps every output at least ½ (katz: 1) away.",
        "",
        "Ground truth, re-checked by `theorychk benchmark verify <folder>` without a SAT solver or a MILP:",
        "`sat` — the model in `manifest.json` satisfies the formula, its latent reaches the target exactly",
        "(rational arithmetic, and onnxruntime on the ONNX file); `unsat` — the DRUP proof in `proofs/` is",
        "accepted by theorychk's RUP checker, and the ONNX network equals the construction rebuilt from the",
        "DIMACS file, whose equivalence with the formula is proved once (`docs/reductions.md`).",
        "",
        "| instance | family | tier | construction | n | m | latent dim | answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        f = e["formula"]
        lines.append(f"| `{e['name']}` | {e['family']} | {e['tier']} | {e['construction']} | {f['n_vars']} | "
                     f"{f['n_clauses']} | {e['widths'][0]} | {e['vnnlib_answer']} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceCheck:
    """The re-check of one instance: VERIFIED only if every part passed (``parts``: part → result)."""

    name: str
    expected: str
    status: GroundTruth
    parts: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "expected": self.expected, "status": self.status.value, "parts": self.parts,
                "message": self.message}


def verify_benchmark(folder: str | Path, *, onnxruntime: bool = True) -> list[InstanceCheck]:
    """Re-check every instance of a benchmark folder from its files (module docstring).

    ``onnxruntime=False`` skips the replay through onnxruntime; that part is then UNKNOWN, and so
    is the instance (fail closed). A folder-level problem (no manifest, a CSV row that does not
    match) is an :class:`InvalidInput`.
    """
    from theorychk.io import load_network

    root = Path(folder)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise InvalidInput(f"no manifest.json in benchmark folder {folder}", argument="folder", got=folder)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"manifest.json in {folder} is not JSON ({exc})",
                           argument="manifest.json", got=str(exc)) from None
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"manifest.json in {folder} is not a {FORMAT} manifest; got format {manifest.get('format')!r}",
                           argument="manifest.format", got=manifest.get("format"))
    eps = Fraction(manifest["epsilon"])
    csv_path = root / "instances.csv"
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8").splitlines())) if csv_path.is_file() else []
    want_rows = [[e["files"]["onnx"], e["files"]["vnnlib"], str(manifest["timeout"])] for e in manifest["instances"]]
    if rows != want_rows:
        raise InvalidInput(f"instances.csv in {folder} does not list the manifest's instances in order",
                           argument="instances.csv", got=rows)
    proofs: dict[str, tuple[str, str]] = {}
    results = []
    for e in manifest["instances"]:
        results.append(_verify_instance(root, e, eps, proofs, onnxruntime, load_network))
    return results


def _verify_instance(root: Path, e: dict[str, Any], eps: Fraction, proofs: dict[str, tuple[str, str]],
                     use_ort: bool, load_network: Callable[..., Any]) -> InstanceCheck:
    parts: dict[str, str] = {}
    problems: list[str] = []
    unknown: list[str] = []
    files = e["files"]
    for kind, rel in files.items():
        path = root / rel
        if not path.is_file():
            return InstanceCheck(e["name"], e["expected"], GroundTruth.REJECTED, parts, f"missing file {rel}")
        if _sha256(path) != e["sha256"][kind]:
            problems.append(f"{rel} differs from the manifest's sha256")
    cnf = read_dimacs(root / files["cnf"])
    inst = construct(cnf, e["construction"])
    net = load_network(root / files["onnx"])
    same = net == with_explicit_biases(inst.network) and net.fingerprint() == e["fingerprint"]
    prop = read_vnnlib(root / files["vnnlib"])
    target = tuple(Fraction(t) for t in e["target"])
    prop_ok = (prop.target == inst.target == target and prop.epsilon == eps and inst.gap_linf is not None
               and eps < inst.gap_linf and prop.input_lo == inst.latent_lo and prop.input_hi == inst.latent_hi
               and all(hi - lo == 2 * eps for lo, hi in zip(prop.output_lo, prop.output_hi)))
    parts["construction"] = ("ONNX = construction(DIMACS), VNN-LIB = its box and target" if same and prop_ok
                             else "MISMATCH")
    if not same:
        problems.append("the ONNX network is not the construction rebuilt from the DIMACS file")
    if not prop_ok:
        problems.append("the VNN-LIB property is not the construction's box and target within epsilon < gap")
    if e["expected"] == "SAT":
        w = e.get("witness") or {}
        model_lits = w.get("model") or []
        assignment = tuple(lit > 0 for lit in sorted(model_lits, key=abs))
        latent = [Fraction(v) for v in w.get("latent") or []]
        ok_model = (sorted(abs(lit) for lit in model_lits) == list(range(1, cnf.n_vars + 1))
                    and cnf.satisfied_by(assignment))
        ok_latent = ok_model and tuple(latent) == inst.encode(assignment)
        ok_exact = ok_latent and exact_output(net, latent) == target
        parts["witness"] = "model satisfies every clause; exact preimage" if ok_exact else "NOT a verified witness"
        if not ok_exact:
            problems.append("the witness is not a model whose latent is an exact preimage of the target")
        if use_ort and ok_latent:
            try:
                y = onnx_forward(root / files["onnx"], latent)
            except ImportError:
                parts["onnxruntime"] = "not installed"
                unknown.append("onnxruntime is not installed")
            else:
                ok_ort = [Fraction(v) for v in y] == list(target)
                parts["onnxruntime"] = "reproduces the target exactly" if ok_ort else f"outputs {y}"
                if not ok_ort:
                    problems.append(f"onnxruntime gives {y} at the witness, not the target")
        elif not use_ort:
            parts["onnxruntime"] = "skipped"
            unknown.append("onnxruntime replay skipped")
    else:
        proof = e.get("proof") or {}
        rel = proof.get("file", "")
        if rel not in proofs:
            path = root / rel
            if not rel or not path.is_file():
                proofs[rel] = ("REJECTED", f"missing proof file {rel!r}")
            elif _sha256(path) != proof.get("sha256"):
                proofs[rel] = ("REJECTED", f"{rel} differs from the manifest's sha256")
            else:
                status, reason, lemmas, deletions = check_proof(cnf, path.read_text(encoding="ascii").splitlines())
                proofs[rel] = (status.value, f"{reason} ({lemmas} lemmas, {deletions} deletions)")
        status, text = proofs[rel]
        parts["drup"] = f"{status}: {text}"
        if status == "UNKNOWN":
            unknown.append(f"DRUP check: {text}")
        elif status != "VERIFIED":
            problems.append(f"DRUP proof: {text}")
    status = GroundTruth.REJECTED if problems else (GroundTruth.UNKNOWN if unknown else GroundTruth.VERIFIED)
    return InstanceCheck(e["name"], e["expected"], status, parts, "; ".join(problems + unknown))
