"""`theorychk info`: table and JSON output, one-line errors with exit code 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from theorychk.cli import main
from theorychk.io import save_network
from theorychk.network import Layer, Network


@pytest.fixture
def model(tmp_path):
    rng = np.random.default_rng(0)
    net = Network(
        [Layer(rng.standard_normal((6, 2)).astype(np.float32), None, "relu"), Layer(np.ones((3, 6)), np.zeros(3), "identity")],
        name="tiny",
    )
    return save_network(net, tmp_path / "tiny.npz"), net


def test_info_json(model, capsys):
    path, net = model
    assert main(["info", str(path), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["widths"] == [2, 6, 3]
    assert facts["fingerprint"] == net.fingerprint()
    assert [layer["rank"] for layer in facts["layers"]] == [2, 1]
    assert [layer["activation"] for layer in facts["layers"]] == ["relu", "identity"]
    assert facts["n_params"] == net.n_params


def test_info_table(model, capsys):
    path, net = model
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 -> 6 -> 3" in out and net.fingerprint()[:16] in out.replace("\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "missing.npz"], "theorychk: error: model file not found: missing.npz"),
        (["info", "model.h5"], "theorychk: error: unknown model file extension '.h5'"),
        (["info", "{model}", "--activation", "rleu"], "theorychk: error: unknown activation 'rleu'"),
        (["info", "{model}", "--layers", "fc1"], "drop --layers"),
        (["info", "zoo:nonexistent-net"], "theorychk: error: unknown zoo net 'nonexistent-net'"),
    ],
)
def test_errors_are_one_line_exit_2(model, capsys, args, message):
    path, _ = model
    args = [a.replace("{model}", str(path)) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    assert main(["info"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_console_script_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"\x00" * 10)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from theorychk.cli import main; sys.exit(main())", "info", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("theorychk: error:")
