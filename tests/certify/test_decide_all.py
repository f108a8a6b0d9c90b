"""``benchmarks/bench_decide_all.py`` on a few signals: every signal of issue 16's five nets is
decided by ``certify --claims complete`` and every certificate VERIFIED by ``check`` (both run as
CLI subprocesses by the benchmark). Fails when the complete procedure regresses on these nets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_decide_all.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_decide_all", _BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_five_signals_per_net_all_decided_and_verified(tmp_path: Path) -> None:
    bench = _bench()
    out = tmp_path / "decide_all.md"
    results = bench.main(["--signals", "5", "--time-limit", "120", "--out", str(out)])
    assert [r["net"] for r in results] == list(bench.NETS)
    for r in results:
        assert r["signals"] == 5, r["net"]
        assert r["verdicts"]["undecided"] == 0, (r["net"], r["undecided"])
        assert r["verdicts"]["unique"] + r["verdicts"]["not unique"] == 5, r["net"]
        assert (r["verified"], r["checked"]) == (5, 5), (r["net"], r["rejected"])
        # the checker's verdict on each certificate agrees with certify's counts
        assert r["checked_verdicts"].get("undecided", 0) == 0, r["net"]
        assert r["checked_verdicts"].get("unique", 0) == r["verdicts"]["unique"], r["net"]
    saved = json.loads(out.with_suffix(".json").read_text())
    assert [n["net"] for n in saved["nets"]] == list(bench.NETS)
    assert "| vae784-relu | 20-60-784 | 0 | 5 |" in out.read_text()
