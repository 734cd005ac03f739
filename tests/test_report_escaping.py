"""The HTML reports show hostile text as text: whatever an operator answers or a scenario author
writes, opening report.html or replay.html runs no script (escaping, not luck)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from mock_ft.scenarios.report import write_replay_reports
from mock_ft.scenarios.runner import ScenarioResult, StepResult
from mock_ft.scenarios.target import Target
from mock_ft.verify.model import STEPS, CheckResult, Exchange, VerifyOptions
from mock_ft.verify.report import write_reports

# Each breaks out of a different context: element text, a quoted attribute, a <pre>, a URL.
HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</pre><iframe src=javascript:alert(4)></iframe>",
    "javascript:alert(5)",
)
_EVIL = " ".join(HOSTILE)
_BENIGN = "plain text"


class _Markup(HTMLParser):
    """Each element with its attribute names: what a browser would build, values aside."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: set[tuple[str, tuple[str, ...]]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add((tag, tuple(sorted(name for name, _ in attrs))))


def _markup(html: str) -> set[tuple[str, tuple[str, ...]]]:
    parser = _Markup()
    parser.feed(html)
    return parser.elements


def hostile_verify_report(directory: Path, text: str = _EVIL) -> Path:
    """report.html of a run where the operator answered hostile text everywhere."""
    options = VerifyOptions(
        operator_url=f"http://op.test/{text}",
        auth=None,
        user_ids=[text],
        ft_url=f"http://mock.test/{text}",
    )
    exchange = Exchange(
        method=text,
        url=f"http://op.test/userdetails/{text}",
        request_headers={text: text},
        request_body=text,
        status=500,
        response_body='{"error":"' + text + '"}',
        latency_ms=3.0,
    )
    results = [
        CheckResult(step, f"{step} {text}", passed=False, message=text, evidence=[exchange])
        for step in STEPS
    ]
    results.append(CheckResult(STEPS[0], text, passed=True, message=text))
    return write_reports(directory, options, results)


def hostile_replay_report(directory: Path, text: str = _EVIL) -> Path:
    """replay.html of scenarios whose names, values and failures are hostile text."""
    steps = [
        StepResult(text, text, "failed", 0.1, text, [text, text]),
        StepResult(text, "send", "not run"),
    ]
    results = [
        ScenarioResult(text, text, text, [text], 1, "failed", text, 0.2, steps),
        ScenarioResult(text, text, text, [], 2, "skipped", text),
    ]
    target = Target(ft_url=f"http://mock.test/{text}", operator_url=f"http://op.test/{text}")
    return write_replay_reports(directory, target, results)


_WRITERS = {"verify": hostile_verify_report, "replay": hostile_replay_report}


@pytest.fixture(params=sorted(_WRITERS))
def hostile_report(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _WRITERS[request.param](tmp_path)


@pytest.mark.parametrize("kind", sorted(_WRITERS))
def test_render_report_without_live_markup(kind: str, tmp_path: Path) -> None:
    """The hostile report has exactly the elements of the same report with plain text."""
    hostile = _WRITERS[kind](tmp_path / "hostile").read_text()
    benign = _WRITERS[kind](tmp_path / "benign", _BENIGN).read_text()
    assert _markup(hostile) - _markup(benign) == set()


def test_render_report_with_hostile_text_visible(hostile_report: Path) -> None:
    """Escaped, not dropped: the reader still sees what the operator answered."""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_report.read_text()
