"""`theorychk invert`: batches, masks, methods, --out, and one-line errors."""

import json

import numpy as np
import pytest

from theorychk import zoo
from theorychk.cli import main


@pytest.fixture
def planted(tmp_path):
    net = zoo.load("vae-relu")
    z = np.random.default_rng(0).standard_normal((3, net.latent_dim))
    np.save(tmp_path / "y.npy", net.forward(z))
    return tmp_path, z


@pytest.mark.parametrize("method", ["linf", "milp", "latent"])
def test_invert_batch_recovers_planted_latents(planted, method, capsys):
    tmp, z = planted
    out = tmp / "z.npy"
    assert main(["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--method", method, "--out", str(out), "--json", "--seed", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in report["results"]] == ["SOLVED"] * 3
    np.testing.assert_allclose(np.load(out), z, atol=1e-6)


def test_invert_with_mask(planted, capsys):
    tmp, z = planted
    mask = np.zeros(64, dtype=bool)
    mask[::2] = True
    np.save(tmp / "mask.npy", mask)
    y = np.load(tmp / "y.npy")[0]
    np.save(tmp / "y0.npy", y)
    assert main(["invert", "zoo:vae-relu", "--signal", str(tmp / "y0.npy"), "--mask", str(tmp / "mask.npy"), "--out", str(tmp / "z0.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp / "z0.npy"), z[0], atol=1e-6)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "lnf"], "unknown inversion method 'lnf'; valid: .* did you mean 'linf'"),
        (["--mask", "{tmp}/missing.npy"], "--mask file not found"),
        (["--signal", "{tmp}/short.npy"], r"--signal .*short.npy has shape \(5,\); expected \(64,\) or \(batch, 64\)"),
        (["--signal", "{tmp}/nan.npy"], "--signal .*nan.npy: NaN at entry 0"),
        (["--mask", "{tmp}/nomask.npy"], "mask must observe at least one output coordinate"),
    ],
)
def test_invert_errors(planted, capsys, extra, message):
    tmp, _ = planted
    np.save(tmp / "short.npy", np.ones(5))
    np.save(tmp / "nan.npy", np.full(64, np.nan))
    np.save(tmp / "nomask.npy", np.zeros(64, dtype=bool))
    args = ["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), *[e.replace("{tmp}", str(tmp)) for e in extra]]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("theorychk: error:") and err.count("\n") == 1
    assert __import__("re").search(message, err)
