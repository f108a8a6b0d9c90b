"""A newcomer's afternoon (issue 14), measured end to end: a float32 PyTorch decoder
20 -> 200 -> 500 -> 784 with LeakyReLU(0.1), its own float32 outputs as signals, and the
commands a user runs — `info`, `invert` with every method, `certify`, `check` — each with
`--time-limit 60` in a fresh process, wall time against the limit.

    python benchmarks/bench_newcomer.py [--signals 3] [--time-limit 60]

Writes `benchmarks/results/newcomer.md`. Needs torch (`pip install torch==2.13.0`, CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("linf", "l1", "relax", "milp", "gd", "lbp", "latent", "oracle")
ACT = "leaky_relu:0.1"


def build(folder: Path, n_signals: int, seed: int) -> tuple[Path, Path, Path]:
    import torch

    torch.manual_seed(seed)
    dec = torch.nn.Sequential()
    widths = (20, 200, 500, 784)
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        dec.add_module(f"fc{i}", torch.nn.Linear(a, b))
        dec.add_module(f"act{i}", torch.nn.LeakyReLU(0.1))
    z = torch.randn(n_signals, 20)
    with torch.no_grad():
        y = dec(z)
    state = {k: v for k, v in dec.state_dict().items()}
    model = folder / "decoder.pth"
    torch.save(state, model)
    np.save(folder / "Y.npy", y.numpy())  # float32, as the decoder computed it
    np.save(folder / "Z.npy", z.numpy().astype(np.float64))
    return model, folder / "Y.npy", folder / "Z.npy"


def run(argv: list[str], cwd: Path) -> tuple[float, int, str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "theorychk", *argv], cwd=cwd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t, p.returncode, p.stdout, p.stderr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    lim = args.time_limit
    opts = ["--activation", ACT]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, ysig, zlat = build(folder, args.signals, args.seed)
        y = np.load(ysig)
        wall, rc, out, err = run(["info", str(model), *opts, "--json"], folder)
        info = json.loads(out)
        rows.append({"command": "info", "wall": wall, "rc": rc, "limit": None, "per": wall, "what": f"widths {info.get('widths')}"})
        for m in METHODS:
            argv = ["invert", str(model), *opts, "--signal", str(ysig), "--method", m, "--time-limit", str(lim),
                    "--workers", "1", "--json", "--verbose"]
            if m == "oracle":
                argv += ["--latent-true", str(zlat)]
            wall, rc, out, err = run(argv, folder)
            row = {"command": f"invert --method {m}", "wall": wall, "rc": rc, "limit": lim * args.signals,
                   "per": wall / args.signals}
            if rc == 0:
                res = json.loads(out)
                stat = res["status_counts"]
                worst = max((float(r["signal_offset"]) / float(r["signal_tol"])) if r["status"] == "SOLVED" else 0.0
                            for r in res["results"])
                row["what"] = f"{stat}; worst SOLVED offset/tol {worst:.2g}"
                row["statuses"] = stat
                row["solved_ok"] = worst <= 1.0
                row["infeasible"] = stat.get("INFEASIBLE", 0)
                row["per_signal"] = [r.get("elapsed_seconds", r.get("elapsed")) for r in res["results"]]
            else:
                row["what"] = f"exit {rc}: {err.strip()[:160]}"
            rows.append(row)
        certs = folder / "certs"
        wall, rc, out, err = run(["certify", str(model), *opts, "--signals", str(ysig), "--time-limit", str(lim),
                                  "--out", str(certs), "--json", "--quiet"], folder)
        summ = json.loads(out) if rc == 0 else {}
        unreal = [s for s in summ.get("signals", []) if s.get("realizable") is False]
        sizes = sorted(p.stat().st_size for p in certs.glob("*.json")) if certs.exists() else []
        rows.append({"command": "certify --signals", "wall": wall, "rc": rc, "limit": lim * args.signals + lim,
                     "per": wall / args.signals,
                     "what": (f"claims {summ.get('counts')}; unrealizable {len(unreal)}; certificate sizes "
                              f"{', '.join(f'{s / 1e6:.1f} MB' for s in sizes)}") if rc == 0 else err.strip()[:160],
                     "unrealizable": len(unreal), "sizes": sizes})
        for cert in sorted(certs.glob("*.json")):
            wall, rc, out, err = run(["check", str(cert), "--json"], folder)
            verdict = json.loads(out).get("verdict") if out.strip() else err.strip()[:120]
            rows.append({"command": f"check {cert.name}", "wall": wall, "rc": rc, "limit": None, "per": wall,
                         "what": str(verdict)})
    lines = [
        "# A newcomer's afternoon: a float32 PyTorch decoder through every command (issue 14)",
        "",
        f"`python benchmarks/bench_newcomer.py --signals {args.signals} --time-limit {lim:g}` — "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f} at the end "
        "(2 shared cores). The decoder: `torch.nn.Sequential` of Linear 20→200→500→784, each followed by "
        "LeakyReLU(0.1), PyTorch's default initialisation (seed "
        f"{args.seed}), saved as a state_dict (`decoder.pth`, read with `--activation {ACT}`); signals: "
        f"its own float32 outputs for {args.signals} latents z ~ N(0, I). Every command runs in a fresh "
        "process with `--time-limit` (per signal) and `--workers 1`; wall time includes start-up.",
        "",
        "| command | exit | wall (s) | limit (s, all signals) | per signal (s) | within limit + 10 % | result |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        ok = "—" if r["limit"] is None else ("yes" if r["wall"] <= 1.1 * r["limit"] else "**no**")
        lim_s = "—" if r["limit"] is None else f"{r['limit']:g}"
        lines.append(f"| `{r['command']}` | {r['rc']} | {r['wall']:.1f} | {lim_s} | {r['per']:.1f} | {ok} | {r['what']} |")
    (RESULTS / "newcomer.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "newcomer.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
