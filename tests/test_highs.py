"""The HiGHS builder (:mod:`theorychk._highs`): dense and sparse models, statuses, deadlines,
tolerances; and HiGHS's per-process thread scheduler, which theorychk must work with whatever
solve came first.

From highspy 1.16 on, a solve that sets ``threads`` to another count than the scheduler's fails
with model status ``kNotset``. Before the fix, four of our models set ``threads=1``: after any
other solve in the process they came back unsolved and every exact certificate turned UNKNOWN
(CI caught it only through test order). Each case runs in a fresh interpreter, where the
user's solve, with an explicit thread count, really is the first.
"""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
import textwrap

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from theorychk._highs import INF, LP_TOLERANCES, Model, Program, new_highs, solve_status
from theorychk.errors import InvalidInput
from theorychk.runtime import Deadline
from theorychk.verdict import EngineStatus

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


@pytest.mark.parametrize(("options", "message"), [
    ({"primal_feas": 1e-9}, "HiGHS refused the option primal_feas=1e-09"),
    ({"presolve": "maybe"}, "HiGHS refused the option presolve='maybe'"),
    ({"primal_feasibility_tolerance": -1.0}, "HiGHS refused the option primal_feasibility_tolerance=-1.0"),
])
def test_new_highs_refuses_an_option_highs_does_not_take(options: dict, message: str) -> None:
    # HiGHS itself only returns kError and goes on without the option
    with pytest.raises(InvalidInput, match=message):
        new_highs(**options)


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


# --------------------------------------------------------------------------------------------
# The builder: Program (dense or sparse), Model, Solved, the status mapping, the deadline
# --------------------------------------------------------------------------------------------

# max x0 + x1 + x2 over a few rows with both bounds, zeros in the matrix and a free column
A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
LP = dict(cost=[-1.0, -1.0, -1.0], col_lower=[0.0, -INF, 0.0], col_upper=[4.0, INF, 5.0],
          row_lower=[-INF, -1.0, 0.0, -INF], row_upper=[6.0, 1.0, 9.0, 7.0])


def _time_limit(model: Model) -> float:
    got = model.highs.getOptionValue("time_limit")
    return float(got[1] if isinstance(got, tuple) else got)


@pytest.mark.parametrize("to_sparse", [sp.csr_array, sp.csc_array, sp.coo_array, sp.csr_matrix])
def test_dense_and_sparse_matrices_give_the_same_solution(to_sparse) -> None:
    dense = Model(Program(A, **LP)).solve()
    sparse = Model(Program(to_sparse(A), **LP)).solve()
    assert dense.status is sparse.status is EngineStatus.OPTIMAL
    assert dense.objective == sparse.objective == pytest.approx(-7.0)
    assert dense.x.tolist() == sparse.x.tolist()
    assert dense.row_dual.tolist() == sparse.row_dual.tolist()
    assert dense.col_status == sparse.col_status and dense.row_status == sparse.row_status
    assert np.all(A @ dense.x <= np.array(LP["row_upper"]) + 1e-9)


def test_a_coo_matrix_sums_duplicates_and_drops_stored_zeros() -> None:
    # the MILP encoder accumulates triplets: a repeated (row, col) is one coefficient, their sum
    rows, cols = np.array([0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 2])
    coo = sp.coo_array((np.array([0.5, 0.5, 2.0, 0.0, 1.0]), (rows, cols)), shape=(2, 3))
    p = Program(coo, cost=0.0, col_lower=0.0, col_upper=1.0, row_lower=0.0, row_upper=1.0)
    assert p.nnz == 3 and p.a.toarray().tolist() == [[1.0, 2.0, 0.0], [0.0, 0.0, 1.0]]


def test_a_program_pickles_and_solves_the_same_after() -> None:
    # solvers.milp hands a Program to a child interpreter
    p = Program(sp.csr_array(A), **LP, integer=[1])
    q = pickle.loads(pickle.dumps(p))
    a, b = Model(p).solve(), Model(q).solve()
    assert a.status is b.status is EngineStatus.OPTIMAL and a.x.tolist() == b.x.tolist()


def test_integer_columns_are_integral_and_the_milp_reports_its_bound() -> None:
    lp = Model(Program(A, **LP)).solve()
    mip = Model(Program(A, **LP, integer=[0, 1, 2])).solve()
    assert mip.status is EngineStatus.OPTIMAL and mip.x is not None
    assert np.allclose(mip.x, np.round(mip.x), atol=1e-9)
    assert mip.objective >= lp.objective - 1e-9  # integrality can only cost
    assert mip.dual_bound <= mip.objective + 1e-9 and math.isfinite(mip.dual_bound)
    assert mip.row_dual is None and mip.col_status is None  # a MILP has no duals or basis


@pytest.mark.parametrize("status", list(highspy.HighsModelStatus.__members__.values()), ids=str)
def test_every_highs_model_status_maps_to_one_status(status) -> None:
    expected = {
        highspy.HighsModelStatus.kOptimal: EngineStatus.OPTIMAL,
        highspy.HighsModelStatus.kInfeasible: EngineStatus.INFEASIBLE,
        highspy.HighsModelStatus.kUnbounded: EngineStatus.UNBOUNDED,
        highspy.HighsModelStatus.kTimeLimit: EngineStatus.TIME_LIMIT,
        highspy.HighsModelStatus.kIterationLimit: EngineStatus.TIME_LIMIT,
        highspy.HighsModelStatus.kInterrupt: EngineStatus.TIME_LIMIT,
    }.get(status, EngineStatus.OTHER)  # kUnboundedOrInfeasible included: presolve could not tell
    assert solve_status(status) is expected


