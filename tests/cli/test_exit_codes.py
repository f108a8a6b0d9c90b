"""Which exception becomes which exit code: the user's errors exit 2 with ``theorychk: error:``,
engine bugs (a failed exact check, a time limit that escaped its owner, anything unexpected)
exit 3 with ``theorychk: internal error``; always one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import theorychk.invariants
from theorychk.cli import main
from theorychk.errors import (
    CertificateError,
    ExactCheckFailed,
    InvalidInput,
    MissingDependency,
    SolverError,
    TimeLimitReached,
)
from theorychk.invariants import _flats

USER_ERROR = "theorychk: error: "
INTERNAL = "theorychk: internal error (please report; THEORYCHK_DEBUG=1 shows the traceback): "


@pytest.fixture
def matrix(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.array([[1, 0, 1], [0, 1, 1], [1, 1, 2]]))  # column 2 = column 0 + column 1
    return str(path)


def test_bad_input_exits_2_in_a_fresh_process(tmp_path):
    argv = [sys.executable, "-m", "theorychk", "invariants", str(tmp_path / "none.npy"), "--spark"]
    run = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(USER_ERROR) and run.stderr.count("\n") == 1, run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (InvalidInput("matrix must be 2-D; got (3,)"), 2, USER_ERROR + "matrix must be 2-D; got (3,)"),
        (MissingDependency("install onnx"), 2, USER_ERROR + "install onnx"),
        (SolverError("HiGHS rejected the model"), 2, USER_ERROR + "HiGHS rejected the model"),
        (CertificateError("truncated"), 2, USER_ERROR + "truncated"),
        (ExactCheckFailed("circuit failed its exact check"), 3,
         INTERNAL + "ExactCheckFailed: circuit failed its exact check"),
        (TimeLimitReached("spark"), 3, INTERNAL + "TimeLimitReached: time limit (spark)"),
        (RuntimeError("boom"), 3, INTERNAL + "RuntimeError: boom"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None,
)
def test_each_exception_has_its_exit_code(monkeypatch, capsys, matrix, exc, code, line):
    def engine(*args, **kwargs):
        raise exc

    monkeypatch.delenv("THEORYCHK_DEBUG", raising=False)
    monkeypatch.setattr(theorychk.invariants, "spark", engine)
    assert main(["invariants", matrix, "--spark", "--quiet"]) == code
    captured = capsys.readouterr()
    assert captured.err == line + "\n" and captured.out == ""


def test_an_engine_answer_that_fails_its_exact_check_is_an_internal_error(monkeypatch, capsys, matrix):
    # A circuit finder that returns a vector outside the kernel: spark's exact guard must catch it.
    monkeypatch.delenv("THEORYCHK_DEBUG", raising=False)
    monkeypatch.setattr(_flats.ExactColumns, "circuit_in",
                        lambda self, cols: (tuple(cols[:2]), (Fraction(1), Fraction(1))))
    assert main(["invariants", matrix, "--spark", "--quiet"]) == 3
    assert capsys.readouterr().err == INTERNAL + "ExactCheckFailed: circuit failed its exact check\n"


def test_debug_shows_the_internal_error(monkeypatch, matrix):
    monkeypatch.setenv("THEORYCHK_DEBUG", "1")
    monkeypatch.setattr(_flats.ExactColumns, "circuit_in",
                        lambda self, cols: (tuple(cols[:2]), (Fraction(1), Fraction(1))))
    with pytest.raises(ExactCheckFailed, match="circuit failed its exact check"):
        main(["invariants", matrix, "--spark", "--quiet"])


def test_a_benchmark_without_onnxruntime_is_a_missing_dependency_in_a_fresh_process(tmp_path):
    """Writing a benchmark replays every SAT witness through onnxruntime: without it the user gets
    one line naming what to install, exit 2, and nothing on stdout."""
    code = ("import sys; sys.modules['onnxruntime'] = None\n"
            "from theorychk.reduction.benchmark import generate_benchmark\n"
            "from theorychk.errors import MissingDependency\n"
            f"try:\n    generate_benchmark('hardness-mini', {str(tmp_path / 'lib')!r})\n"
            "except MissingDependency as exc:\n    print('missing:', exc)\n"
            "sys.argv = ['theorychk', 'benchmark', 'hardness-mini', '--out', "
            f"{str(tmp_path / 'cli')!r}]\n"
            "from theorychk.cli import main\nraise SystemExit(main())\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stdout.startswith("missing: writing a benchmark replays every SAT witness through onnxruntime")
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(USER_ERROR)
    assert "pip install 'theorychk[verifiers]'" in run.stderr
