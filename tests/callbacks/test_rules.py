"""Callback rules: templates and conditions are checked at load, rendered at fire time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_ft.callbacks import RuleCompiler, RuleSpec, load_rules, rule_set_names
from mock_ft.callbacks.rules import Condition
from mock_ft.callbacks.templates import Context, render, render_url
from mock_ft.contracts import integration_contract
from mock_ft.errors import RuleError
from mock_ft.settings import Settings

SETTINGS = Settings(journal=":memory:", operator_url="http://127.0.0.1:9/op/")


def _rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "r1",
        "trigger": {"event": "PAYMENT", "where": {"type": "Debit"}, "player": {}},
        "request": {
            "url": "{operator_url}/cb",
            "body": {"user_id": ["#UserId#"], "why": "{action_field:reason}"},
            "action_fields": {"reason": "withdrawal"},
        },
    }
    for dotted, value in changes.items():
        target = rule
        *parents, last = dotted.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return rule


def _compile(rule: dict[str, Any], settings: Settings = SETTINGS) -> Any:
    return RuleCompiler(settings, integration_contract())(RuleSpec.model_validate(rule))


def _problems(rule: dict[str, Any], settings: Settings = SETTINGS) -> list[tuple[str, str]]:
    with pytest.raises(RuleError) as caught:
        _compile(rule, settings)
    return [(p.path, p.message) for p in caught.value.problems]


def test_compile_resolves_operator_url() -> None:
    """`{operator_url}` becomes the configured operator base URL, without a double slash."""
    assert _compile(_rule()).url == "http://127.0.0.1:9/op/cb"


def test_refuse_unknown_action_field_with_suggestion() -> None:
    """A misspelt action field is named, with its path and the closest defined name."""
    rule = _rule(request__body={"why": "{action_field:reasn}"})
    [(path, message)] = _problems(rule)
    assert path == "$.request.body.why"
    assert "{action_field:reasn}: no action field 'reasn'; did you mean reason?" in message


def test_refuse_unknown_segmentation_placeholder() -> None:
    """`#UserID#` (wrong case) is refused, suggesting #UserId#."""
    [(path, message)] = _problems(_rule(request__body={"user_id": ["#UserID#"]}))
    assert path == "$.request.body.user_id[0]"
    assert "unknown segmentation value #UserID#; did you mean UserId?" in message


def test_refuse_event_field_not_in_event_type() -> None:
    """`{event.amout}` on a PAYMENT rule names PAYMENT's closest field."""
    [(_, message)] = _problems(_rule(request__body={"a": "{event.amout}"}))
    assert "event field 'amout' is not in this event type; did you mean amount?" in message


def test_refuse_unknown_player_field() -> None:
    """A player condition on a field the model lacks is refused with a suggestion."""
    [(path, message)] = _problems(_rule(trigger__player={"deposit_cnt": 1}))
    assert path == "$.trigger.player.deposit_cnt"
    assert "did you mean deposit_count?" in message


def test_refuse_unknown_namespace() -> None:
    """`{evnt.amount}` is not silently sent as text."""
    [(_, message)] = _problems(_rule(request__body={"a": "x {evnt.amount}"}))
    assert "unknown placeholder; use {action_field:NAME}" in message


def test_refuse_action_field_referring_to_another() -> None:
    """Action fields are resolved in one pass, so one may not use another."""
    rule = _rule(request__action_fields={"reason": "a", "b": "{action_field:reason}"})
    [(path, message)] = _problems(rule)
    assert path == "$.request.action_fields.b"
    assert "cannot refer to another action field" in message


def test_refuse_unknown_event_type() -> None:
    """A trigger on `PAYMENTS` suggests PAYMENT."""
    [(path, message)] = _problems(_rule(trigger__event="PAYMENTS"))
    assert (path, message) == (
        "$.trigger.event",
        "unknown event type 'PAYMENTS'; did you mean PAYMENT?",
    )


def test_refuse_unknown_operator() -> None:
    """An operator other than the documented ones is refused with a suggestion."""
    [(path, message)] = _problems(_rule(trigger__where={"amount": {"gtt": 5}}))
    assert path == "$.trigger.where.amount.gtt"
    assert "unknown operator 'gtt'; did you mean gt?" in message


def test_refuse_operator_url_without_operator() -> None:
    """`{operator_url}` with no operator configured says which setting to give."""
    [(_, message)] = _problems(_rule(), Settings(journal=":memory:"))
    assert "pass --operator-url or set MOCK_FT_OPERATOR_URL" in message


def test_refuse_body_on_get() -> None:
    """A GET callback with a body is refused."""
    [(path, _)] = _problems(_rule(request__method="GET"))
    assert path == "$.request.body"


def test_list_every_problem_at_once() -> None:
    """Several mistakes are reported together, each with its path."""
    rule = _rule(trigger__event="NOPE", request__body={"a": "#Nope#", "b": "{player.nope}"})
    paths = [path for path, _ in _problems(rule)]
    assert paths == ["$.trigger.event", "$.request.body.a", "$.request.body.b"]


