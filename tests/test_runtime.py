"""RowBudget: each row of a batched computation charged its share of the wall time; BLAS threads:
pinned by the command unless the user chose."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.runtime import Deadline, RowBudget

WT = str(Path(__file__).resolve().parents[1])


@pytest.fixture
def clock(fake_clock):
    return fake_clock  # stands still until a test sets `now`


def test_the_time_between_checks_is_shared_by_the_rows_computing(clock):
    budget = RowBudget(3, 1.0)
    clock.now = 1.5  # three rows for 1.5 s: half a second each
    assert budget.rows_expired(np.arange(3)).tolist() == [False, False, False]
    clock.now = 2.0  # rows 1 and 2 for 0.5 s more: a quarter each
    assert budget.rows_expired(np.array([1, 2])).tolist() == [False, False]
    clock.now = 2.25  # row 2 alone: the whole quarter, and it is out of time
    assert budget.rows_expired(np.array([2])).tolist() == [True]
    np.testing.assert_allclose(budget.spent, [0.5, 0.75, 1.0])
    assert budget.spent.sum() == pytest.approx(clock.now)  # the shares add up to the wall time


def test_a_view_charges_its_rows_and_repeated_rows_add_up(clock):
    budget = RowBudget(2, 1.0)
    view = budget.for_rows([1, 1])  # two restarts of signal 1
    clock.now = 1.0
    assert view.rows_expired([0, 1]).tolist() == [True, True]  # 0.5 + 0.5 for signal 1
    assert budget.spent.tolist() == [0.0, 1.0]
    assert budget.for_rows([0]).expired() is False and budget.for_rows([1]).expired() is True


def test_no_limit_records_the_shares_and_never_expires(clock):
    budget = RowBudget(2, None)
    clock.now = 10.0
    budget.charge([0])
    assert budget.rows_expired([0, 1]).tolist() == [False, False] and budget.spent.tolist() == [10.0, 0.0]


def test_a_deadline_is_one_budget_for_every_row(clock):
    d = Deadline(1.0, start=0.0)
    assert d.for_rows([3, 4]) is d and d.rows_expired([0, 1]).tolist() == [False, False]
    clock.now = 1.0
    assert d.rows_expired([0, 1]).tolist() == [True, True]


def test_the_limit_is_validated():
    with pytest.raises(InvalidInput, match="time_limit must be a positive number"):
        RowBudget(2, 0.0)


def test_a_deadline_reads_the_clock_of_the_moment_it_is_made(clock):
    clock.now = 5.0
    d = Deadline(2.0)
    assert d.start == 5.0 and d.remaining() == 2.0 and not d.expired()
    clock.now = 7.0
    assert d.expired() and d.remaining() == 0.0


# -- BLAS threads: pinned by the command unless the user chose -------------------------------

def test_the_variables_theorychk_pinned_are_not_the_users():
    from theorychk.runtime import BLAS_THREAD_VARIABLES, PINNED_BY_THEORYCHK, blas_threads_set_by_user, pin_blas_at_start

    env: dict[str, str] = {}
    assert pin_blas_at_start(env) is True
    assert all(env[v] == "1" for v in BLAS_THREAD_VARIABLES) and not blas_threads_set_by_user(env)
    assert pin_blas_at_start(env) is True  # a worker that inherited the pinning pins again
    # a value changed after the pinning, or a variable the marker does not name, is the user's
    assert blas_threads_set_by_user({**env, "OMP_NUM_THREADS": "4"})
    assert blas_threads_set_by_user({"OMP_NUM_THREADS": "1", PINNED_BY_THEORYCHK: "OPENBLAS_NUM_THREADS"})
    for v in BLAS_THREAD_VARIABLES:
        user = {v: "3"}
        assert pin_blas_at_start(user) is False and user == {v: "3"}  # left alone


def test_single_threaded_blas_inside_a_pinned_process_keeps_the_pinning(monkeypatch):
    from theorychk.runtime import BLAS_THREAD_VARIABLES, blas_threads_set_by_user, pin_blas_at_start, single_threaded_blas

    for v in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.delenv("THEORYCHK_BLAS_PINNED", raising=False)
    monkeypatch.setattr("os.environ", dict(os.environ))  # pin_blas_at_start writes os.environ
    pin_blas_at_start()
    with single_threaded_blas() as pinned:
        assert pinned is True and not blas_threads_set_by_user()
    assert all(os.environ[v] == "1" for v in BLAS_THREAD_VARIABLES)  # restored to the command's own
    assert not blas_threads_set_by_user()


_REPORT_THREADS = """
import atexit, json, os, sys
def report():
    from theorychk.runtime import blas_threads
    json.dump({**blas_threads(), "env": os.environ.get("OPENBLAS_NUM_THREADS")}, open("threads.json", "w"))
