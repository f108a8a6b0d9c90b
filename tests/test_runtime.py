"""RowBudget: each row of a batched computation charged its share of the wall time."""

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.runtime import Deadline, RowBudget


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
