"""The committed reductions/ corpus: regenerated identically, and its expected answers re-verified."""

import json
from pathlib import Path

import numpy as np
import pytest

from theorychk.reduction.corpus import DEFAULT_SEED, check_corpus, generate_corpus
from theorychk.verdict import Status

CORPUS = Path(__file__).resolve().parents[2] / "reductions"


def _files(root: Path) -> list[str]:
    """The corpus's files; the benchmark folders beside it (``reductions/benchmark-*``) are not part of it."""
    return sorted(rel for p in root.rglob("*") if p.is_file()
                  and not (rel := p.relative_to(root).as_posix()).startswith("benchmark-"))


def test_regenerated_corpus_is_identical(tmp_path):
    manifest = generate_corpus(tmp_path, seed=DEFAULT_SEED)
    assert _files(tmp_path) == _files(CORPUS)
    for rel in _files(CORPUS):
        new, old = tmp_path / rel, CORPUS / rel
        if rel.endswith(".npz"):  # compared by content: some numpy versions stamp zip entries with the time
            with np.load(new) as a, np.load(old) as b:
                assert sorted(a.files) == sorted(b.files)
                assert all(np.array_equal(a[k], b[k]) for k in a.files), rel
        else:
            assert new.read_bytes() == old.read_bytes(), rel
    assert manifest == json.loads((CORPUS / "manifest.json").read_text())


def test_corpus_answers_reverify():
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    answers = {e["expected"] for e in manifest["instances"]}
    sizes = {e["formula"]["n_vars"] for e in manifest["instances"]}
    assert answers == {"SAT", "UNSAT"} and {5, 10, 20} <= sizes and manifest["epsilon"] == "1/8"
    results = check_corpus(CORPUS, milp_max_vars=5, time_limit=60)
    assert len(results) == len(manifest["instances"])
    bad = [(r.name, r.message) for r in results if r.status is not Status.CERTIFIED]
    assert not bad
    assert sum("milp" in r.parts for r in results) >= 6


@pytest.mark.slow
def test_corpus_answers_reverify_with_the_milp_everywhere():
    results = check_corpus(CORPUS, milp_max_vars=30, time_limit=600)
    assert all(r.status is Status.CERTIFIED for r in results), [(r.name, r.message) for r in results]
