"""The plugin without the `verify` extra: `ft_verify` says what to install."""

from __future__ import annotations

from tests.plugin.conftest import RunSuite

pytest_plugins = ["pytester"]

# Schemathesis absent the way Python spells it (set inside the inner session: pytest itself
# walks sys.modules at start and cannot take a None there).
WITHOUT_SCHEMATHESIS = """
import sys

@pytest.fixture(autouse=True)
def _no_schemathesis(monkeypatch):
    monkeypatch.setitem(sys.modules, "schemathesis", None)
"""


def test_fail_ft_verify_without_verify_extra(run_suite: RunSuite) -> None:
    """The plugin's `ft_verify` fails the test with the install command, not an ImportError."""
    result = run_suite(
        "def test_verify(ft_verify):\n"
        "    ft_verify(operator_url='http://127.0.0.1:9', user_ids=['1'])\n",
        conftest=WITHOUT_SCHEMATHESIS,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mock-ft[[]verify[]] is not installed*pip install*"])
