"""`theorychk demo`: the README's main job runs end to end and writes its report."""

import pytest

from theorychk.cli import main


@pytest.mark.slow
def test_demo_writes_a_report(tmp_path, capsys):
    """Slow (about 1-2 minutes): every main job of the toolkit, once."""
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--samples", "2"]) == 0
    report = (out / "report.md").read_text()
    for heading in ("## 1. The zoo nets", "## 2. Certification", "## 3. Inversion", "## 4. A 3SAT", "## 5. Experiment"):
        assert heading in report
    assert "REJECTED" not in report  # every certificate the demo wrote re-checks
    assert "VERIFIED" in report and "REFUTED" in report  # and the refuted case is shown
    assert list((out / "certificates").rglob("*.json"))
    assert f"report written to {out / 'report.md'}" in capsys.readouterr().out
