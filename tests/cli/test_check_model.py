"""Certificates that say how the model was read: `theorychk check CERT` alone, `check --model` with
the model options, the messages of a moved / edited / differently read model, and `theorychk convert`.

The main path a user takes (certify a `.pth`, check it alone, move / edit the file, read it with
other options, convert it) runs in a subprocess of the command (`python -m theorychk`), so that what
is pinned is exactly what a user sees; the variations (other formats, the legacy format, error
cases) run the same command in process (`main`), which is several seconds faster per call.
The model is a small PyTorch VAE whose state_dict holds an encoder and two decoders.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from theorychk.check.core import check_certificate, check_file
from theorychk.cli import main
from theorychk.errors import CertificateError
from theorychk.io import WRITERS, layer_digests, load_network, save_network
from theorychk.network import Layer, Network
from tests.certify.test_certificate import schema_errors

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ["--layers", "fc3,fc4", "--activation", "relu", "--final-activation", "sigmoid"]
CLAIMS = ["--claims", "polytope,lei_thm2"]


class VAE(nn.Module):
    """Encoder fc1 -> fc21/fc22; decoder fc3 -> fc4 (3-10-20); a second decoder dec2a -> dec2b (3-15-20)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(20, 10), nn.Linear(10, 3), nn.Linear(10, 3)
        self.fc3, self.fc4 = nn.Linear(3, 10), nn.Linear(10, 20)
        self.dec2a, self.dec2b = nn.Linear(3, 15), nn.Linear(15, 20)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command in a subprocess, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("THEORYCHK_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def run_here(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The same command in this process (same exit code and streams, without the start-up)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The CLI's error contract: exit 2, nothing on stdout, one line `theorychk: error: ...` on stderr."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "" and proc.stderr.startswith("theorychk: error: ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    return proc.stderr


def save_vae(path: Path, legacy: bool = False) -> Path:
    torch.manual_seed(0)
    torch.save(VAE().state_dict(), path, _use_new_zipfile_serialization=not legacy)
    return path


def certify(model: str, cwd: Path, out: str = "D", *options: str, here: bool = False) -> dict:
    proc = (run_here if here else run)("certify", model, *options, "--samples", "1", *CLAIMS, "--out", out, "--quiet", "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    return json.loads((cwd / out / "signal-000.json").read_text())


@pytest.fixture(scope="module")
def certified(tmp_path_factory) -> Path:
    """A VAE state_dict certified with --layers/--activation/--final-activation (model path given relative)."""
    work = tmp_path_factory.mktemp("vae")
    save_vae(work / "vae.pth")
    certify("vae.pth", work, "D", *OPTIONS)
    return work


@pytest.fixture
def work(certified, tmp_path) -> Path:
    """A private copy of the certified VAE and its certificate (tests move and edit files)."""
    dest = tmp_path / "w"
    shutil.copytree(certified, dest)
    cert = json.loads((dest / "D" / "signal-000.json").read_text())
    cert["model"]["source"] = str(dest / "vae.pth")  # the copy's absolute path, as certify would record
    (dest / "D" / "signal-000.json").write_text(json.dumps(cert))
    return dest


# --------------------------------------------------------------------------------------------
# The certificate records how the model was read; `check CERT` works alone
# --------------------------------------------------------------------------------------------


def test_certificate_records_source_hash_and_reading_options(certified):
    model = json.loads((certified / "D" / "signal-000.json").read_text())["model"]
    pth = certified / "vae.pth"
    assert model["source"] == str(pth.resolve())  # absolute: `check` works from any directory
    assert model["source_sha256"] == hashlib.sha256(pth.read_bytes()).hexdigest()
    assert model["reading"] == {"layers": ["fc3", "fc4"], "activation": ["relu"], "final_activation": "sigmoid"}
    net = load_network(pth, layers="fc3,fc4", activation="relu", final_activation="sigmoid")
    assert model["fingerprint"] == net.fingerprint() and model["widths"] == [3, 10, 20]
    assert model["activations"] == ["relu", "sigmoid"] and model["layer_sha256"] == layer_digests(net)
    assert schema_errors(json.loads((certified / "D" / "signal-000.json").read_text())) == []


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_pth_certificate_rechecks_alone_from_another_directory(tmp_path, legacy):
    save_vae(tmp_path / "vae.pth", legacy=legacy)
    certify("vae.pth", tmp_path, "D", *OPTIONS, here=True)  # the fixture certifies in a subprocess
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = (run_here if legacy else run)("check", str(tmp_path / "D" / "signal-000.json"), cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == f"VERIFIED: {tmp_path / 'D' / 'signal-000.json'}"


@pytest.mark.parametrize("fmt", ["npz", "onnx", "zoo"])
def test_other_formats_recheck_alone_with_the_recorded_options(tmp_path, fmt):
    rng = np.random.default_rng(3)
    net = Network([Layer(rng.standard_normal((8, 3)).astype(np.float32), None, "relu"),
                   Layer(rng.standard_normal((12, 8)).astype(np.float32), None, "relu")])
    if fmt == "zoo":
        model, options = "zoo:vae-relu", []
    else:
        model = f"m.{fmt}"
        WRITERS[f".{fmt}"](net, tmp_path / model)
        options = ["--activation", "leaky_relu:0.2"]  # overrides the file's relu: must be re-applied
    cert = certify(model, tmp_path, "D", *options, here=True)
    if fmt == "zoo":
        assert cert["model"]["source"] == "zoo:vae-relu" and len(cert["model"]["source_sha256"]) == 64
    else:
        assert cert["model"]["activations"] == ["leaky_relu:0.2"] * 2
        assert cert["model"]["reading"]["activation"] == ["leaky_relu:0.2"]
    proc = run_here("check", "D/signal-000.json", cwd=tmp_path)
    assert proc.returncode == 0 and "VERIFIED: D/signal-000.json" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("layers", [None, "0+1,3"], ids=["automatic", "named"])
def test_folded_batch_norm_rechecks_alone(tmp_path, layers):
    """Batch-norm folding is part of the reading: named (`0+1`) it is recorded in `layers`; automatic
    (an nn.Sequential) it follows from the state_dict by a fixed rule, so recording no layers re-reads it."""
    torch.manual_seed(1)
    seq = nn.Sequential(nn.Linear(3, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Linear(9, 14))
    seq[1].running_mean.uniform_(-0.5, 0.5)
    seq[1].running_var.uniform_(0.5, 2.0)
    torch.save(seq.state_dict(), tmp_path / "bn.pth")
    options = ["--activation", "leaky_relu:0.1", *(["--layers", layers] if layers else [])]
    cert = certify("bn.pth", tmp_path, "D", *options, here=True)
    assert cert["model"]["reading"]["layers"] == (layers.split(",") if layers else None)
    assert cert["model"]["dtype"] == "float64"  # the folded layer holds new numbers
    proc = run_here("check", "D/signal-000.json", cwd=tmp_path)
    assert proc.returncode == 0 and "VERIFIED: D/signal-000.json" in proc.stdout, proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------------
# Moved and edited model files
# --------------------------------------------------------------------------------------------


def test_moved_model_file_is_a_one_line_error_naming_the_options(work):
    (work / "vae.pth").rename(work / "moved.pth")
    err = one_line_error(run("check", "D/signal-000.json", cwd=work))
    assert err == (f"theorychk: error: model file {work / 'vae.pth'} recorded in certificate D/signal-000.json is "
                   f"not found (moved or deleted?); pass --model FILE with the options the certificate records "
                   f"(--layers fc3,fc4 --activation relu --final-activation sigmoid)\n")
    proc = run("check", "D/signal-000.json", "--model", "moved.pth", *OPTIONS, cwd=work)
    assert proc.returncode == 0 and "VERIFIED" in proc.stdout, proc.stdout + proc.stderr


def test_edited_model_file_is_rejected_saying_it_changed_and_which_layer(work):
    sd = torch.load(work / "vae.pth", weights_only=True)
    sd["fc4.bias"][0] += 1.0
    torch.save(sd, work / "vae.pth")
    proc = run("check", "D/signal-000.json", "--json", cwd=work)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    reason = report["claims"][0]["reason"]
    assert report["verdict"] == "REJECTED" and len(report["claims"]) == 1
    assert reason.startswith(f"model file {work / 'vae.pth'} has changed since the certificate was made "
                             f"(its sha256 is ")
    assert reason.endswith("layer 1 weights or bias differ (20x10 float32 as read)"), reason
    assert "layer 0" not in reason  # fc3 is untouched


def test_changed_file_that_no_longer_reads_with_the_options_is_a_one_line_error(work):
    sd = torch.load(work / "vae.pth", weights_only=True)
    torch.save({k: v for k, v in sd.items() if not k.startswith("fc3.")}, work / "vae.pth")
    err = one_line_error(run_here("check", "D/signal-000.json", cwd=work))
    assert err.startswith(f"theorychk: error: model file {work / 'vae.pth'} has changed since the certificate was "
                          f"made (its sha256 is "), err
    assert ", and it cannot be read with the recorded options (layer 'fc3' is not in vae.pth;" in err
    assert err.endswith("; pass --model FILE with the options the certificate records (--layers fc3,fc4 "
                        "--activation relu --final-activation sigmoid)\n"), err


def test_changed_bytes_with_the_same_network_are_rejected_with_a_way_out(tmp_path):
    rng = np.random.default_rng(5)
    net = Network([Layer(rng.standard_normal((8, 3)).astype(np.float32), None, "leaky_relu:0.2"),
                   Layer(rng.standard_normal((12, 8)).astype(np.float32), None, "leaky_relu:0.2")], name="first")
    save_network(net, tmp_path / "m.npz")
    certify("m.npz", tmp_path, here=True)
    save_network(Network(net.layers, name="renamed"), tmp_path / "m.npz")  # the name is not part of the network
    proc = run_here("check", "D/signal-000.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert "has changed since the certificate was made" in proc.stdout
    assert ("read with the recorded options it is still the certified network (same fingerprint): to check "
            "against that network, pass --model with the file") in proc.stdout
    proc = run_here("check", "D/signal-000.json", "--model", "m.npz", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout


# --------------------------------------------------------------------------------------------
# `check --model` takes the model options; a mismatch says which option or layer differs
# --------------------------------------------------------------------------------------------


def test_activation_mismatch_names_the_layer_and_the_option(work):
    proc = run("check", "D/signal-000.json", "--model", "vae.pth", "--layers", "fc3,fc4", "--activation",
               "leaky_relu:0.1", "--final-activation", "sigmoid", cwd=work)
    assert proc.returncode == 1
    line = proc.stdout.splitlines()[0]
    assert line.startswith("REJECTED       certificate: model fingerprint mismatch (certificate ")
    assert line.endswith("): layer 0 activation: certificate says relu, model read as leaky_relu:0.1; reading "
                         "options differ (certificate vs this check): --activation: relu vs leaky_relu:0.1"), line


def test_layer_mismatch_names_the_widths_and_the_option(work):
    proc = run_here("check", "D/signal-000.json", "--model", "vae.pth", "--layers", "dec2a,dec2b", "--activation", "relu",
               "--final-activation", "sigmoid", cwd=work)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0].endswith(
        "): widths 3-10-20 in the certificate vs 3-15-20 as read; reading options differ (certificate vs this "
        "check): --layers: fc3,fc4 vs dec2a,dec2b"), proc.stdout


def test_model_without_its_options_is_an_error_that_shows_the_recorded_ones(work):
    err = one_line_error(run_here("check", "D/signal-000.json", "--model", "vae.pth", cwd=work))
    assert err.endswith("(the certificate's model was read with --layers fc3,fc4 --activation relu "
                        "--final-activation sigmoid)\n"), err
    assert "do not chain" in err


def test_model_options_without_model_are_an_error(work):
    err = one_line_error(run_here("check", "D/signal-000.json", "--activation", "relu", cwd=work))
    assert "say how to read the model given with --model" in err


# --------------------------------------------------------------------------------------------
# `theorychk convert`
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["npz", "onnx"])
def test_convert_round_trips_and_certificates_check_against_the_result(work, ext):
    out = f"frozen.{ext}"
    proc = (run if ext == "npz" else run_here)("convert", "vae.pth", out, *OPTIONS, "--json", cwd=work)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    facts = json.loads(proc.stdout)
    fingerprint = json.loads((work / "D" / "signal-000.json").read_text())["model"]["fingerprint"]
    assert facts["identical"] is True and facts["fingerprint"] == facts["fingerprint_out"] == fingerprint
    info = json.loads(run_here("info", out, "--json", cwd=work).stdout)  # read with no options
    assert info["fingerprint"] == fingerprint and info["widths"] == [3, 10, 20]
    proc = run_here("check", "D/signal-000.json", "--model", out, cwd=work)
    assert proc.returncode == 0 and "VERIFIED" in proc.stdout, proc.stdout + proc.stderr
    cert = certify(out, work, "E", here=True)  # the frozen file certifies as the same network, and checks alone
    assert cert["model"]["fingerprint"] == fingerprint
    assert cert["model"]["reading"] == {"layers": None, "activation": None, "final_activation": None}
    assert run_here("check", "E/signal-000.json", cwd=work).returncode == 0


def test_convert_errors_are_one_line_and_leave_no_file(work):
    (work / "taken.npz").write_bytes(b"keep me")
    assert "output file taken.npz exists; remove it or pass --force" in one_line_error(
        run_here("convert", "vae.pth", "taken.npz", *OPTIONS, cwd=work))
    assert (work / "taken.npz").read_bytes() == b"keep me"
    assert "unknown output extension '.pt'; valid: .npz, .onnx" in one_line_error(
        run_here("convert", "vae.pth", "x.pt", *OPTIONS, cwd=work))
    (work / "dir.npz").mkdir()
    assert "output dir.npz is a directory" in one_line_error(run_here("convert", "vae.pth", "dir.npz", *OPTIONS, cwd=work))
    assert "carries no activations" in one_line_error(run_here("convert", "vae.pth", "y.npz", "--layers", "fc3,fc4",
                                                          cwd=work))
    assert sorted(p.name for p in work.iterdir()) == ["D", "dir.npz", "taken.npz", "vae.pth"]
    proc = run_here("convert", "vae.pth", "taken.npz", *OPTIONS, "--force", cwd=work)
    assert proc.returncode == 0 and proc.stdout.startswith("wrote taken.npz: 3 -> 10 -> 20 (relu, sigmoid)")
    assert load_network(work / "taken.npz").widths == (3, 10, 20)


def test_convert_to_onnx_warns_when_the_file_holds_another_network(tmp_path):
    third = np.array([[1 / 3, 1.0], [1.0, -1.0], [0.5, 2.0]])  # 1/3 is no float32 number
    save_network(Network([Layer(third, None, "relu")]), tmp_path / "f64.npz")
    proc = run_here("convert", "f64.npz", "f32.onnx", "--json", cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["identical"] is False
    lines = proc.stderr.splitlines()
    assert lines[-1].startswith("theorychk: warning: f32.onnx holds a different network than f64.npz as read, "
                                "so certificates of the one do not check against the other: model fingerprint "
                                "mismatch"), lines
    assert lines[-1].endswith("layer 0 weights or bias differ (3x2 float32 as read)"), lines[-1]


# --------------------------------------------------------------------------------------------
# The checker's side (in process): descriptive fields are bound, malformed reading options
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("activations", ["relu", "relu"]), ("dtype", "float64"), ("layer_sha256", ["0" * 64, "0" * 64]),
    ("widths", [3, 10, 21]),
])
def test_descriptive_model_fields_are_bound_to_the_network(certified, field, value):
    cert = json.loads((certified / "D" / "signal-000.json").read_text())
    net = load_network(certified / "vae.pth", layers="fc3,fc4", activation="relu", final_activation="sigmoid")
    assert check_certificate(cert, net).verified
    bad = copy.deepcopy(cert)
    bad["model"][field] = value
    report = check_certificate(bad, net)
    assert not report.verified
    verb = "does" if field == "dtype" else "do"
    assert report.claims[0].reason.startswith(f"model.{field} {value} {verb} not match the model"), report.claims[0].reason


@pytest.mark.parametrize(("reading", "message"), [
    ({"layers": "fc3,fc4", "activation": None, "final_activation": None},
     "model.reading.layers must be null or a non-empty list of strings; got 'fc3,fc4'"),
    ({"layers": None, "activation": None, "final_activation": None, "bn_eps": 1},
     "model.reading has unknown option(s) 'bn_eps'; valid: layers, activation, final_activation"),
    ([], "model.reading must be an object; got list"),
])
def test_malformed_reading_options_are_a_certificate_error(work, reading, message):
    path = work / "D" / "signal-000.json"
    cert = json.loads(path.read_text())
    cert["model"]["reading"] = reading
    path.write_text(json.dumps(cert))
    with pytest.raises(CertificateError) as exc:
        check_file(path)
    assert str(exc.value) == f"certificate {path}: {message}"


def test_edited_reading_options_change_the_network_read_and_are_rejected(work):
    path = work / "D" / "signal-000.json"
    cert = json.loads(path.read_text())
    cert["model"]["reading"]["activation"] = ["leaky_relu:0.1"]
    path.write_text(json.dumps(cert))
    report = check_file(path)
    assert not report.verified
    assert "layer 0 activation: certificate says relu, model read as leaky_relu:0.1" in report.claims[0].reason


def test_certificates_without_reading_options_still_check(work):
    """Certificates written before the reading options were recorded: a state_dict is read with the
    recorded activations (and no layer selection), anything else as it is."""
    path = work / "D" / "signal-000.json"
    cert = json.loads(path.read_text())
    sd = torch.load(work / "vae.pth", weights_only=True)
    torch.save({k: v for k, v in sd.items() if k.startswith(("fc3.", "fc4."))}, work / "decoder.pth")
    for key in ("reading", "source_sha256", "layer_sha256"):
        del cert["model"][key]
    cert["model"]["source"] = str(work / "decoder.pth")
    path.write_text(json.dumps(cert))
    assert check_file(path).verified
