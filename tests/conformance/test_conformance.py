"""The conformance corpus (FT's verdicts, from the facts file): its drift tests, and the whole
corpus through a real server over REST in one batch (RabbitMQ and Kafka: tests/transports)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mock_ft.contracts import deviations, integration_contract
from mock_ft.settings import DEFAULT_API_KEY
from tests.conformance.generate import CORPUS, generate, render
from tests.conformance.judge import Answer, assert_conforms, documented_deviations, load_corpus
from tests.serve_process import serve_process

CASES = load_corpus()
PATHS = {route.event_type: (route.method, route.path) for route in integration_contract().routes}


def test_match_corpus_to_facts() -> None:
    """corpus.json is what generate.py makes of facts.yaml (regenerate it after editing them)."""
    assert CORPUS.read_text(encoding="utf-8") == render(generate())


def test_cover_every_event_type_in_corpus() -> None:
    """Every event type of the contract has cases in the corpus."""
    assert {case["type"] for case in CASES} == set(PATHS)


def test_match_deviation_table_to_contract() -> None:
    """docs/verdicts.md lists exactly the contract's `x-ft-deviation` markers."""
    assert documented_deviations() == set(deviations(integration_contract().document))


def test_tag_corpus_deviations_with_documented_ones() -> None:
    """A case expected to differ from FT names a deviation the docs list."""
    tagged = {case["deviation"] for case in CASES if "deviation" in case}
    assert tagged <= documented_deviations()


@pytest.mark.slow
def test_conform_over_rest(tmp_path: Path) -> None:
    """Each case POSTed to its FT path gets FT's verdict, or a documented deviation."""
    answers: dict[str, Answer] = {}
    journal = str(tmp_path / "journal.sqlite3")
    key = {"X-API-Key": DEFAULT_API_KEY, "Content-Type": "application/json"}
    with (
        serve_process("--journal", journal) as (url, _),
        httpx.Client(base_url=url, headers=key) as client,
    ):
        for case in CASES:
            answer = client.request(*PATHS[case["type"]], content=json.dumps(case["payload"]))
            body = answer.json()
            assert answer.status_code in (200, 400), body
            accepted = answer.status_code == 200
            answers[case["id"]] = Answer(
                accepted, tuple(body["warnings"] if accepted else body["problems"])
            )
    assert_conforms(CASES, answers, "rest")
