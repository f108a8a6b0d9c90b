"""Tests of theorychk._validation: each constraint kind, and the one message shape of a violation."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from theorychk._validation import (
    ArrayLike,
    Boolean,
    Integral,
    Interval,
    ListOf,
    Options,
    Real,
    check,
    check_options,
    validate_params,
)
from theorychk.errors import InvalidInput


def rejects(constraints, value) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        check("arg", value, constraints)
    return exc.value


@pytest.mark.parametrize(
    ("closed", "inside", "outside", "shown"),
    [
        ("neither", [1e-300, 0.5, 0.999], [0, 1], "(0, 1)"),
        ("left", [0, 0.5], [1, -1e-300], "[0, 1)"),
        ("right", [1, 0.5], [0, 1.0000001], "(0, 1]"),
        ("both", [0, 1], [-0.1, 1.1], "[0, 1]"),
    ],
)
def test_interval_ends(closed, inside, outside, shown):
    c = [Interval(Real, 0, 1, closed=closed)]
    for v in inside:
        assert check("arg", v, c) == v and type(check("arg", v, c)) is float
    for v in outside:
        assert str(rejects(c, v)) == f"arg must be a float in {shown}; got {v!r}"


def test_interval_kinds_refuse_bools_nan_and_open_infinity():
    real = [Interval(float, 0, None, closed="neither")]
    for bad in (True, math.nan, math.inf, -1.0, "1", None):
        assert str(rejects(real, bad)).startswith("arg must be a float in (0, inf); got ")
    assert check("arg", np.float32(0.5), real) == 0.5
    assert check("arg", 3, real) == 3.0  # an int is a real number
    closed_inf = [Interval(Real, 0, None, closed="both")]
    assert check("arg", math.inf, closed_inf) == math.inf  # "[0, inf]" contains inf
    whole = [Interval(Integral, 1, None, closed="left")]
    assert check("arg", np.int64(4), whole) == 4 and type(check("arg", np.int64(4), whole)) is int
    for bad in (0, 2.0, True, np.bool_(True)):
        assert str(rejects(whole, bad)).startswith("arg must be an int in [1, inf); got ")
    with pytest.raises(TypeError):
        Interval(str, 0, 1, closed="both")
    with pytest.raises(ValueError):
        Interval(Real, 0, 1, closed="open")  # type: ignore[arg-type]


def test_types_options_boolean_none_and_arrays():
    assert check("arg", math.nan, [Real]) is not None and str(rejects([Real], True)) == "arg must be a float; got True"
    assert check("arg", 7, [Integral]) == 7 and str(rejects([Integral], 7.0)) == "arg must be an int; got 7.0"
    assert check("arg", "l1", [Options({"linf", "l1"})]) == "l1"
    assert str(rejects([Options({"linf", "l1"})], "l2")) == "arg must be one of 'l1', 'linf'; got 'l2'"
    assert str(rejects([Options({1, 2})], True)).startswith("arg must be one of 1, 2")  # True == 1, but a bool
    assert str(rejects([Options({"a"})], [1])) == "arg must be one of 'a'; got [1]"  # unhashable: no crash
    assert check("arg", np.bool_(False), [Boolean]) is False
    assert str(rejects([Boolean], 1)) == "arg must be a bool; got 1"
    assert check("arg", None, [Boolean, None]) is None
    assert str(rejects([Boolean, None], 0)) == "arg must be a bool or None; got 0"
    arr = np.zeros((2, 3))
    assert check("arg", arr, [ArrayLike]) is arr
    assert str(rejects([ArrayLike], "abc")) == "arg must be an array-like; got 'abc'"


def test_list_of():
    each = Interval(Real, 0, None, closed="left")
    assert check("arg", (1, 2.5), [ListOf(each, length=2)]) == [1.0, 2.5]
    assert check("arg", np.array([0.0, 1.0]), [ListOf(each)]) == [0.0, 1.0]
    assert str(rejects([ListOf(each, length=3)], [1.0, 2.0])) == (
        "arg must be a list of 3 floats in [0, inf); got [1.0, 2.0]")
    assert str(rejects([ListOf(each, min_length=1)], [])) == "arg must be a list of at least 1 floats in [0, inf); got []"
    assert str(rejects([ListOf(each)], [1.0, -1.0])) == "arg must be a list of floats in [0, inf); got [1.0, -1.0]"
    assert str(rejects([ListOf(each)], np.ones((2, 2)))) == (
        "arg must be a list of floats in [0, inf); got an array of shape (2, 2) and dtype float64")
    assert str(rejects([ListOf(Boolean)], "ab")) == "arg must be a list of bools; got 'ab'"  # a str is no list


def test_one_message_shape_with_structured_fields():
    constraints = [Interval(Real, 0, None, closed="neither"), ListOf(Interval(Real, 0, None, closed="neither")), None]
    exc = rejects(constraints, -1)
    assert str(exc) == "arg must be a float in (0, inf), a list of floats in (0, inf) or None; got -1"
    assert exc.argument == "arg" and exc.got == -1 and isinstance(exc, ValueError)
    long = rejects([Boolean], "x" * 200)
    assert "\n" not in str(long) and str(long).endswith("...") and len(str(long)) < 120
    assert long.got == "x" * 200  # the field keeps what arrived in full
    back = pickle.loads(pickle.dumps(exc))  # worker processes send errors back pickled
    assert str(back) == str(exc) and back.argument == "arg" and back.got == -1
    plain = InvalidInput("a message of the earlier kind")  # existing raisers keep working
    assert str(plain) == "a message of the earlier kind" and plain.argument is None and plain.got is None


def test_check_options_names_unknown_options_and_converts():
    spec = {"alpha": [Interval(Real, 1, None, closed="neither")], "fast": [Boolean, None]}
    assert check_options({"alpha": 2, "fast": np.bool_(True)}, spec, method="m") == {"alpha": 2.0, "fast": True}
    with pytest.raises(InvalidInput, match=r"unknown option 'alpah' of method 'm'; valid: alpha, fast; "
                                           r"did you mean 'alpha'\?") as exc:
        check_options({"alpah": 2}, spec, method="m")
    assert exc.value.argument == "options" and exc.value.got == "alpah"
    with pytest.raises(InvalidInput, match=r"alpha must be a float in \(1, inf\); got 1"):
        check_options({"alpha": 1}, spec, method="m")


def test_validate_params_checks_and_converts_passed_arguments():
    @validate_params({"n": [Interval(Integral, 1, None, closed="left")], "tol": [Interval(Real, 0, None, closed="left")]})
    def f(x: object, *, n: int = 1, tol: float = 0.0) -> tuple[object, int, float]:
        """Docstring kept."""
        return x, n, tol

    assert f("x", n=np.int32(3), tol=1) == ("x", 3, 1.0) and type(f("x", tol=1)[2]) is float
    assert f.__doc__ == "Docstring kept." and f("x") == ("x", 1, 0.0)
    with pytest.raises(InvalidInput, match=r"^n must be an int in \[1, inf\); got 0$"):
        f("x", n=0)
    with pytest.raises(TypeError, match="no parameter"):
        validate_params({"missing": [Boolean]})(f.__wrapped__)
