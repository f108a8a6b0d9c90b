"""Issue 17, "done when": inversion and certification of convolutional generators, through the CLI.

Usage::

    python benchmarks/bench_conv.py [--signals 100] [--time-limit 30]

Nets: the conv zoo (``zoo:dcgan8``, ``zoo:dcgan28``) and a random-weight generator of another
shape (torch default initialisation, seed 0, float32): ``z in R^6 -> Linear(6, 18) -> ReLU ->
Unflatten(2x3x3) -> ConvTranspose2d(2, 4, k3, s2, p0) -> 4x7x7 -> ReLU -> ConvTranspose2d(4, 2,
k4, s2, p1) -> 2x14x14``, LeakyReLU(0.2) output. Each net is also written as its **dense
equivalent**: the same numbers as fully connected layers (``Layer.weight``, exact), a different
file with the same function.

For each net and its dense equivalent, ``--signals`` planted signals ``y = G(z)``,
``z ~ N(0, I)`` (``numpy.random.default_rng(0)``), in one ``Y.npy``; every command runs as a
user runs it, in a subprocess, ``--workers 1``:

* ``theorychk invert NET --signal Y.npy --method linf|latent --out Z.npy --json``: recovery
  rate (``||z_hat - z||_2 / ||z||_2 <= 1e-3``) and CPU seconds per signal;
* ``theorychk certify NET --samples N --seed 0 --claims polytope,complete --out DIR --json`` (certify
  plants its own ``N`` latents ``z ~ N(0, I)``; with ``--signals Y.npy`` it would first recover each
  latent by MILP, ~8 s CPU per signal on dcgan8, which is not what is measured here): decided
  rate (the verdict is unique or not unique, i.e. some claim CERTIFIED or REFUTED) and CPU seconds
  per signal; then ``theorychk check DIR --json``: how many certificates are VERIFIED.

CPU seconds are the subprocess's user + system time (``RUSAGE_CHILDREN``), process start-up and
model reading included (the start-up alone is measured too, ``theorychk info``), divided by the
number of signals. Results: ``benchmarks/results/conv.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WT = HERE.parent
RESULTS = HERE / "results" / "conv.md"

from theorychk import zoo  # noqa: E402
from theorychk.io import save_network  # noqa: E402
from theorychk.network import Layer, Network  # noqa: E402


def random_conv_net() -> Network:
    import torch

    from theorychk.io.torch_module import from_module

    torch.manual_seed(0)
    nn = torch.nn
    g = nn.Sequential(
        nn.Linear(6, 18), nn.ReLU(), nn.Unflatten(1, (2, 3, 3)),
        nn.ConvTranspose2d(2, 4, 3, stride=2, padding=0), nn.ReLU(),  # 4 x 7 x 7
        nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 2 x 14 x 14
        nn.Flatten(),
    ).eval()
    net = from_module(g, name="random-conv")
    return Network(net.layers, name="random-conv")


def dense_equivalent(net: Network) -> Network:
    """The same affine maps as dense float32 layers (a conv's dense view holds the kernel's float32
    numbers, so the cast is exact)."""
    layers = []
    for layer in net.layers:
        w = np.asarray(layer.weight)
        w32 = w.astype(np.float32)
        assert np.array_equal(w32.astype(np.float64), w)
        layers.append(Layer(w32, np.asarray(layer.bias).astype(np.float32), layer.activation))
    return Network(tuple(layers), name=f"{net.name}-dense")


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(WT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def run(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """``theorychk ARGS`` in a subprocess; its CPU seconds (user + system) and the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, env=env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"theorychk {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return cpu, proc


