"""One nearest-rank percentile for every report: delivery, /_mock/stats, verify, benchmarks."""

from __future__ import annotations

import pytest

from mock_ft.figures import percentile, quantiles


def test_pick_nearest_rank_whatever_the_order() -> None:
    """p50/p99 pick an observed value (nearest rank), whatever the order given."""
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, reversed
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([7.0], 0.99) == 7.0


def test_give_none_for_no_values() -> None:
    """No samples, no figure: None, not a made-up 0."""
    assert percentile([], 0.5) is None
    assert quantiles([], ("min", "p99", "max")) == {"min": None, "p99": None, "max": None}


def test_refuse_percent_given_as_fraction() -> None:
    """q is a fraction; 99 (a percent) is refused with how to write it."""
    with pytest.raises(ValueError, match=r"0.99 for p99"):
        percentile([1.0], 99)


def test_name_figures_rounded_to_a_tenth() -> None:
    """min, max and pNN by name, each rounded to 0.1 (ms in every report)."""
    values = [3.04, 1.26, 2.0, 40.15]
    assert quantiles(values, ("min", "p50", "p99", "max")) == {
        "min": 1.3,
        "p50": 2.0,
        "p99": 40.1,
        "max": 40.1,
    }


def test_refuse_unknown_figure_name() -> None:
    """A name that is not min, max or pNN says which names exist."""
    with pytest.raises(ValueError, match="use min, max or pNN"):
        quantiles([1.0], ("median",))