atexit.register(report)
sys.argv = ["theorychk", "invariants", "M.npy", "--spark", "--json"]
from theorychk.cli import entry
entry()
"""


@pytest.mark.parametrize("user", [{}, {"OPENBLAS_NUM_THREADS": "2"}, {"OMP_NUM_THREADS": "2"}],
                         ids=["nothing", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_the_command_runs_one_blas_thread_unless_the_user_set_one(user, tmp_path):
    # the console script's entry(), in a fresh process: what threadpoolctl sees after the command
    from theorychk.runtime import BLAS_THREAD_VARIABLES

    np.save(tmp_path / "M.npy", np.random.default_rng(0).integers(-3, 4, (4, 6)))
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES and k != "THEORYCHK_BLAS_PINNED"}
    env["PYTHONPATH"] = WT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", _REPORT_THREADS], env={**env, **user}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((tmp_path / "threads.json").read_text())
    if not user:
        assert (got["blas"], got["set_by_user"], got["env"]) == (1, False, "1")
    else:
        assert got["set_by_user"] is True and got["blas"] == 2 and got["env"] == user.get("OPENBLAS_NUM_THREADS")


_LIMIT_CALLS = """
import json, os, sys
import numpy, threadpoolctl
from theorychk import runtime
calls = []
real = threadpoolctl.threadpool_limits
threadpoolctl.threadpool_limits = lambda *a, **k: (calls.append(1), real(*a, **k))[1]
if sys.argv[1] == "pin-late":  # the command's pinning, but after numpy's BLAS started two threads
    real(limits=2)
    runtime.pin_blas_at_start()
seen = []
for _ in range(3):
    with runtime.single_threaded_blas():
        seen.append(runtime.blas_threads()["blas"])
print(json.dumps({"limits": len(calls), "blas": seen, "after": runtime.blas_threads()["blas"]}))
"""


@pytest.mark.parametrize("how", ["pinned-at-start", "pin-late"])
def test_single_threaded_blas_limits_only_what_is_not_single_threaded_yet(how, tmp_path):
    # pinned before numpy loaded (the command, its workers): nothing to limit, no threadpoolctl
    # call per signal; pinned after numpy loaded two threads: every block still limits to one
    from theorychk.runtime import BLAS_THREAD_VARIABLES, PINNED_BY_THEORYCHK

    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES and k != PINNED_BY_THEORYCHK}
    env["PYTHONPATH"] = WT + os.pathsep + env.get("PYTHONPATH", "")
    if how == "pinned-at-start":
        env.update({v: "1" for v in BLAS_THREAD_VARIABLES}, **{PINNED_BY_THEORYCHK: ",".join(BLAS_THREAD_VARIABLES)})
    proc = subprocess.run([sys.executable, "-c", _LIMIT_CALLS, how], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert got["blas"] == [1, 1, 1]
    if how == "pinned-at-start":
        assert (got["limits"], got["after"]) == (0, 1)
    else:
        assert (got["limits"], got["after"]) == (3, 2)
