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


def test_method_options_reach_the_method(planted, capsys):
    tmp, _ = planted
    args = ["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--method", "gd", "--seed", "1", "--workers", "1",
            "--json", "--verbose", "--option", "momentum=0.9", "--option", "iterations=7", "--option", "step=[0.001]"]
    assert main(args) in (0, 1)
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["info"]["momentum"] for r in results} == {0.9}
    assert {r["info"]["step"] for r in results} == {0.001}
    assert all(r["counts"]["iterations"] <= 7 for r in results)


@pytest.mark.parametrize("option, message", [
    ("momentum", "--option must be NAME=VALUE (e.g. momentum=0.9); got 'momentum'"),
    ("seed=3", "--option seed has its own command-line option; use --seed"),
    ("bogus=1", "unknown option 'bogus' of method 'gd'; valid: "),
    ("momentum=fast", "momentum must be a float in [0, 1); got 'fast'"),
])
def test_bad_method_options_are_one_line(planted, capsys, option, message):
    tmp, _ = planted
    assert main(["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--method", "gd", "--option", option]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
