"""contracts/callback-rules.schema.json: generated from the rule model; the sets pass it."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema_rs
import yaml

from mock_ft.callbacks import rule_set_names
from mock_ft.callbacks.specs import rule_file_schema
from mock_ft.contracts import contracts_dir

SCHEMA_FILE = contracts_dir() / "callback-rules.schema.json"
REGENERATE = (
    "python -c 'import json; from mock_ft.callbacks.specs import rule_file_schema; "
    "print(json.dumps(rule_file_schema(), indent=2, sort_keys=True))' "
    "> contracts/callback-rules.schema.json"
)


def test_keep_rule_schema_in_step_with_model() -> None:
    """The contract file is what the model generates; regenerate it when the model changes."""
    assert json.loads(SCHEMA_FILE.read_text()) == rule_file_schema(), REGENERATE


def test_validate_ready_made_sets_against_schema() -> None:
    """Every shipped rule set is valid under the published schema (as an editor would check)."""
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text()))
    folder = resources.files("mock_ft.callbacks") / "rulesets"
    for name in rule_set_names():
        document = yaml.safe_load((folder / f"{name}.yaml").read_text())
        assert validator.is_valid(document), name


def test_refuse_misspelt_key_in_schema() -> None:
    """The schema refuses keys the format lacks, so an editor flags a misspelling."""
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text()))
    rule = {"id": "x", "trigger": {"evnt": "PAYMENT"}, "request": {"url": "http://x"}}
    assert not validator.is_valid({"rules": [rule]})
