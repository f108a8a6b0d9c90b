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


def _run_info(*args):
    return subprocess.run([sys.executable, "-m", "theorychk", "info", *args], capture_output=True, text=True)


@pytest.fixture
def conv_model(tmp_path):
    from theorychk.conv import Conv

    rng = np.random.default_rng(0)
    net = Network(
        [
            Layer(rng.standard_normal((32, 3)).astype(np.float32), None, "relu"),
            Layer(Conv(rng.standard_normal((8, 4, 4, 4)).astype(np.float32), (8, 2, 2), stride=2, padding=1,
                       transposed=True), np.zeros(4, np.float32), "relu"),
            Layer(Conv(rng.standard_normal((2, 2, 3, 3)).astype(np.float32), (4, 4, 4), padding=1, groups=2,
                       dilation=(1, 2)), None, "tanh"),
        ],
        name="convy",
    )
    return save_network(net, tmp_path / "convy.npz"), net


def test_info_json_reports_convolutions(conv_model):
    path, net = conv_model
    proc = _run_info(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert [layer["kind"] for layer in facts["layers"]] == ["linear", "conv_transpose", "conv"]
    assert "conv" not in facts["layers"][0]
    convt = facts["layers"][1]["conv"]
    assert convt == {"in_shape": [8, 2, 2], "out_shape": [4, 4, 4], "kernel_shape": [8, 4, 4, 4], "stride": [2, 2],
                     "padding": [1, 1, 1, 1], "output_padding": [0, 0], "dilation": [1, 1], "groups": 1}
    assert facts["layers"][2]["conv"]["dilation"] == [1, 2] and facts["layers"][2]["conv"]["groups"] == 2
    assert facts["widths"] == [3, 32, 64, 2 * 4 * 2]
    assert facts["n_params"] == net.n_params == 32 * 3 + 8 * 4 * 16 + 4 + 2 * 2 * 9
    assert facts["layers"][1]["rank"] == np.linalg.matrix_rank(net.layers[1].weight)
    assert facts["fingerprint"] == net.fingerprint()


def test_info_table_shows_conv_shapes(conv_model):
    path, _ = conv_model
    proc = subprocess.run([sys.executable, "-m", "theorychk", "info", str(path)], capture_output=True, text=True,
                          env={**__import__("os").environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "conv_transpose 8x2x2 -> 4x4x4 k4x4 s2 p1" in proc.stdout
    assert "conv 4x4x4 -> 2x4x2 k3x3 s1 p1 d1x2 g2" in proc.stdout


def test_info_skips_rank_of_a_large_convolution(tmp_path):
    from theorychk.conv import Conv

    conv = Conv(np.ones((16, 8, 4, 4), np.float32), (16, 16, 16), stride=2, padding=1, transposed=True)
    path = save_network(Network([Layer(conv, None, "relu")]), tmp_path / "big.npz")
    proc = _run_info(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["layers"][0]
    assert row["rank"] is None and row["full_column_rank"] is None and row["rank_skipped"].startswith("size limit")
