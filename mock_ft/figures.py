"""Order statistics the reports show: one nearest-rank percentile for every figure.

The delivery report, `/_mock/stats`, verify's latency step and the broker benchmark all quote
p50/p95/p99. They use this one definition so that the same samples give the same figure
everywhere: the nearest rank (an observed value, never an interpolation between two), which is
what a reader checks a p99 against when they sort the samples themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["percentile", "quantiles"]


def percentile(values: Iterable[float], q: float) -> float | None:
    """The nearest-rank `q`-quantile (q from 0 to 1) of `values`, in any order; None for none.

    `percentile(v, 0)` is the smallest value and `percentile(v, 1)` the largest.
    """
    if not 0 <= q <= 1:
        msg = f"q is a fraction from 0 to 1 (0.99 for p99), not {q!r}"
        raise ValueError(msg)
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def quantiles(values: Iterable[float], names: Iterable[str]) -> dict[str, float | None]:
    """Named figures of `values` (`min`, `max`, `p50`, `p99`...), rounded to 0.1; None for none."""
    ordered = sorted(values)
    found: dict[str, float | None] = {}
    for name in names:
        if name == "min":
            q = 0.0
        elif name == "max":
            q = 1.0
        elif name.startswith("p") and name[1:].isdigit():
            q = int(name[1:]) / 100
        else:
            msg = f"unknown figure {name!r}; use min, max or pNN (p50, p99)"
            raise ValueError(msg)
        value = percentile(ordered, q)
        found[name] = None if value is None else round(value, 1)
    return found
