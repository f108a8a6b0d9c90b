"""The vocabulary: one exception tree, and the enums whose values are pinned JSON strings."""

from __future__ import annotations

import json

import pytest

from theorychk import errors, runtime
from theorychk.errors import (
    ExactCheckFailed,
    InvalidInput,
    Reason,
    SolverError,
    TheoryChkError,
    TimeLimitReached,
)
from theorychk.certify.certificate import sample_latents
from theorychk.invariants.spark import spark
from theorychk.network import parse_activation
from theorychk.reduction.cnf import SatStatus, genhard, random_kcnf
from theorychk.verdict import EngineStatus, jsonable


# The strings below are what JSON output, tables and manifests carry: changing one breaks users.
@pytest.mark.parametrize(
    ("member", "text"),
    [
        (Reason.TIME_LIMIT, "time limit"),
        (Reason.SIZE_LIMIT, "size limit"),
        (Reason.BOUND_GAP, "bound gap"),
        (Reason.ITERATION_LIMIT, "iteration limit"),
        (Reason.DIVERGED, "diverged"),
        (EngineStatus.OPTIMAL, "optimal"),
        (EngineStatus.INFEASIBLE, "infeasible"),
        (EngineStatus.UNBOUNDED, "unbounded"),
        (EngineStatus.CUTOFF, "cutoff"),
        (EngineStatus.TIME_LIMIT, "time limit"),
        (EngineStatus.OTHER, "other"),
        (SatStatus.SAT, "SAT"),
        (SatStatus.UNSAT, "UNSAT"),
        (SatStatus.UNKNOWN, "UNKNOWN"),
    ],
)
def test_enum_values_are_the_json_strings(member, text):
    assert json.dumps({"reason": member}) == json.dumps({"reason": text})
    assert jsonable(member) == text and member == text
    assert f"{member}" == str(member) == text  # f-strings and tables print the text, not the name


def test_every_enum_member_is_pinned():
    assert {m.value for m in Reason} == {"time limit", "size limit", "bound gap", "iteration limit",
                                         "diverged"}
    assert {m.value for m in EngineStatus} == {"optimal", "infeasible", "unbounded", "cutoff", "time limit", "other"}


def test_a_reason_with_detail_starts_with_the_reason():
    assert f"{Reason.SIZE_LIMIT}: 12 sign patterns" == "size limit: 12 sign patterns"
    assert runtime.TIME_LIMIT_REASON is Reason.TIME_LIMIT


def test_the_tree():
    assert issubclass(InvalidInput, ValueError) and issubclass(InvalidInput, TheoryChkError)
    assert issubclass(ExactCheckFailed, SolverError)
    assert issubclass(TimeLimitReached, TheoryChkError) and not issubclass(TimeLimitReached, SolverError)
    assert runtime.TimeLimitReached is TimeLimitReached  # re-exported where Deadline raises it
    assert "NotUnique" not in errors.__all__


def test_a_deadline_raises_the_package_exception(fake_clock):
    deadline = runtime.Deadline(1.0)
    fake_clock.now = 2.0
    with pytest.raises(TimeLimitReached, match=r"^time limit \(the enumeration\)$") as info:
        deadline.check("the enumeration")
    assert info.value.where == "the enumeration"


def test_not_unique_is_deprecated_and_never_raised():
    with pytest.warns(DeprecationWarning, match="never raised"):
        cls = errors.NotUnique
    exc = cls("two preimages", [0], [1])
    assert isinstance(exc, TheoryChkError) and (exc.first, exc.second) == ([0], [1])
    with pytest.raises(AttributeError):
        errors.NoSuchError  # noqa: B018


def test_a_time_limited_result_serialises_the_reason(fake_clock):
    import numpy as np

    from theorychk.invariants import spark

    fake_clock.step = 1.0  # the limit passes after 100 looks at the clock
    r = spark(np.random.default_rng(0).integers(-3, 4, size=(10, 20)), time_limit=100)
    assert r.reason is Reason.TIME_LIMIT
    assert '"reason": "time limit"' in json.dumps(r.to_dict())


def _raised(call):
    try:
        call()
    except InvalidInput as exc:
        return exc
    raise AssertionError("no InvalidInput")


@pytest.mark.parametrize(("call", "argument", "got"), [
    (lambda: runtime.Deadline(-1.0), "time_limit", -1.0),
    (lambda: parse_activation(3), "activation", 3),
    (lambda: spark([[1, 0], [0, 1]], at_least=0), "at_least", 0),
    (lambda: genhard("php", 0), "size", 0),
    (lambda: random_kcnf(0, ratio=2.0, seed=0), "n_vars", 0),
    (lambda: sample_latents(None, 0, 0), "samples", 0),
])
def test_bad_arguments_carry_the_structured_fields(call, argument, got):
    # InvalidInput(argument=, got=): a caller can tell which argument was wrong without parsing the text
    exc = _raised(call)
    assert (exc.argument, exc.got) == (argument, got) and str(exc).startswith(f"{argument} must be ")
