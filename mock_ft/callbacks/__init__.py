"""Callback Actions: rules that call the operator's (or a partner's) API when a player qualifies."""

from __future__ import annotations

from mock_ft.callbacks.rules import Rule, RuleCompiler, compile_rule
from mock_ft.callbacks.runner import CallbackRunner
from mock_ft.callbacks.sources import load_rules, rule_set_names
from mock_ft.callbacks.specs import RuleFile, RuleSpec

__all__ = [
    "CallbackRunner",
    "Rule",
    "RuleCompiler",
    "RuleFile",
    "RuleSpec",
    "compile_rule",
    "load_rules",
    "rule_set_names",
]
