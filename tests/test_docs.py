"""The command lines in README.md and docs/*.md run, as written, and exit as the docs say.

The convention (docs/README.md, "Examples that run"): in a fenced ```console, ```bash or ```sh
block, every line that starts with ``$ theorychk`` or ``theorychk `` is a command; a ``  #``
starts a comment. A block's commands run in order in one fresh folder holding the files the docs
name (``vae.pth``, ``mynet.onnx``, ``y.npy``, ``cert.json``, ... built by :func:`_fixtures`), with
the repository's ``certificates/`` and ``reductions/`` beside them. Each must exit 0, unless the
line just above the block says ``<!-- exit: N -->``; ``<!-- not-run: REASON -->`` there skips the
block (kept for the few that run for minutes). ``>>>`` examples in ```python blocks run as doctests.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(console|bash|sh)\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"<!--\s*(not-run|exit):\s*(.*?)\s*-->\s*$")


def _blocks() -> list[pytest.param]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            commands = []
            for line in m.group(2).splitlines():
                line = line.removeprefix("$ ")
                if line.startswith("theorychk "):
                    commands.append(shlex.split(line, comments=True)[1:])
            if not commands:
                continue
            before = text[: m.start()].rstrip().splitlines()
            marker = MARKER.search(before[-1]) if before else None
            lineno = text[: m.start()].count("\n") + 1
            marks = [pytest.mark.slow]
            if marker and marker.group(1) == "not-run":
                marks.append(pytest.mark.skip(reason=f"not-run: {marker.group(2)}"))
            code = int(marker.group(2)) if marker and marker.group(1) == "exit" else 0
            found.append(pytest.param(commands, code, id=f"{doc.relative_to(REPO)}:{lineno}", marks=marks))
    return found


def _fixtures(root: Path) -> None:
    """The files the docs' examples name: one network (zoo:vae-relu's decoder) in every format."""
    torch = pytest.importorskip("torch")
    from theorychk import zoo
    from theorychk.io import export_onnx, save_network

    net = zoo.load("vae-relu")
    # as stored (float32): the state_dict then reads as the very same network (same fingerprint)
    w0, w1 = (torch.tensor(np.asarray(layer.weight, dtype=layer.dtype)) for layer in net.layers)
    b0, b1 = (torch.tensor(np.asarray(layer.bias, dtype=layer.dtype)) for layer in net.layers)
    n_z, n_h, n_x = net.widths
    state = {"fc1.weight": torch.zeros(n_h, n_x), "fc1.bias": torch.zeros(n_h),  # the encoder: not read
             "fc21.weight": torch.zeros(n_z, n_h), "fc21.bias": torch.zeros(n_z),
             "fc22.weight": torch.zeros(n_z, n_h), "fc22.bias": torch.zeros(n_z),
             "fc3.weight": w0, "fc3.bias": b0, "fc4.weight": w1, "fc4.bias": b1}
    for name in ("vae.pth", "vae.pt", "copy.pth"):
        torch.save(state, root / name)
    save_network(net, root / "frozen.npz")
    export_onnx(net, root / "mynet.onnx")
    z = np.random.default_rng(0).standard_normal((2, n_z)).astype(np.float32)
    np.save(root / "y.npy", net.forward(z.astype(np.float64)))
    (root / "formula.cnf").write_text("p cnf 3 3\n1 -2 3 0\n-1 2 3 0\n1 2 -3 0\n")
    for folder in ("certificates", "reductions"):
        (root / folder).symlink_to(REPO / folder)
    run(["certify", "vae.pth", "--layers", "fc3,fc4", "--activation", "relu", "--final-activation", "sigmoid",
         "--samples", "1", "--out", "D", "--time-limit", "20", "--claims", "polytope"], root)
    shutil.copy(root / "D" / "signal-000.json", root / "cert.json")
    # docs/models.md's convolutional walkthrough: the user's DCGAN exported as that page does, and
    # signals of the conv zoo's dcgan28 (Y.npy)
    nn = torch.nn
    torch.manual_seed(0)
    dcgan = nn.Sequential(
        nn.Linear(4, 8 * 3 * 3), nn.ReLU(), nn.Unflatten(1, (8, 3, 3)),
        nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1),
    ).eval()
    with warnings.catch_warnings():  # torch's legacy exporter announces its own deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(dcgan, (torch.zeros(1, 4),), str(root / "dcgan.onnx"), input_names=["z"], dynamo=False)
    d28 = zoo.load("dcgan28")
    np.save(root / "Y.npy", d28.forward(np.random.default_rng(1).standard_normal((2, d28.latent_dim))))


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "theorychk", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=900, env=env)
    return proc


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("doc-fixtures")
    _fixtures(root)
    return root


@pytest.mark.parametrize(("commands", "code"), _blocks())
def test_doc_block_runs(fixtures: Path, tmp_path: Path, commands: list[list[str]], code: int) -> None:
    work = tmp_path / "work"
    shutil.copytree(fixtures, work, symlinks=True)
    for argv in commands:
        proc = run(argv, work)
        assert proc.returncode == code, f"theorychk {shlex.join(argv)}: exit {proc.returncode}\n{proc.stderr[-2000:]}"


def test_the_docs_have_runnable_blocks() -> None:
    blocks = _blocks()
    skipped = [b for b in blocks if any(m.name == "skip" for m in b.marks)]
    assert len(blocks) >= 10 and len(skipped) <= 2, [b.id for b in skipped]


def _doctest_examples(doc: Path) -> str:
    text = doc.read_text(encoding="utf-8")
    return "\n".join(m.group(1) for m in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)
                     if ">>>" in m.group(1))


#: only the docs that show ``>>>`` examples (none today: one empty parametrisation, not 15 skips)
DOCTEST_DOCS = [d for d in DOCS if _doctest_examples(d)]


@pytest.mark.parametrize("doc", DOCTEST_DOCS, ids=[str(d.relative_to(REPO)) for d in DOCTEST_DOCS])
def test_doc_doctests(doc: Path) -> None:
    examples = _doctest_examples(doc)
    test = doctest.DocTestParser().get_doctest(examples, {}, str(doc), str(doc), 0)
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE).run(test)
    assert result.failed == 0
