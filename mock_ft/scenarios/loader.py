"""Load scenario files and refuse a bad one before anything runs.

Every problem names the file, the line, the step and the field (`$.steps[2].operator.jsn`), with a
"did you mean" for misspelt keys, event types, rule sets and player fields. Templates are parsed
here too, so a broken `{{ ... }}` never surfaces halfway through a run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mock_ft.callbacks import RuleSpec, rule_set_names
from mock_ft.contracts import integration_contract
from mock_ft.errors import ScenarioError
from mock_ft.faultspec import fault_spec, parse_fault
from mock_ft.lookups.shapes import operator_contract
from mock_ft.players import PLAYER_FIELDS
from mock_ft.problems import Problem, json_path, pydantic_problems
from mock_ft.scenarios.spec import ScenarioSpec, StepSpec
from mock_ft.scenarios.templating import Templates

__all__ = ["Scenario", "find_scenario_files", "load_scenario", "load_scenarios"]


@dataclass(slots=True, frozen=True)
class Scenario:
    """A loaded, checked scenario."""

    path: Path
    spec: ScenarioSpec

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.spec.name


def find_scenario_files(paths: Sequence[str]) -> list[Path]:
    """The YAML files named, and those under the folders named (sorted); missing ones refused."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            found.append(path)
        else:
            msg = f"no scenario file or folder {given!r}; give .yaml files or folders of them"
            raise ScenarioError(msg)
    if not found:
        msg = f"no .yaml scenario under {', '.join(paths)}"
        raise ScenarioError(msg)
    return found


def load_scenarios(paths: Sequence[str]) -> list[Scenario]:
    """Every scenario under `paths`; the first invalid file stops the load with all its problems."""
    return [load_scenario(path) for path in find_scenario_files(paths)]


def load_scenario(path: Path) -> Scenario:
    """One scenario file, checked; ScenarioError lists every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read scenario {path}: {exc}"
        raise ScenarioError(msg) from None
    return Scenario(path, parse_scenario(text, str(path)))


def parse_scenario(text: str, source: str) -> ScenarioSpec:
    """A scenario from YAML text; ScenarioError (never another exception) when it is wrong."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # one parse: the node tree (for lines) and the data
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or "not valid YAML"
        msg = f"{source}{where}: {reason}; check indentation and quotes"
        raise ScenarioError(msg, [msg]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        msg = f"{source}: a scenario is a mapping with name, description and steps"
        raise ScenarioError(msg, [msg])
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc, ScenarioSpec)
        _refuse(source, node, data, problems)
    except RecursionError:
        msg = f"{source}: nested too deeply"
        raise ScenarioError(msg, [msg]) from None
    problems = list(_semantic_problems(spec))
    if problems:
        _refuse(source, node, data, problems)
    return spec


def _refuse(source: str, node: Any, data: Any, problems: list[Problem]) -> None:
    lines = [_describe(source, node, data, p) for p in problems]
    message = lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n" + "\n".join(lines)
    raise ScenarioError(message, lines) from None


def _describe(source: str, node: Any, data: Any, problem: Problem) -> str:
    parts = _parts(problem.path)
    line = _line(node, parts)
    step = _step_label(data, parts)
    where = f"{source} line {line}" + (f", {step}" if step else "")
    return f"{where}: {problem.path}: {problem.message}"


def _parts(path: str) -> list[str | int]:
    """`$.steps[2].operator.json` -> ["steps", 2, "operator", "json"] (JSONPath as json_path)."""
    parts: list[str | int] = []
    for chunk in path.removeprefix("$").replace("[", ".[").split("."):
        if not chunk:
            continue
        if chunk.startswith("[") and chunk.endswith("]"):
            inner = chunk[1:-1]
            parts.append(int(inner) if inner.isdigit() else inner.strip("'"))
        else:
            parts.append(chunk)
    return parts


def _line(node: Any, parts: list[str | int]) -> int:
    """The line of the deepest node along `parts` (a missing key: its parent's line)."""
    best = node.start_mark.line + 1 if node is not None else 1
    for part in parts:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child, best = value, key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            best = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return best


def _step_label(data: Any, parts: list[str | int]) -> str:
    """`step 3 (register)` or `step 2.1` for a step inside a repeat."""
    numbers: list[str] = []
    name = None
    current = data
    index = 0
    while index + 1 < len(parts) and parts[index] == "steps" and isinstance(parts[index + 1], int):
        number = parts[index + 1]
        assert isinstance(number, int)  # noqa: S101 - checked in the loop condition
        numbers.append(str(number + 1))
        step = current.get("steps", [])[number] if isinstance(current, dict) else None
        if not isinstance(step, dict):
            break
        name = step.get("name") if isinstance(step.get("name"), str) else None
        current = step.get("repeat", {})
        index += 2
        if index < len(parts) and parts[index] == "repeat":
            index += 1
    if not numbers:
        return ""
    return f"step {'.'.join(numbers)}" + (f" ({name})" if name else "")


