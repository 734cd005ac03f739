"""Scenario files are checked before anything runs: every problem names file, line, step, field."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mock_ft.contracts import contracts_dir
from mock_ft.errors import ScenarioError, TemplateError
from mock_ft.scenarios.loader import (
    find_scenario_files,
    load_scenario,
    parse_scenario,
)
from mock_ft.scenarios.spec import scenario_schema
from mock_ft.scenarios.templating import FakerProxy, Templates

HEAD = "name: t\ndescription: proves\nsteps:\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    return list(caught.value.problems)


def test_name_line_step_and_suggestion_for_misspelt_key() -> None:
    """A misspelt key: the file, its line, the step with its name, the path and a suggestion."""
    text = HEAD + "  - name: register\n    operator:\n      path: /p\n      jsn: {}\n"
    [problem] = _problems(text)
    assert problem.startswith("s.yaml line 7, step 1 (register): $.steps[0].operator.jsn: ")
    assert "unknown key 'jsn'; did you mean json?" in problem


def test_suggest_event_type() -> None:
    """A misspelt event type is refused with the nearest one."""
    [problem] = _problems(HEAD + "  - send: {type: PAYMNT}\n")
    assert "s.yaml line 4, step 1: $.steps[0].send.type: unknown event type 'PAYMNT'" in problem
    assert problem.endswith("did you mean PAYMENT?")


def test_number_steps_inside_repeat() -> None:
    """A problem inside a repeat names the nested step (2.1)."""
    text = (
        HEAD
        + "  - wait: 0\n  - repeat:\n      times: 2\n      steps:\n        - send: {type: NOPE}\n"
    )
    [problem] = _problems(text)
    assert problem.startswith("s.yaml line 8, step 2.1: $.steps[1].repeat.steps[0].send.type")


def test_refuse_step_with_two_kinds() -> None:
    """A step must be exactly one kind."""
    [problem] = _problems(HEAD + "  - {wait: 1, send: {type: PAYMENT}}\n")
    assert (
        "a step needs exactly one of operator, send, fault, callbacks, wait, expect, repeat"
        in problem
    )


def test_refuse_broken_template() -> None:
    """A template that does not parse is refused at load, with its path."""
    [problem] = _problems(HEAD + "  - send: {type: PAYMENT, event: {amount: '{{ 1 + }}'}}\n")
    assert "$.steps[0].send.event.amount: template does not parse" in problem


def test_refuse_bad_fault_words() -> None:
    """Fault rules are checked with the --fault reader's messages."""
    [problem] = _problems(HEAD + "  - fault: {add: '503 stauts=1'}\n")
    assert "unknown fault field 'stauts' in 'stauts=1'; did you mean 'status'?" in problem


def test_refuse_unknown_rule_set_and_player_field() -> None:
    """Rule set names and player fields get suggestions too; every problem is listed."""
    text = HEAD + (
        "  - callbacks: {load: cancel-bonuses}\n"
        "  - expect: {player: {user_id: u, values: {deposit_cnt: 1}}}\n"
    )
    first, second = _problems(text)
    assert "no rule set 'cancel-bonuses'; did you mean cancel-bonus?" in first
    assert (
        "player field 'deposit_cnt' is not in the player model; did you mean deposit_count?"
        in second
    )


def test_refuse_broken_yaml_with_line() -> None:
    """YAML that does not parse names its line."""
    [problem] = _problems(HEAD + "  - send: {type: [x\n")
    assert problem.startswith("s.yaml line 5 column 1:")


def test_refuse_missing_description() -> None:
    """Each scenario must say what it proves."""
    [problem] = _problems("name: t\nsteps:\n  - wait: 0\n")
    assert "$.description: required key missing" in problem


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    ["name", "description", "steps", "send", "type", "wait", "expect", "x"]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_load_or_refuse_any_document(document: object) -> None:
    """Any YAML document either loads or is refused with ScenarioError, never another error."""
    text = yaml.safe_dump(document)
    try:
        parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        message = exc.message
        assert message


