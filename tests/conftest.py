"""Shared test settings: a Hypothesis profile that keeps the default suite fast and reproducible,
and the fake clock that time-limit tests run on (in this process, or in a ``python -m theorychk``
subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from theorychk import runtime

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


class FakeClock:
    """Seconds that pass only when a test says so: ``now`` is set by hand, and every reading
    advances it by ``step`` (0: it stands still)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.step = 0.0
        self.reads = 0

    def __call__(self) -> float:
        now = self.now
        self.now += self.step
        self.reads += 1
        return now


@pytest.fixture
def fake_clock(monkeypatch):
    """:data:`theorychk.runtime.clock` replaced by a :class:`FakeClock`: every ``Deadline`` built in
    the test runs on it, so a time limit passes after a known number of looks at the clock, however
    fast the machine is (a time-limit test must not assert that real work is slow)."""
    fake = FakeClock()
    monkeypatch.setattr(runtime, "clock", fake)
    return fake


#: Runs ``python -m theorychk ARGS`` with :data:`theorychk.runtime.clock` replaced by one that
#: advances ``STEP`` seconds per reading (argv[1]), so that a time limit passes after a known number
#: of looks at the clock in the subprocess too.
_FAKE_CLOCK_PRELUDE = (
    "import itertools, runpy, sys\n"
    "import theorychk.runtime as rt\n"
    "ticks = itertools.count(0.0, float(sys.argv.pop(1)))\n"
    "rt.clock = lambda: next(ticks)\n"
    "sys.argv[0] = 'theorychk'\n"
    "runpy.run_module('theorychk', run_name='__main__', alter_sys=True)\n"
)
_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli_on_fake_clock():
    """``run(step, *args, timeout=300)``: the CLI in a fresh process whose clock moves ``step`` seconds
    per look (the subprocess form of :func:`fake_clock`); returns the ``CompletedProcess``."""

    def run(step: float, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")])}
        return subprocess.run([sys.executable, "-c", _FAKE_CLOCK_PRELUDE, str(step), *args], capture_output=True,
                              text=True, env=env, timeout=timeout, cwd=_ROOT)

    return run
