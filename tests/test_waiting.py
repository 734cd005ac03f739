"""The suite's one way of waiting on a condition (tests/waiting.py)."""

from __future__ import annotations

from itertools import islice

import pytest

from tests.waiting import pauses, wait_until


def test_grow_pauses_up_to_longest() -> None:
    """Short looks first, for what is there at once; then never more often than `longest`."""
    seen = list(islice(pauses(first=0.01, longest=0.1), 12))
    assert seen[0] == 0.01
    assert seen == sorted(seen)
    assert seen[-1] == 0.1


def test_look_once_at_condition_already_true() -> None:
    """A condition that holds is seen on the first look, with no pause before it."""
    looks: list[int] = []

    def holds() -> bool:
        looks.append(1)
        return True

    wait_until(holds, "a condition that holds")
    assert looks == [1]


def test_name_condition_that_never_came() -> None:
    """Past the guard the wait fails, saying what it waited for."""
    with pytest.raises(AssertionError, match=r"never happened .*: the moon"):
        wait_until(lambda: False, "the moon", timeout=0.05)
