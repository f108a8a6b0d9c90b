"""`theorychk check FILE... | FOLDER` as a user runs it (fresh processes): many certificates in one
process, one row (or one JSON object) each, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CERTS = ROOT / "certificates" / "zoo" / "vae-relu"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "THEORYCHK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "theorychk", "check", *args], capture_output=True, text=True,
                          env=env, timeout=600, cwd=cwd)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "D"
    d.mkdir()
    for f in sorted(CERTS.glob("signal-*.json")):
        shutil.copy(f, d / f.name)
    (d / "notes.txt").write_text("not a certificate: only *.json files of a folder are checked\n")
    return d


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_folder_table_all_verified(folder):
    proc = run("D", cwd=folder.parent)
    assert proc.returncode == 0, proc.stderr
    names = sorted(f.name for f in folder.glob("*.json"))
    assert len(names) >= 2
    for name in names:
        assert name in proc.stdout
    assert f"{len(names)} certificate(s): {len(names)} VERIFIED, 0 REJECTED" in proc.stdout


def test_files_json_is_a_list_one_object_each(folder):
    files = sorted(str(f.relative_to(folder.parent)) for f in folder.glob("*.json"))
    proc = run(*files, "--json", cwd=folder.parent)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and [d["certificate"] for d in data] == files
    assert all(d["verdict"] == "VERIFIED" and d["signal_verdict"]["verdict"] == "unique" for d in data)
    assert all(isinstance(d["cpu_seconds"], float) and 0 <= d["cpu_seconds"] < 60 for d in data)  # per certificate


def test_one_rejected_certificate_exits_1_and_is_named(folder):
    bad = folder / "signal-001.json"
    cert = json.loads(bad.read_text())
    num, _, den = cert["signal"]["latent"][0].partition("/")
    cert["signal"]["latent"][0] = f"{int(num) + 1}/{den}" if den else str(int(num) + 1)  # perturb z*
    bad.write_text(json.dumps(cert))
    proc = run("D", "--json", cwd=folder.parent)
    assert proc.returncode == 1, proc.stderr
    data = {Path(d["certificate"]).name: d for d in json.loads(proc.stdout)}
    assert data["signal-001.json"]["verdict"] == "REJECTED"
    assert data["signal-001.json"]["signal_verdict"]["verdict"] == "undecided"
    assert all(d["verdict"] == "VERIFIED" for name, d in data.items() if name != "signal-001.json")
    table = run("D", cwd=folder.parent)
    assert table.returncode == 1
    assert "1 REJECTED" in table.stdout and "does not equal" in table.stdout


def test_unreadable_certificate_in_a_batch_exits_2_naming_it(folder):
    (folder / "broken.json").write_text('{"format": "theorychk-certificate", "version": 1,')  # truncated
    err = _one_line_error(run("D", "--json", cwd=folder.parent))
    assert "broken.json" in err and "JSON" in err


def test_missing_file_among_several_exits_2_naming_it(folder):
    err = _one_line_error(run("D/signal-000.json", "D/nothere.json", cwd=folder.parent))
    assert "nothere.json" in err


def test_folder_without_certificates_exits_2_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    err = _one_line_error(run("empty", cwd=tmp_path))
    assert "empty" in err and "*.json" in err


def test_one_file_keeps_the_single_report(folder):
    proc = run("D/signal-000.json", "--json", cwd=folder.parent)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict) and data["verdict"] == "VERIFIED" and "claims" in data
    single = next(iter(folder.glob("signal-000.json")))
    for f in folder.glob("*.json"):
        if f != single:
            f.unlink()
    as_folder = json.loads(run("D", "--json", cwd=folder.parent).stdout)  # a folder is always a batch
    assert isinstance(as_folder, list) and len(as_folder) == 1
