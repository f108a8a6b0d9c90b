"""`theorychk invariants`: matrix files and model layers, JSON with bounds/evidence, errors."""

import json

import numpy as np
import pytest

from theorychk.cli import main


def test_matrix_file_all_invariants_json(tmp_path, capsys):
    a = np.array([[1, 0, 1, 2], [0, 1, 1, 0], [1, 1, 2, 2], [0, 0, 0, 1], [2, 1, 3, 0]])
    np.save(tmp_path / "a.npy", a)
    args = ["invariants", str(tmp_path / "a.npy"), "--spark", "--sub-rank", "3", "--sub-spark", "3",
            "--coherence", "--mu-s", "3", "--c-inf", "3", "--c-1", "3", "--json", "--quiet"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    by_name = {r["invariant"]: r for r in out["results"]}
    # column 2 = column 0 + column 1: three dependent columns, and no two are parallel
    assert by_name["spark"]["value"] == 3 and by_name["spark"]["exact"]
    assert set(by_name["spark"]["upper"]["evidence"]) & {"columns", "support"}
    assert {"sub_rank", "sub_spark", "coherence", "mu_s", "c_inf", "c_1"} <= set(by_name)
    for r in out["results"]:
        assert r["status"] in ("CERTIFIED", "UNKNOWN") and "elapsed_seconds" in r


def test_model_layer_table(capsys):
    assert main(["invariants", "zoo:vae-relu", "--layer", "0", "--spark", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "spark" in out and "CERTIFIED" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["zoo:vae-relu"], "pass --layer I"),
        (["zoo:vae-relu", "--layer", "7"], r"--layer must be between 0 and 1 for zoo:vae-relu; got 7"),
        (["{tmp}/a.npy", "--sub-rank", "0"], r"s must be between 1 and"),
        (["{tmp}/a.npy", "--c-inf", "99"], r"between 1 and 2"),
        (["{tmp}/nan.npy", "--spark"], "must be finite"),
        (["{tmp}/missing.npy", "--spark"], "MATRIX file not found"),
    ],
)
def test_errors(tmp_path, capsys, args, message):
    np.save(tmp_path / "a.npy", np.ones((2, 2)))
    np.save(tmp_path / "nan.npy", np.array([[np.nan, 1.0]]))
    assert main(["invariants", *[a.replace("{tmp}", str(tmp_path)) for a in args], "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and __import__("re").search(message, err), err
