"""Every command with ``--json`` prints exactly one JSON document on stdout, in a fresh process.

The in-process CLI tests cannot see this: HiGHS prints its banner ("Running HiGHS 1.16.0 ...")
on stdout only the first time a ``Highs`` is made in a process (issue 13, item 2). So each
command here runs in its own interpreter, as a user's shell or ``jq`` pipeline would run it,
with small inputs; stdout must parse as JSON and stderr must hold no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from theorychk.io import save_network
from theorychk.network import Layer, Network


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("streams")
    rng = np.random.default_rng(1)
    net = Network([Layer(rng.standard_normal((8, 2)).astype(np.float32), None, "relu"),
                   Layer(rng.standard_normal((12, 8)).astype(np.float32), None, "relu")], name="small")
    save_network(net, root / "small.npz")
    np.save(root / "y.npy", net.forward(rng.standard_normal((2, 2))))
    np.save(root / "a.npy", np.array([[1, 0, 1, 2], [0, 1, 1, 0], [1, 1, 2, 2], [0, 0, 0, 1], [2, 1, 3, 0]]))
    # 12 x 24: too large for the spark to skip its LP stages (HiGHS must stay off stdout); the LP
    # bound and the l1 heuristic settle it at the planted 4-column circuit.
    b = np.random.default_rng(3).integers(-3, 4, size=(12, 24))
    b[:, 23] = b[:, 0] + b[:, 1] + b[:, 2]
    np.save(root / "b.npy", b)
    (root / "square.cnf").write_text("p cnf 2 4\n1 2 0\n-1 2 0\n1 -2 0\n-1 -2 0\n")
    return root


def run(args: list[str], cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


#: Every inversion method but ``oracle``, which needs the true supports and has no CLI option for
#: them (``invert --method oracle`` exits 2 with a one-line error).
METHODS = ["gd", "l1", "latent", "lbp", "linf", "milp", "relax"]

COMMANDS = {
    "info": ["info", "zoo:vae-relu", "--json"],
    "invariants matrix": ["invariants", "{root}/a.npy", "--spark", "--sub-rank", "3", "--sub-spark", "3",
                          "--coherence", "--mu-s", "3", "--c-inf", "3", "--c-1", "3", "--json", "--quiet"],
    "invariants --spark (LP bound)": ["invariants", "{root}/b.npy", "--spark", "--json", "--quiet"],
    "invariants layer": ["invariants", "zoo:vae-relu", "--layer", "0", "--spark", "--json", "--quiet"],
    **{f"invert {m}": ["invert", "{root}/small.npz", "--signal", "{root}/y.npy", "--method", m, "--seed", "0",
                       "--json", "--quiet"] for m in METHODS},
    "certify": ["certify", "{root}/small.npz", "--samples", "1", "--seed", "0", "--out", "{root}/certs",
                "--time-limit", "60", "--json", "--quiet"],
    "reduce --verify": ["reduce", "--cnf", "{root}/square.cnf", "--verify", "--json", "--quiet"],
    "reduce random --verify": ["reduce", "--vars", "5", "--clauses", "21", "--seed", "1", "--verify", "--json",
                               "--quiet"],
    "convert": ["convert", "zoo:vae-relu", "{root}/frozen.onnx", "--json"],
    "benchmark": ["benchmark", "hardness-mini", "--out", "{root}/bench", "--seed", "1", "--json"],
    "benchmark verify": ["benchmark", "verify", "{repo}/reductions/benchmark-hardness", "--json"],
    "theorems": ["theorems", "--json"],
    "falsify": ["falsify", "lei2019.theorem2", "--budget", "3", "--json"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_json_stdout_parses_in_a_fresh_process(files, name):
    repo = Path(__file__).resolve().parents[2]
    out = run([a.replace("{root}", str(files)).replace("{repo}", str(repo)) for a in COMMANDS[name]], files)
    assert out.returncode in (0, 1), out.stderr[-2000:]  # 1: a refutation, still a report
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    try:
        json.loads(out.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"{name}: stdout is not one JSON document ({exc}); it starts {out.stdout[:200]!r}")


def test_check_json_parses_in_a_fresh_process(files):
    certify = run(["certify", str(files / "small.npz"), "--samples", "1", "--seed", "0", "--out",
                   str(files / "certs-check"), "--claims", "lei_thm2,polytope", "--json", "--quiet"], files)
    assert certify.returncode == 0, certify.stderr[-2000:]
    out = run(["check", str(files / "certs-check" / "signal-000.json"), "--json"], files)
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert json.loads(out.stdout)["verdict"] in ("VERIFIED", "REJECTED")


def test_table_output_carries_no_solver_banner(files):
    out = run(["invert", str(files / "small.npz"), "--signal", str(files / "y.npy"), "--method", "milp", "--quiet"],
              files)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HiGHS" not in out.stdout and "SOLVED" in out.stdout


def test_every_command_with_json_is_run_above():
    """A new command with ``--json`` must be added to :data:`COMMANDS` (or have its own test here)."""
    import typer.main

    from theorychk.cli import _register, app

    _register([])  # every command module, as `theorychk --help` does
    group = typer.main.get_command(app)
    with_json = {name for name, cmd in group.commands.items() if any("--json" in p.opts for p in cmd.params)}
    assert {"info", "certify", "check", "invert", "convert", "benchmark"} <= with_json  # the scan sees them
    covered = {args[0] for args in COMMANDS.values()} | {"check"}  # check: its own test above
    assert with_json - covered == set()