@given(st.text(max_size=200))
def test_load_or_refuse_any_text(text: str) -> None:
    """Arbitrary text (broken YAML included) is refused cleanly."""
    try:
        parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        message = exc.message
        assert message


def test_find_files_in_folders(tmp_path: Path) -> None:
    """Folders are searched for .yaml and .yml, sorted; a missing path is refused."""
    (tmp_path / "b.yml").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in find_scenario_files([str(tmp_path)])] == ["b.yml", "a.yaml"]
    with pytest.raises(ScenarioError, match="no scenario file or folder"):
        find_scenario_files([str(tmp_path / "nope")])


def test_render_lone_expression_keeps_type() -> None:
    """`{{ index * 10 }}` is a number, `{{ user }}` stays the string it was."""
    templates = Templates()
    variables = {"index": 3, "user": "123"}
    assert templates.render({"a": "{{ index * 10 }}", "u": "{{ user }}"}, variables) == {
        "a": 30,
        "u": "123",
    }
    assert templates.render("p-{{ index }}", variables) == "p-3"


def test_render_same_string_with_each_call_s_variables() -> None:
    """A string rendered again (a repeated step) uses that call's variables and fresh Faker
    values: what is reused between calls is the compiled template, never a result."""
    templates = Templates()
    faker = FakerProxy(seed=7)
    rendered = [
        templates.render(
            ["{{ index * 10 }}", "p-{{ index }}", "{{ faker.uuid4 }}"],
            {
                "index": index,
                "faker": faker,
            },
        )
        for index in (1, 2)
    ]
    assert [r[:2] for r in rendered] == [[10, "p-1"], [20, "p-2"]]
    assert rendered[0][2] != rendered[1][2]


def test_repeat_faker_values_under_seed() -> None:
    """The same seed gives the same Faker data; `faker.email` works with or without a call."""
    templates = Templates()
    first = templates.render(
        ["{{ faker.email }}", "{{ faker.random_int(1, 99) }}"], {"faker": FakerProxy(7)}
    )
    again = templates.render(
        ["{{ faker.email() }}", "{{ faker.random_int(1, 99) }}"], {"faker": FakerProxy(7)}
    )
    assert first == again
    assert "@" in first[0]


def test_name_undefined_variable() -> None:
    """An undefined name is an error naming it and what is defined."""
    with pytest.raises(TemplateError, match=r"'usr' is undefined; defined here: user"):
        Templates().render("{{ usr }}", {"user": "1"})


def test_keep_scenario_schema_in_step_with_model() -> None:
    """contracts/scenario.schema.json is what the model generates."""
    path = contracts_dir() / "scenario.schema.json"
    regenerate = (
        "python -c 'import json; from mock_ft.scenarios.spec import scenario_schema; "
        "print(json.dumps(scenario_schema(), indent=2, sort_keys=True))' "
        "> contracts/scenario.schema.json"
    )
    assert json.loads(path.read_text()) == scenario_schema(), regenerate


def test_validate_library_against_schema() -> None:
    """Every scenario in scenarios/ is valid under the published schema and loads."""
    validator = jsonschema_rs.validator_for(
        json.loads((contracts_dir() / "scenario.schema.json").read_text())
    )
    files = find_scenario_files([str(Path(__file__).parents[2] / "scenarios")])
    for path in files:
        assert validator.is_valid(yaml.safe_load(path.read_text())), path
        load_scenario(path)


def test_accept_template_in_fault_words() -> None:
    """Fault words may hold a template with spaces (`user={{ user }}`): checked with it filled."""
    spec = parse_scenario(HEAD + "  - fault: {add: '503 first=1 user={{ user }}'}\n", "s.yaml")
    assert spec.steps[0].fault is not None


def test_render_template_in_keys() -> None:
    """Mapping keys are rendered too, so a path can name a captured id."""
    rendered = Templates().render({"active_bonuses.{{ b }}.status": "x"}, {"b": "ub-1"})
    assert rendered == {"active_bonuses.ub-1.status": "x"}
