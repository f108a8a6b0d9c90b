"""Tests of theorychk.solvers.base: the registry and the checks every inversion passes first."""

from __future__ import annotations

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import REGISTRY, get_method, invert, invert_stream, register
from theorychk.solvers.base import validate_mask


def _net() -> Network:
    return Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu")])


def test_register_refuses_a_name_already_taken():
    get_method("linf")  # load the methods
    first = REGISTRY["linf"]
    with pytest.raises(InvalidInput, match=r"method.name must be a name not registered yet \(registered: .*\); "
                                           r"got 'linf'") as exc:
        register(first.__class__())  # a second method under a taken name would replace the first
    assert REGISTRY["linf"] is first and exc.value.argument == "method.name" and exc.value.got == "linf"


def test_mask_must_be_boolean_or_zero_one():
    net = _net()
    with pytest.raises(InvalidInput, match=r"mask must be boolean or 0/1; got 0.5 at index 1") as exc:
        invert(net, net.forward(np.array([1.0, 2.0])), method="linf", mask=[1.0, 0.5, 1.0])
    assert exc.value.argument == "mask"
    np.testing.assert_array_equal(validate_mask(net, np.array([1.0, 0.0, 1.0])), [True, False, True])
    np.testing.assert_array_equal(validate_mask(net, [1, 1, 0]), [True, True, False])
    with pytest.raises(InvalidInput, match="mask must be boolean or 0/1 of length 3; got 'abc'"):
        validate_mask(net, "abc")


def test_options_and_noise_are_checked_before_any_work():
    net = _net()
    y = np.array([net.forward(np.array([1.0, 2.0]))] * 2)
    with pytest.raises(InvalidInput, match=r"alpha must be a float in \(1, inf\) or None; got 1.0"):
        invert_stream(net, y, method="linf", alpha=1.0)  # raises at the call, not on iteration
    with pytest.raises(InvalidInput, match=r"noise must be a float in \[0, inf\) or None; got -1"):
        invert(net, y[0], noise=-1)
    with pytest.raises(InvalidInput, match="unknown option 'alhpa' of method 'linf'.*did you mean 'alpha'"):
        invert(net, y[0], alhpa=2.0)