def measure(path: Path, z: np.ndarray, tmp: Path, time_limit: float) -> dict:
    n = len(z)
    y = tmp / f"{path.stem}-Y.npy"
    from theorychk.io import load_network

    net = load_network(path)
    np.save(y, net.forward(z))
    row: dict = {"kinds": [layer.kind for layer in net.layers], "widths": list(net.widths)}
    startup, _ = run(["info", str(path), "--json"])
    row["startup_cpu"] = startup
    for method in ("linf", "latent"):
        out = tmp / f"{path.stem}-{method}.npy"
        cpu, proc = run(["invert", str(path), "--signal", str(y), "--method", method, "--out", str(out), "--json",
                         "--quiet", "--workers", "1", "--time-limit", str(time_limit)])
        json.loads(proc.stdout)
        z_hat = np.load(out)
        err = np.linalg.norm(z_hat - z, axis=1) / np.linalg.norm(z, axis=1)
        row[method] = {"recovered": int(np.sum(err <= 1e-3)), "cpu_per_signal": cpu / n}
        print(f"{path.stem} {method}: {row[method]}", file=sys.stderr, flush=True)
    certs = tmp / f"{path.stem}-certs"
    cpu, proc = run(["certify", str(path), "--samples", str(n), "--seed", "0", "--claims", "polytope,complete", "--out", str(certs),
                     "--json", "--quiet", "--workers", "1", "--time-limit", str(time_limit)])
    report = json.loads(proc.stdout)
    verdicts = report["verdicts"]
    check_cpu, proc = run(["check", str(certs), "--json"])
    checked = json.loads(proc.stdout)
    row["certify"] = {"unique": verdicts["unique"], "not_unique": verdicts["not unique"],
                      "undecided": verdicts["undecided"], "counts": report["counts"],
                      "cpu_per_signal": cpu / n, "verified": sum(c["verdict"] == "VERIFIED" for c in checked),
                      "certificates": len(checked), "check_cpu_per_certificate": check_cpu / max(1, len(checked))}
    print(f"{path.stem} certify: {row['certify']}", file=sys.stderr, flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--only", action="append", help="dcgan8, dcgan28, random-conv (repeatable)")
    args = parser.parse_args()
    nets = {"dcgan8": lambda: zoo.load("dcgan8"), "dcgan28": lambda: zoo.load("dcgan28"),
            "random-conv": random_conv_net}
    names = args.only or list(nets)
    start = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name in names:
            net = nets[name]()
            z = np.random.default_rng(0).standard_normal((args.signals, net.latent_dim))
            for variant, model in (("conv", net), ("dense", dense_equivalent(net))):
                path = save_network(model, tmp / f"{name}-{variant}.npz")
                results[(name, variant)] = measure(path, z, tmp, args.time_limit)
    write(results, args, time.perf_counter() - start)
    return 0


def write(results: dict, args: argparse.Namespace, wall: float) -> None:
    n = args.signals
    lines = [
        "# Convolutional generators: inversion and certification through the CLI (issue 17)",
        "",
        f"`python benchmarks/bench_conv.py --signals {n} --time-limit {args.time_limit:g}` "
        f"({time.strftime('%Y-%m-%d', time.gmtime())}, {platform.machine()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end, {wall:.0f} s wall). {n} planted signals "
        "`y = G(z)`, `z ~ N(0, I)` (seed 0) per net; every command a subprocess with `--workers 1`. "
        "**conv**: the net as theorychk reads it (transposed convolutions as exact sparse layers); "
        "**dense**: the same numbers as fully connected layers. CPU seconds per signal include the "
        "process start-up and model reading (the `startup` column: `theorychk info` alone, whole seconds "
        "of CPU, not per signal).",
        "",
        "Recovered: `||z_hat - z|| / ||z|| <= 1e-3`. Decided: `certify --claims polytope,complete` "
        "gives the verdict unique or not unique. Verified: `theorychk check DIR` says VERIFIED.",
        "",
        "| net | form | widths | linf recovered | linf CPU s/signal | latent recovered | latent CPU s/signal "
        "| certify decided (unique / not unique) | certify CPU s/signal | verified | check CPU s/cert | startup CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, variant), r in results.items():
        c = r["certify"]
        decided = c["unique"] + c["not_unique"]
        lines.append(
            f"| {name} | {variant} | {'-'.join(map(str, r['widths']))} | {r['linf']['recovered']}/{n} | "
            f"{r['linf']['cpu_per_signal']:.4f} | {r['latent']['recovered']}/{n} | {r['latent']['cpu_per_signal']:.4f} | "
            f"{decided}/{n} ({c['unique']} / {c['not_unique']}) | {c['cpu_per_signal']:.4f} | "
            f"{c['verified']}/{c['certificates']} | {c['check_cpu_per_certificate']:.4f} | {r['startup_cpu']:.2f} |")
    lines += ["", "Net of start-up (`(CPU of the command - startup CPU) / signals`; the conv form's start-up "
              "includes importing scipy.sparse):", "",
              "| net | form | linf | latent | certify |", "|---|---|---|---|---|"]
    for (name, variant), r in results.items():
        net_of = [(r[w]["cpu_per_signal"] * n - r["startup_cpu"]) / n for w in ("linf", "latent")]
        net_of.append((r["certify"]["cpu_per_signal"] * n - r["startup_cpu"]) / n)
        lines.append(f"| {name} | {variant} | " + " | ".join(f"{v:.4f}" for v in net_of) + " |")
    lines += ["", "Sparse against dense (CPU per signal with start-up, conv / dense; below 1: the conv form is "
              "faster):", ""]
    for name in dict.fromkeys(k[0] for k in results):
        if (name, "dense") not in results or (name, "conv") not in results:
            continue
        cv, dn = results[(name, "conv")], results[(name, "dense")]
        ratios = [f"{what} {cv[what]['cpu_per_signal'] / dn[what]['cpu_per_signal']:.2f}"
                  for what in ("linf", "latent", "certify")]
        lines.append(f"* {name}: " + ", ".join(ratios))
    lines += ["", "Claim counts per net (certify):", ""]
    for (name, variant), r in results.items():
        lines.append(f"* {name} {variant}: `{json.dumps(r['certify']['counts'])}`")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    raw = [{"net": name, "form": variant, **r} for (name, variant), r in results.items()]
    RESULTS.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(RESULTS.read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.exit(main())