def _near(word: str, known: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {match[0]}?" if match else ""


def _walk(
    steps: list[StepSpec], trail: tuple[str | int, ...]
) -> Iterator[tuple[StepSpec, tuple[str | int, ...]]]:
    for number, step in enumerate(steps):
        here = (*trail, number)
        yield step, here
        if step.repeat is not None:
            yield from _walk(step.repeat.steps, (*here, "repeat", "steps"))


def _semantic_problems(spec: ScenarioSpec) -> Iterator[Problem]:
    types = list(integration_contract().by_type())
    shapes = list(operator_contract()["components"]["schemas"])
    templates = Templates()
    yield from _template_problems(templates, spec.variables, ("variables",))
    for step, trail in _walk(spec.steps, ("steps",)):
        at = (*trail, step.kind)
        if step.repeat is None:  # a repeat's own steps are walked one by one
            own = step.model_dump(by_alias=True, exclude_none=True)[step.kind]
            yield from _template_problems(templates, own, at)
        if step.send is not None and step.send.type not in types and "{{" not in step.send.type:
            message = f"unknown event type {step.send.type!r}{_near(step.send.type.upper(), types)}"
            yield Problem(json_path([*at, "type"]), "unknown_event_type", message)
        if step.send is not None and step.send.raw is not None and step.send.transport != "rest":
            yield Problem(
                json_path([*at, "raw"]), "raw_needs_rest", "`raw` bodies go over REST only"
            )
        if step.operator is not None and step.operator.shape and step.operator.shape not in shapes:
            shape = step.operator.shape
            message = f"unknown Operator API shape {shape!r}{_near(shape, shapes)}"
            yield Problem(json_path([*at, "shape"]), "unknown_shape", message)
        if step.fault is not None and step.fault.add is not None:
            yield from _fault_problems(step.fault.add, (*at, "add"))
        if step.callbacks is not None:
            yield from _callback_problems(step, at)
        if step.expect is not None:
            yield from _expect_problems(step, at, types)


def _template_problems(
    templates: Templates, value: Any, trail: tuple[str | int, ...]
) -> Iterator[Problem]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _template_problems(templates, item, (*trail, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template_problems(templates, item, (*trail, index))
    elif isinstance(value, str) and ("{{" in value or "{%" in value):
        reason = templates.check(value)
        if reason is not None:
            yield Problem(json_path(list(trail)), "template", reason)


def _fault_problems(rule: str | dict[str, Any], trail: tuple[str | int, ...]) -> Iterator[Problem]:
    if isinstance(rule, str):  # a template's value is only known at run time: check the rest
        rule = re.sub(r"\{\{.*?\}\}", "0", rule)
    elif any(isinstance(v, str) and "{{" in v for v in rule.values()):
        return
    try:
        fault_spec(parse_fault(rule) if isinstance(rule, str) else rule)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        errors = getattr(exc, "errors", None)
        if callable(errors):
            for err in errors():
                where = [p for p in err["loc"] if isinstance(p, str | int)][1:]
                yield Problem(json_path([*trail, *where]), "invalid_fault", str(err["msg"]))
        else:
            yield Problem(json_path(list(trail)), "invalid_fault", str(exc))


def _callback_problems(step: StepSpec, at: tuple[str | int, ...]) -> Iterator[Problem]:
    assert step.callbacks is not None  # noqa: S101 - the caller checked
    sets = [*rule_set_names(), "all"]
    if step.callbacks.load is not None and step.callbacks.load not in sets:
        name = step.callbacks.load
        message = f"no rule set {name!r}{_near(name, sets)}; known: {', '.join(sets)}"
        yield Problem(json_path([*at, "load"]), "unknown_rule_set", message)
    if step.callbacks.rule is not None:
        try:
            RuleSpec.model_validate(step.callbacks.rule)
        except ValidationError as exc:
            for problem in pydantic_problems(exc, RuleSpec):
                inner = _parts(problem.path)
                yield Problem(json_path([*at, "rule", *inner]), problem.code, problem.message)


def _expect_problems(
    step: StepSpec, at: tuple[str | int, ...], types: list[str]
) -> Iterator[Problem]:
    expect = step.expect
    assert expect is not None  # noqa: S101 - the caller checked
    kind = (*at, expect.kind)
    wanted = getattr(expect, expect.kind)
    event_type = getattr(wanted, "type", None)
    if isinstance(event_type, str) and event_type not in types and "{{" not in event_type:
        message = f"unknown event type {event_type!r}{_near(event_type.upper(), types)}"
        yield Problem(json_path([*kind, "type"]), "unknown_event_type", message)
    if expect.player is not None:
        for path in expect.player.values:
            head = path.split(".")[0]
            if head not in PLAYER_FIELDS:
                message = (
                    f"player field {head!r} is not in the player model{_near(head, PLAYER_FIELDS)}"
                )
                yield Problem(json_path([*kind, "values", path]), "unknown_field", message)
