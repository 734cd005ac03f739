"""Jinja in scenario strings: `{{ user }}`, `{{ faker.email }}`, `{{ index * 10 }}`.

A string that is one expression keeps the value's type (`"{{ index * 10 }}"` is a number, and
`"{{ user }}"` stays the string "123": values are never re-parsed); otherwise the string is
rendered as text. Faker is seeded per scenario, so a seed replays the same
data. Undefined names are errors that name the variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from faker import Faker
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.environment import TemplateExpression
from jinja2.sandbox import SandboxedEnvironment

from mock_ft.errors import TemplateError
from mock_ft.samples import ft_timestamp

__all__ = ["FakerProxy", "Templates"]


_LONE = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}$", re.DOTALL)


class _Fake:
    """`faker.email` renders a value; `faker.random_int(1, 9)` calls with arguments."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.method(*args, **kwargs)

    def __str__(self) -> str:
        return str(self.method())


class FakerProxy:
    """Faker providers as attributes, each usable with or without a call."""

    def __init__(self, seed: int) -> None:
        self._faker = Faker()
        self._faker.seed_instance(seed)

    def __getattr__(self, name: str) -> _Fake:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            method = getattr(self._faker, name)
        except AttributeError:
            msg = f"Faker has no provider {name!r}; see the Faker docs for names like email, name"
            raise AttributeError(msg) from None
        return _Fake(method)


class Templates:
    """Renders scenario values with the scenario's variables."""

    def __init__(self) -> None:
        self.env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self.env.globals["now"] = ft_timestamp
        # Compiled once per distinct string: a step repeated for each of N events renders the
        # same strings N times, and Jinja compiles (generates and byte-compiles Python) each time.
        self._templates: dict[str, Template] = {}
        self._expressions: dict[str, TemplateExpression] = {}

    def check(self, text: str) -> str | None:
        """Why `text` does not parse as a template, or None."""
        lone = _LONE.match(text)
        try:
            if lone:
                self.env.compile_expression(lone["expr"])
            else:
                self.env.parse(text)
        except TemplateSyntaxError as exc:
            return f"template does not parse: {exc.message}"
        return None

    def render(self, value: Any, variables: dict[str, Any]) -> Any:
        """`value` with every string rendered (dicts and lists walked)."""
        if isinstance(value, dict):  # keys too: `active_bonuses.{{ bonus }}.status`
            return {
                self.render(key, variables): self.render(item, variables)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.render(item, variables) for item in value]
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        lone = _LONE.match(value)
        try:
            if lone:
                result = self._expression(lone["expr"])(variables)
                if isinstance(result, Undefined):
                    result._fail_with_undefined_error()
            else:
                result = self._template(value).render(variables)
        except UndefinedError as exc:
            defined = ", ".join(sorted(k for k in variables if k not in ("faker", "now")))
            msg = f"{value!r}: {exc.message}; defined here: {defined or 'nothing'}"
            raise TemplateError(msg) from None
        except TemplateSyntaxError as exc:
            msg = f"{value!r}: {exc.message}"
            raise TemplateError(msg) from None
        if isinstance(result, _Fake):
            return result()
        return result

    def _expression(self, expr: str) -> TemplateExpression:
        compiled = self._expressions.get(expr)
        if compiled is None:
            compiled = self.env.compile_expression(expr, undefined_to_none=False)
            self._expressions[expr] = compiled
        return compiled

    def _template(self, text: str) -> Template:
        compiled = self._templates.get(text)
        if compiled is None:
            compiled = self._templates[text] = self.env.from_string(text)
        return compiled
