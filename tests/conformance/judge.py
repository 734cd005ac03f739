"""Compare the mock's answers with the corpus' expected (FT's) verdicts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conformance.generate import CORPUS

DEVIATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "verdicts.md"
# A row of the deviations table: | `Schema.field` | ... |
_ROW = re.compile(r"^\|\s*`([A-Za-z_]+(?:\.[A-Za-z_]+)?)`\s*\|")


@dataclass(slots=True, frozen=True)
class Answer:
    """What the mock answered to one case."""

    accepted: bool
    problems: tuple[dict[str, str], ...]  # errors when refused, warnings when accepted


def load_corpus() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))
    return cases


def documented_deviations() -> set[str]:
    """The `where` column of the deviations table in docs/verdicts.md."""
    text = DEVIATIONS_DOC.read_text(encoding="utf-8")
    section = text.split("## Deviations", 1)[1].split("\n## ", 1)[0]
    return {m.group(1) for line in section.splitlines() if (m := _ROW.match(line))}


def agrees(case: dict[str, Any], answer: Answer) -> bool:
    """True when the mock answered what FT answers (see generate.py for the verdicts)."""
    expect = case["expect"]
    where = {(p["path"], p["code"]) for p in answer.problems}
    doc_warnings = {(path, code) for path, code in where if code.startswith("doc_")}
    if expect == "accept":
        return answer.accepted and not doc_warnings
    if expect == "warn":
        return answer.accepted and doc_warnings == {(case["path"], case["code"])}
    if answer.accepted or case["path"] not in {path for path, _ in where}:
        return False
    hint = case.get("hint")
    return hint is None or any(hint in p["message"] for p in answer.problems)


@dataclass(slots=True)
class Report:
    """Agreement of the mock with FT over a corpus, and where they part."""

    total: int
    disagreements: list[tuple[dict[str, Any], Answer]]

    @property
    def agreement(self) -> float:
        return 1 - len(self.disagreements) / self.total

    def undocumented(self, deviations: set[str]) -> list[str]:
        """Disagreements that no documented deviation explains, one line each."""
        return [
            f"{case['id']}: expected {case['expect']} {case.get('path', '')} "
            f"{case.get('code', '')}, got {'accepted' if answer.accepted else 'refused'} "
            f"{[(p['path'], p['code']) for p in answer.problems]}"
            for case, answer in self.disagreements
            if case.get("deviation") not in deviations
        ]


def judge(cases: list[dict[str, Any]], answers: dict[str, Answer]) -> Report:
    missing = [case["id"] for case in cases if case["id"] not in answers]
    assert not missing, f"no answer to {len(missing)} case(s), e.g. {missing[:3]}"
    wrong = [(case, answers[case["id"]]) for case in cases if not agrees(case, answers[case["id"]])]
    return Report(len(cases), wrong)


def journal_answer(verdict: str, errors: str, warnings: str) -> Answer:
    """A journal row's verdict as an Answer."""
    accepted = verdict == "accepted"
    return Answer(accepted, tuple(json.loads(warnings if accepted else errors)))


def assert_conforms(
    cases: list[dict[str, Any]], answers: dict[str, Answer], transport: str
) -> None:
    """Every case got FT's verdict, or differs by a documented deviation; prints the agreement."""
    report = judge(cases, answers)
    print(f"{transport}: agreement with FT {report.agreement:.1%} over {report.total} cases")
    assert report.undocumented(documented_deviations()) == []
