"""`theorychk demo`: the README's main job runs end to end and writes its report."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from theorychk.cli import main


@pytest.mark.slow
def test_demo_writes_a_report(tmp_path, capsys):
    """Slow (about 1.5 minutes on 2 cores): every main job of the toolkit, once."""
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--samples", "2"]) == 0
    report = (out / "report.md").read_text()
    for heading in ("## 1. The zoo nets", "## 2. Certification", "## 3. Inversion", "## 4. A 3SAT", "## 5. Experiment"):
        assert heading in report
    assert "re-checked: REJECTED" not in report  # every certificate the demo wrote re-checks
    assert "re-checked: VERIFIED" in report and "is REFUTED" in report  # and the refuted case is shown
    assert "![relative error" in report and (out / "inversion-errors.png").exists()  # matplotlib is here
    assert list((out / "certificates").rglob("*.json"))
    assert f"report written to {out / 'report.md'}" in capsys.readouterr().out


#: Runs the CLI with matplotlib unimportable (as after a plain `pip install .`).
NO_MATPLOTLIB = """
import sys

class NoMatplotlib:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoMatplotlib())
from theorychk.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_demo_report_reads_without_matplotlib(tmp_path):
    """Slow (about 80 s on 2 cores): a verdict per signal, the missing figure explained, no dead link."""
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", NO_MATPLOTLIB, "demo", "--samples", "2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "theorychk-demo"
    report = (root / "report.md").read_text()
    for i in range(2):
        verdict = rf"\*\*Signal {i}\*\* of `zoo:vae-relu`: its latent code is \*\*(unique|not unique|undecided)\*\*"
        assert re.search(verdict + r".*relative error of \d", report), report
    assert "matplotlib is not installed" in report and "pip install '.[plot]'" in report
    assert not list(root.rglob("*.png"))
    links = re.findall(r"\]\(([^)]+)\)", report)
    dead = [link for link in links if not (root / link).exists()]
    assert links and not dead, dead
    assert "docs/glossary.md" in report
