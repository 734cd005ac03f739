"""`MockFT`: the client a test gets from the `ft_mock` fixture (see mock_ft/pytest_plugin.py).

What arrived at the mock and the levers to pull, over its control API; every failure is an
AssertionError in the mock's own words. httpx is imported when a client is made, not before.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

    from mock_ft.settings import Settings

__all__ = ["MockFT"]


class MockFT:
    """The session's mock, emptied for this test: what arrived, and the levers to pull.

    `headers` is what the operator's publisher must send. A refusal or an unreachable mock is
    an AssertionError carrying the mock's own message.
    """

    def __init__(self, url: str, settings: Settings) -> None:
        import httpx

        from mock_ft.tls import client_tls

        self.url = url
        self.api_key = settings.api_key.get_secret_value()
        self.headers = {settings.api_key_header: self.api_key} if settings.auth_enabled else {}
        token = settings.control_token
        control = {"Content-Type": "application/json"}  # the mock takes changes only as JSON
        if token:
            control["Authorization"] = f"Bearer {token.get_secret_value()}"
        self._settings = settings
        self._http = httpx.Client(base_url=url, headers=control, timeout=30, verify=client_tls())

    def close(self) -> None:
        self._http.close()

    def reset(self) -> None:
        """Empty the journal, drop every fault and callback rule, restore the session's own."""
        self._call("POST", "/_mock/reset")
        self._call("DELETE", "/_mock/faults")
        self._call("DELETE", "/_mock/callbacks/rules")
        for spec in self._settings.faults:  # given at start-up: part of the session's mock
            self.add_fault(spec.model_dump(exclude_defaults=True))
        for source in self._settings.callback_rules:
            self.load_callbacks(source)

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        """Journaled attempts, oldest first; filters as /_mock/events (type, user_id...)."""
        return self._list("/_mock/events", **filters)

    def wait_for(
        self,
        type: str | None = None,
        user_id: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        verdict: str | None = "accepted",
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """The first `count` matching events, as soon as they arrived; AssertionError if late."""
        __tracebackhide__ = True
        wanted = _params(type=type, user_id=user_id, verdict=verdict, **filters)
        params = {**wanted, "count": count, "timeout": timeout}
        response = self._send("GET", "/_mock/events/wait", params=params, timeout=timeout + 10)
        if response.status_code == 408:
            _fail(_late(response.json(), wanted, count, timeout))
        return list(self._json(response)["data"])

    def idle(self, timeout: float = 30.0) -> None:
        """Return once the lookups and Callback Actions of every event journaled so far are
        done: after it, "no callback fired" is a fact, not a guess about how long to wait."""
        __tracebackhide__ = True
        response = self._send(
            "GET", "/_mock/idle", params={"timeout": timeout}, timeout=timeout + 10
        )
        if response.status_code == 408:
            _fail(f"mock-ft: {response.json()['message']}")
        self._json(response)

    def lookups(self, user_id: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """The mock's calls to the Operator API (filters: event_id, endpoint, ok, after_id)."""
        return self._list("/_mock/lookups", user_id=user_id, **filters)

    def callbacks(
        self, rule: str | None = None, user_id: str | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Callback Actions fired, oldest first (filters: event_id, ok, after_id)."""
        return self._list("/_mock/callbacks", rule_id=rule, user_id=user_id, **filters)

    def wait_for_callback(
        self, rule: str | None = None, user_id: str | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The first matching Callback Action once it is done; AssertionError if none in time."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        while not (found := self.callbacks(rule, user_id)):
            if time.monotonic() > deadline:
                fired = [f"{c['rule_id']} (user {c['user_id']})" for c in self.callbacks()]
                loaded = [r["id"] for r in self._call("GET", "/_mock/callbacks/rules")["data"]]
                _fail(
                    f"mock-ft: no Callback Action (rule={rule}, user_id={user_id}) within "
                    f"{timeout:g} s; fired: {', '.join(fired) or 'none'}; rules loaded: "
                    f"{', '.join(loaded) or 'none (mark the test ft_mock(callbacks=[...]))'}"
                )
            time.sleep(0.05)
        return found[0]

    def player(self, user_id: str) -> dict[str, Any]:
        """The mock's player model (FT's segmentation view) of one user."""
        return dict(self._call("GET", f"/_mock/players/{quote(user_id, safe='')}"))

    def add_fault(self, rule: str | Mapping[str, Any]) -> int:
        """Add a fault rule (`"503 first=1 type=PAYMENT"` or a mapping); returns its id."""
        __tracebackhide__ = True
        if isinstance(rule, str):
            from mock_ft.faultspec import parse_fault

            try:
                rule = parse_fault(rule)
            except ValueError as exc:
                _fail(f"fault rule {rule!r}: {exc}")
        return int(self._call("POST", "/_mock/faults", json=dict(rule))["id"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/_mock/faults")

    def load_callbacks(self, source: str | Path | Mapping[str, Any]) -> list[str]:
        """Load callback rules: a ready-made set (`all` too), a rule file or one rule; their ids."""
        __tracebackhide__ = True
        if isinstance(source, Mapping):
            return [self._call("POST", "/_mock/callbacks/rules", json=dict(source))["id"]]
        from mock_ft.callbacks import load_rules
        from mock_ft.errors import RuleError

        try:  # read here, so a rule file on this machine reaches a mock running elsewhere
            specs = load_rules(str(source))
        except RuleError as exc:
            _fail(f"mock-ft: {exc}")
        rules = [spec.model_dump(mode="json", exclude_unset=True) for spec in specs]
        return [self.load_callbacks(rule)[0] for rule in rules]

    def delivery(self, **filters: Any) -> dict[str, Any]:
        """The delivery report (lost, duplicated, retries...); filters as /_mock/delivery."""
        return dict(self._call("GET", "/_mock/delivery", params=filters))

    def _list(self, path: str, **filters: Any) -> list[dict[str, Any]]:
        return list(self._call("GET", path, params=_params(limit=1000, **filters))["data"])

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        __tracebackhide__ = True
        import httpx

        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            _fail(f"mock-ft: cannot reach the mock at {self.url} ({type(exc).__name__}: {exc})")

    def _json(self, response: httpx.Response) -> Any:
        __tracebackhide__ = True
        if response.status_code >= 400:
            where = f"{response.request.method} {response.request.url.path}"
            _fail(f"mock-ft: {where} answered {response.status_code}: {_why(response)}")
        return response.json()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return self._json(self._send(method, path, **kwargs))


def _fail(message: str) -> NoReturn:
    """An assertion failure in the mock's words, with no httpx exception chained to it."""
    __tracebackhide__ = True
    raise AssertionError(message) from None


def _why(response: httpx.Response) -> str:
    """The mock's own explanation of a refusal: each problem with its path, or its message."""
    try:
        body = response.json()
        problems = "; ".join(f"{p['path']}: {p['message']}" for p in body.get("problems", []))
        return str(problems or body.get("message") or response.text)
    except (ValueError, KeyError, TypeError, AttributeError):  # not the mock's error shape
        return response.text[:300]


def _params(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _late(body: dict[str, Any], wanted: dict[str, Any], count: int, timeout: float) -> str:
    """The 408 of /_mock/events/wait in words: what matched, and what arrived instead."""
    what = ", ".join(f"{k}={v}" for k, v in wanted.items()) or "any"
    lines = [f"mock-ft: wanted {count} event(s) ({what}) within {timeout:g} s"]
    lines += [f"  matched {_describe(e)}" for e in body["seen"]]
    lines.append("newest arrivals:" if body["recent"] else "nothing arrived at all")
    return "\n".join(lines + [f"  {_describe(e)}" for e in body["recent"]])


def _describe(event: dict[str, Any]) -> str:
    """One journal entry in a line: `#7 PAYMENT user 42: rejected 400 ($.amount: ...)`."""
    problems = [f"{p['path']}: {p['message']}" for p in event["errors"]]
    problems += [f"warning {p['code']}" for p in event["warnings"]]
    line = f"#{event['id']} {event['event_type'] or event['path']} user {event['user_id']}: "
    line += f"{event['verdict']} {event['status_code']}"
    return line + (f" ({'; '.join(problems)})" if problems else "")
