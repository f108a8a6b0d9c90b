"""Shared test settings: a Hypothesis profile that keeps the default suite fast and reproducible,
and the fake clock that time-limit tests run on."""

import os

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
