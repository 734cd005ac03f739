"""Where rules come from: the ready-made sets shipped in the package, and rule files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from mock_ft.callbacks.specs import RuleFile, RuleSpec
from mock_ft.errors import RuleError
from mock_ft.problems import pydantic_problems

__all__ = ["load_rules", "parse_rule_file", "rule_set_names"]


def rule_set_names() -> list[str]:
    """The ready-made rule sets shipped with mock-ft."""
    folder = resources.files("mock_ft.callbacks") / "rulesets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def parse_rule_file(text: str, source: str) -> list[RuleSpec]:
    """Rule specs from YAML/JSON text (`rules: [...]`, or a bare list); RuleError if malformed."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        message = f"{source} is not valid YAML{where}; check indentation and quotes"
        raise RuleError(message) from None
    if isinstance(data, list):
        data = {"rules": data}
    try:
        return RuleFile.model_validate(data).rules
    except ValidationError as exc:
        problems = tuple(pydantic_problems(exc, RuleFile))
        first = problems[0]
        message = f"{source}: {len(problems)} problem(s); first: {first.path}: {first.message}"
        raise RuleError(message, problems) from None


def load_rules(source: str) -> list[RuleSpec]:
    """The specs of a ready-made set (by name; `all` for every set) or of a rule file (by path)."""
    if source == "all":
        return [spec for name in rule_set_names() for spec in load_rules(name)]
    if source in rule_set_names():
        text = (resources.files("mock_ft.callbacks") / "rulesets" / f"{source}.yaml").read_text()
        return parse_rule_file(text, f"rule set {source}")
    path = Path(source)
    if not path.is_file():
        sets = ", ".join([*rule_set_names(), "all"])
        message = f"no rule file {source!r} and no ready-made rule set of that name; sets: {sets}"
        raise RuleError(message)
    return parse_rule_file(path.read_text(encoding="utf-8"), str(path))