def _ctx(**event: Any) -> Context:
    player = {"user_id": "42", "deposit_count": 3, "profile": {"email": "a@b.c"}}
    return Context({"amount": 12.5, **event}, player, {"reason": "w"}, [])


def test_render_whole_placeholder_keeps_json_type() -> None:
    """A string that is one placeholder becomes the value itself (a number stays a number)."""
    body = {"amount": "{event.amount}", "n": "{player.deposit_count}", "ids": ["#UserId#"]}
    assert render(body, _ctx()) == {"amount": 12.5, "n": 3, "ids": ["42"]}


def test_render_embedded_placeholder_as_text() -> None:
    """Inside a longer string values are written as text."""
    assert render("user #UserId# paid {event.amount} ({action_field:reason})", _ctx()) == (
        "user 42 paid 12.5 (w)"
    )


def test_render_missing_value_notes_it() -> None:
    """A value the player lacks renders as null and is noted for the record."""
    ctx = _ctx()
    assert render({"c": "#Country#"}, ctx) == {"c": None}
    assert ctx.notes == ["#Country# had no value; sent null"]


def test_render_url_encodes_values() -> None:
    """Values put into a URL are percent-encoded."""
    ctx = Context({"note": "a b/c"}, {"user_id": "4 2"}, {}, [])
    assert render_url("http://x/#UserId#/{event.note}", ctx) == "http://x/4%202/a%20b%2Fc"


@pytest.mark.parametrize(
    ("op", "operand", "value", "expected"),
    [
        ("eq", 1, 1, True),
        ("ne", 1, 2, True),
        ("gt", 0, 1, True),
        ("gt", 0, "1", False),
        ("gte", 1, 1, True),
        ("lt", 1, 0.5, True),
        ("lte", 1, 2, False),
        ("in", ["a", "b"], "b", True),
        ("not_in", ["a"], "a", False),
        ("contains", "x", ["x", "y"], True),
        ("not_contains", "x", ["y"], True),
        ("not_contains", "x", ["x"], False),
        ("exists", True, 0, True),
    ],
)
def test_evaluate_condition_operators(op: str, operand: Any, value: Any, expected: bool) -> None:
    """Each operator compares as documented; numbers only compare with numbers."""
    assert Condition(("v",), op, operand).holds({"v": value}) is expected


def test_evaluate_condition_on_absent_path() -> None:
    """An absent value satisfies only `exists: false` and `ne`."""
    assert Condition(("a", "b"), "exists", False).holds({"a": {}})
    assert Condition(("a", "b"), "ne", 1).holds({"a": {}})
    assert not Condition(("a", "b"), "eq", None).holds({"a": {}})


def test_load_every_ready_made_set() -> None:
    """The four documented use cases ship as rule sets and compile against the contract."""
    assert rule_set_names() == ["bonus-bot", "cancel-bonus", "loyalty-sync", "refer-a-friend"]
    rules = RuleCompiler(SETTINGS, integration_contract()).load(["all"])
    assert {r.id for r in rules} == {
        "bonus-bot",
        "cancel-bonus-on-withdrawal",
        "loyalty-sync",
        "refer-a-friend",
    }


def test_refuse_unknown_rule_source() -> None:
    """A name that is neither a set nor a file lists the sets."""
    with pytest.raises(
        RuleError, match="sets: bonus-bot, cancel-bonus, loyalty-sync, refer-a-friend, all"
    ):
        load_rules("cancel-bonuses")


def test_refuse_misspelt_key_in_rule_file(tmp_path: Path) -> None:
    """A misspelt key in a rule file gets its path and a "did you mean"."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: x\n    trigger: {evnt: PAYMENT}\n    request: {url: http://x}\n"
    )
    with pytest.raises(RuleError) as caught:
        load_rules(str(path))
    paths = {(p.path, p.message.split(" (known")[0]) for p in caught.value.problems}
    assert ("$.rules[0].trigger.evnt", "unknown key 'evnt'; did you mean event?") in paths
    assert ("$.rules[0].trigger.event", "required key missing") in paths


def test_refuse_broken_yaml_with_line(tmp_path: Path) -> None:
    """YAML that does not parse names the line."""
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - id: [x\n")
    with pytest.raises(RuleError, match=r"is not valid YAML at line 3"):
        load_rules(str(path))


def test_name_source_of_invalid_rule(tmp_path: Path) -> None:
    """A rule that fails to compile names its file and its index in the file."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        "- id: x\n  trigger: {event: PAYMENT}\n"
        "  request: {url: '{operator_url}/x', body: '#Nope#'}\n"
    )
    with pytest.raises(RuleError) as caught:
        RuleCompiler(SETTINGS, integration_contract()).load([str(path)])
    assert caught.value.message.startswith(
        f"{path}: callback rule 'x' is invalid: $.rules[0].request.body"
    )


def test_mask_api_key_in_public_rule() -> None:
    """A rule's key is never shown back."""
    rule = _compile(_rule(request__api_key="s3cret"))
    assert rule.public()["request"]["api_key"] == "***"
    assert "s3cret" not in repr(rule.public())
