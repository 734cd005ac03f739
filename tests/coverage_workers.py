"""In an xdist worker, `no_cover` stops coverage: no other coverage is left running beneath.

pytest-cov (7.1) starts a coverage in every worker as the worker loads its plugins, and a second
one, its worker's own, at session start. Its `no_cover` stops only that second one, and stopping
it resumes the first: a `no_cover` test was traced all the same, in every thread (the volume
runs cost about a third more CPU for it). The first coverage's data is never saved, so stopping
it as the worker is configured loses nothing.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("_cov"):
        return
    import coverage

    while (running := coverage.Coverage.current()) is not None:
        running.stop()
