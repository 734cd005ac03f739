"""Longest tests first: with `-n N --dist loadgroup` each worker takes the next test in
collection order when it is free, so a run ends no sooner than the last test to start plus its
length. A 2-minute test collected near the end leaves the other worker idle for most of those
2 minutes; started first, it runs while the other worker clears the short ones.

The order below is measured (`pytest --durations=80`, longest first); a test not listed keeps
its place after them. Only the order changes: every test still runs, and none may depend on
another's running first.
"""

from __future__ import annotations

import pytest

LONGEST_FIRST = (
    "tests/reference_operator/test_cluster_reliability.py::",
    "tests/test_openapi_schemathesis.py::",  # one xdist group: 66 s of one worker, measured
    "tests/reference_operator/test_reliability.py::test_deliver_ten_thousand_events",
    "tests/test_cli.py::test_run_demo_end_to_end",
    "tests/test_docs.py::test_run_examples_of_page[docs/reference-operator.md]",
    "tests/transports/test_broker_crashes.py::test_resume_after_rabbitmq_restart",
    "tests/transports/test_broker_crashes.py::",
    "tests/test_docs.py::test_run_examples_of_page",
    "tests/reference_operator/test_reliability.py::",
    "tests/verify/test_verify.py::test_catch_defect[slow_lookups]",
    "tests/test_timeouts.py::",
    "tests/test_journal_opening.py::",
    "tests/test_bench_verify.py::",
    "tests/verify/test_verify_brokers.py::",
    "tests/verify/test_verify.py::test_pass_correct_operator_under_each_scheme",
    "tests/scenarios/test_library.py::",
)


def _rank(nodeid: str) -> int:
    return next(
        (rank for rank, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)),
        len(LONGEST_FIRST),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _rank(item.nodeid))  # stable: the rest keep their order