def _one_var(cost: float, lower: float, upper: float, row: tuple[float, float], **kw) -> Model:
    return Model(Program(np.array([[1.0]]), cost=[cost], col_lower=[lower], col_upper=[upper],
                         row_lower=[row[0]], row_upper=[row[1]]), **kw)


def test_infeasible_unbounded_iteration_limit_and_empty_come_back_mapped() -> None:
    infeasible = _one_var(1.0, 0.0, 1.0, (2.0, INF)).solve()
    assert (infeasible.status, infeasible.label, infeasible.dual_bound) == (EngineStatus.INFEASIBLE, "infeasible",
                                                                            -math.inf)
    unbounded = _one_var(-1.0, 0.0, INF, (0.0, INF)).solve()
    assert unbounded.status is EngineStatus.UNBOUNDED and unbounded.label == "unbounded"
    stopped = Model(Program(A, **LP), options={"simplex_iteration_limit": 0}).solve()
    assert stopped.status is EngineStatus.TIME_LIMIT and stopped.highs_status == "Iteration limit reached"
    empty = Model(Program(np.zeros((0, 0)), cost=[], col_lower=[], col_upper=[], row_lower=[], row_upper=[])).solve()
    assert (empty.status, empty.label, empty.x) == (EngineStatus.OTHER, "other: Empty", None)


def test_the_deadline_reaches_highs_as_its_time_limit(fake_clock) -> None:
    model = Model(Program(A, **LP))
    assert model.solve().status is EngineStatus.OPTIMAL and _time_limit(model) == math.inf
    deadline = Deadline(30.0)  # started at 0 on the fake clock
    fake_clock.now = 10.0
    assert model.solve(deadline).status is EngineStatus.OPTIMAL
    assert _time_limit(model) == 20.0 and fake_clock.reads == 2  # one look per solve
    model.solve(deadline, cap=5.0)
    assert _time_limit(model) == 5.0
    fake_clock.now = 29.9999
    model.solve(deadline, floor=0.5)
    assert _time_limit(model) == 0.5
    model.solve(None, cap=2.0)
    assert _time_limit(model) == 2.0


def test_a_passed_deadline_is_a_time_limit_without_running_highs(fake_clock) -> None:
    model = Model(Program(A, **LP))
    deadline = Deadline(1.0)
    fake_clock.now = 1.0
    sol = model.solve(deadline)
    assert sol.status is EngineStatus.TIME_LIMIT and sol.x is None and sol.dual_bound == -math.inf
    assert model.highs.getModelStatus() == highspy.HighsModelStatus.kNotset  # never ran


def test_the_standard_tolerances_are_set_and_the_mip_ones_only_on_milps() -> None:
    def option(model: Model, name: str) -> float:
        got = model.highs.getOptionValue(name)
        return float(got[1] if isinstance(got, tuple) else got)

    lp, mip = Model(Program(A, **LP)), Model(Program(A, **LP, integer=[0]))
    for model in (lp, mip):
        assert option(model, "primal_feasibility_tolerance") == LP_TOLERANCES["highs_primal_feasibility_tolerance"]
        assert option(model, "dual_feasibility_tolerance") == LP_TOLERANCES["highs_dual_feasibility_tolerance"]
    assert option(mip, "mip_rel_gap") == LP_TOLERANCES["highs_mip_rel_gap"]
    assert option(lp, "mip_rel_gap") == option(Model(Program(A, **LP), tolerances={}), "mip_rel_gap")


def test_warm_changes_between_solves() -> None:
    model = _one_var(1.0, 0.0, 10.0, (2.0, INF))
    assert model.solve().x.tolist() == [2.0]
    model.set_row_bounds(0, 3.0, INF)
    assert model.solve().x.tolist() == [3.0]
    model.set_coeff(0, 0, 2.0)  # 2 x >= 3
    assert model.solve().x.tolist() == [1.5]
    model.set_rows_bounds(np.array([0]), np.array([-INF]), np.array([INF]))
    model.set_col_bounds(0, 0.5, 10.0)
    assert model.solve().x.tolist() == [0.5]


def test_the_builder_never_sets_threads() -> None:
    with pytest.raises(ValueError, match="threads"):
        Model(Program(A, **LP), options={"threads": 1})


@pytest.mark.parametrize(("args", "message"), [
    ({"a": np.ones(3)}, r"constraint matrix must be 2-D; got shape \(3,\)"),
    ({"a": np.array([[1.0, np.inf, 0.0]] * 4)}, "constraint matrix must be finite; got inf at row 0, column 1"),
    ({"cost": [1.0, 2.0]}, r"cost must have 3 entries; got \(2,\)"),
    ({"cost": [1.0, np.nan, 0.0]}, "cost must be finite; got nan at 1"),
    ({"row_upper": [1.0, np.nan, 0.0, 0.0]}, "row_upper must not contain NaN; got one at 1"),
    ({"integer": [3]}, r"integer must list columns in \[0, 3\); got \[3\]"),
])
def test_bad_programs_are_refused_naming_the_argument(args: dict, message: str) -> None:
    kw = {"a": A, **LP, **args}
    with pytest.raises(InvalidInput, match=message):
        Program(kw.pop("a"), **kw)


def test_bad_model_settings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="presolve must be 'off', 'on' or 'choose'; got True"):
        Model(Program(A, **LP), presolve=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="tolerances: names are 'highs_<HiGHS option>'; got 'primal'"):
        Model(Program(A, **LP), tolerances={"primal": 1e-9})
