"""HiGHS keeps one thread scheduler per process; theorychk must work whatever solve came first.

From highspy 1.16 on, a solve that sets ``threads`` to another count than the scheduler's fails
with model status ``kNotset``. Before the fix, four of our models set ``threads=1``: after any
other solve in the process they came back unsolved and every exact certificate turned UNKNOWN
(CI caught it only through test order). Each case runs in a fresh interpreter, where the
user's solve, with an explicit thread count, really is the first.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from theorychk._highs import new_highs

SCRIPT = textwrap.dedent("""
    import sys
    import highspy
    import numpy as np

    user = highspy.Highs()
    user.setOptionValue("output_flag", False)
    user.setOptionValue("threads", int(sys.argv[1]))
    user.addVar(0.0, 1.0)
    user.changeColCost(0, 1.0)
    assert user.run() == highspy.HighsStatus.kOk

    from theorychk.certify.injectivity import layer_injectivity
    from theorychk.invariants.cnorm import c_inf_of_rows
    from theorychk.invariants.spark import spark
    from theorychk.network import Layer, Network
    from theorychk.solvers import invert

    B = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 3.0]])
    layer = Layer(np.vstack([B, -B]), np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]), "relu")
    print("@ exact-lp", layer_injectivity(layer, seed=0).status.name)
    wide = Layer(np.random.default_rng(3).standard_normal((40, 3)), None, "relu")
    print("@ milp-depth", layer_injectivity(wide, seed=0, max_exact_candidates=10, milp_time_limit=30).status.name)
    a = np.random.default_rng(3).integers(-3, 4, size=(5, 8))
    print("@ spark-lp", spark(a, method="bounds", bounds=("lp",), heuristic=False).lower.method)
    print("@ cnorm", c_inf_of_rows(np.array([[1.0, 2.0], [3.0, -1.0], [1.0, 1.0]]), [0, 1, 2]).status.name)
    rng = np.random.default_rng(0)
    net = Network([Layer(rng.standard_normal((12, 3)), None, "relu")])
    y = net.forward(rng.standard_normal(3))
    for method in ("linf", "milp"):
        print("@", method, invert(net, y, method=method).status.name)
""")


@pytest.mark.parametrize("user_threads", [1, 3])
def test_every_highs_model_solves_after_a_user_solve_with_any_thread_count(user_threads: int) -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(user_threads)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = dict(line[2:].split(" ", 1) for line in out.stdout.splitlines() if line.startswith("@ "))
    assert got == {"exact-lp": "CERTIFIED", "milp-depth": "CERTIFIED", "spark-lp": "LP bound",
                   "cnorm": "CERTIFIED", "linf": "SOLVED", "milp": "SOLVED"}, out.stdout


def test_new_highs_refuses_the_threads_option() -> None:
    with pytest.raises(ValueError, match="threads"):
        new_highs(threads=1)


def test_new_highs_prints_nothing_from_its_first_call() -> None:
    # HiGHS prints its banner on stdout from the first Highs() of a process (highspy 1.16), before
    # any option can be set: that broke every --json output (issue 13, item 2). Fresh interpreter.
    script = ("from theorychk._highs import new_highs\n"
              "h = new_highs()\n"
              "h.addVar(0.0, 1.0); h.changeColCost(0, 1.0); h.run()\n"
              "import highspy; assert isinstance(h, highspy.Highs)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "", out.stdout[:300]
