"""What each kind of step does. A step that does not go as written raises `Failure`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from mock_ft.callbacks.templates import MISSING, resolve
from mock_ft.contracts import integration_contract
from mock_ft.faultspec import parse_fault
from mock_ft.lookups.auth import OperatorAuth, TokenError
from mock_ft.lookups.shapes import shape_problems
from mock_ft.samples import ft_timestamp, sample_events
from mock_ft.scenarios.checks import (
    Failure,
    Window,
    check,
    condition_diff,
    conditions,
    subset_diff,
)
from mock_ft.scenarios.spec import CallbacksStep, ExpectStep, FaultStep, OperatorStep, SendStep
from mock_ft.scenarios.target import Publishers, Target
from mock_ft.scenarios.templating import Templates

__all__ = ["StepRunner"]

_EVIDENCE = 300


def _excerpt(response: httpx.Response) -> str:
    text = response.text
    return text if len(text) <= _EVIDENCE else text[:_EVIDENCE] + "..."


class StepRunner:
    """Runs one scenario's steps against a target, keeping its variables and what it added."""

    def __init__(
        self, client: httpx.AsyncClient, target: Target, variables: dict[str, Any], window: Window
    ) -> None:
        self.client = client
        self.target = target
        self.variables = variables
        self.window = window
        self.templates = Templates()
        self.publishers = Publishers(target)
        self.faults: list[int] = []
        self.rules: list[str] = []
        secret = target.operator_auth
        self.auth = OperatorAuth(secret) if secret else None
        self.routes = integration_contract().by_type()
        # Told (done, total) as a long step goes: events sent, or matching events seen so far.
        self.on_progress: Callable[[int, int | None], None] = lambda done, total: None
        self.examples = {route.event_type: payload for route, payload in sample_events()}

    def render(self, value: Any) -> Any:
        """`value` with its templates rendered under the current variables."""
        return self.templates.render(value, self.variables)

    async def close(self) -> None:
        """Remove the fault rules and callback rules this scenario added; close publishers."""
        control = self.target.control_headers()
        for fault_id in self.faults:
            await self.client.delete(
                f"{self.target.ft_url}/_mock/faults/{fault_id}", headers=control
            )
        for rule_id in self.rules:
            url = f"{self.target.ft_url}/_mock/callbacks/rules/{rule_id}"
            await self.client.delete(url, headers=control)
        await self.publishers.close()

    # -- operator ------------------------------------------------------------------------

    async def operator(self, spec: OperatorStep) -> None:
        """Call the operator; check status, body and shape; capture values."""
        path = str(self.render(spec.path))
        url = f"{self.target.operator_url}{path}"
        headers = {k: str(v) for k, v in self.render(spec.headers).items()}
        if spec.auth and self.auth is not None:
            try:
                headers.update(await self.auth.headers(self.client))
            except TokenError as exc:
                raise Failure(f"cannot authenticate on the Operator API: {exc}") from None
        body = None if spec.json_body is None else self.render(spec.json_body)
        try:
            response = await self.client.request(spec.method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            message = f"{spec.method} {path}: no answer ({type(exc).__name__}); is the operator up?"
            raise Failure(message) from None
        wanted = spec.status if isinstance(spec.status, list) else [spec.status]
        if (spec.status is None and not response.is_success) or (
            spec.status is not None and response.status_code not in wanted
        ):
            want = "a 2xx status" if spec.status is None else f"status {spec.status}"
            message = f"{spec.method} {path}: expected {want}, got {response.status_code}"
            raise Failure(message, [f"  answer: {_excerpt(response)}"])
        answer = _json(response)
        if spec.body is not None:
            diff = subset_diff(self.render(spec.body), answer)
            if diff:
                raise Failure(f"{spec.method} {path}: the answer differs", diff)
        diff = condition_diff(
            conditions(self.render(spec.where)), answer if isinstance(answer, dict) else {}
        )
        if diff:
            raise Failure(f"{spec.method} {path}: the answer differs", diff)
        if spec.shape is not None:
            problems = shape_problems(spec.shape, answer)
            if problems:
                lines = [f"  {p.path}: {p.message}" for p in problems[:10]]
                raise Failure(f"{spec.method} {path}: the answer is not FT's {spec.shape}", lines)
        self._capture(spec.capture, answer, f"{spec.method} {path}")

    def _capture(self, capture: dict[str, str], answer: Any, what: str) -> None:
        for name, path in capture.items():
            value = resolve(answer, str(path).split("."))
            if value is MISSING:
                message = f"{what}: cannot capture {name}: the answer has no {path}"
                raise Failure(message, [f"  answer: {orjson.dumps(answer).decode()[:_EVIDENCE]}"])
            self.variables[name] = value

    # -- send ----------------------------------------------------------------------------

    def _event(self, spec: SendStep) -> dict[str, Any]:
        event = {**self.examples[spec.type], "timestamp": ft_timestamp()}
        event.update(self.render(spec.event))
        for field in spec.omit:
            event.pop(field, None)
        return event

    async def send(self, spec: SendStep) -> None:
        """Send `count` events to the mock over the step's transport.

        With `count` above 1, `index` counts the events; otherwise it stays what a surrounding
        `repeat` made it.
        """
        outer = self.variables.get("index", 0)
        try:
            await self._send(spec)
        finally:
            self.variables["index"] = outer

    def _index(self, spec: SendStep, index: int) -> None:
        if spec.count > 1:
            self.variables["index"] = index

    async def _send(self, spec: SendStep) -> None:
        if spec.transport != "rest":
            bodies = []
            for index in range(spec.count):
                self._index(spec, index)
                bodies.append(self._event(spec))
            try:
                await self.publishers.publish(
                    spec.transport, spec.type, bodies, progress=self.on_progress
                )
            except Exception as exc:  # any broker client error: the step failed, say why
                message = f"publishing on {spec.transport} failed: {type(exc).__name__}: {exc}"
                raise Failure(message) from None
            return
        route = self.routes[spec.type]
        headers = {"Content-Type": "application/json"}
        if self.target.ft_api_key:
            headers[self.target.ft_api_key_header] = self.target.ft_api_key
        answer: Any = None
        for index in range(spec.count):
            self._index(spec, index)
            if spec.raw is not None:
                content = str(self.render(spec.raw)).encode()
            else:
                content = orjson.dumps(self._event(spec))
            url = f"{self.target.ft_url}{route.path}"
            response = await self.client.post(url, content=content, headers=headers)
            accepted = response.status_code == 200
            if (spec.expect == "accepted" and not accepted) or (
                spec.expect == "rejected" and accepted
            ):
                message = (
                    f"{spec.type} #{index + 1}: expected {spec.expect}, got {response.status_code}"
                )
                raise Failure(message, _problem_lines(response))
            answer = _json(response)
            if spec.count > 1:
                self.on_progress(index + 1, spec.count)
        self._capture(spec.capture, answer, f"send {spec.type}")

    # -- mock controls -------------------------------------------------------------------

    async def fault(self, spec: FaultStep) -> None:
        """Add a fault rule, or clear them all."""
        url = f"{self.target.ft_url}/_mock/faults"
        control = self.target.control_headers()
        if spec.clear:
            (await self.client.delete(url, headers=control)).raise_for_status()
            self.faults.clear()
            return
        rule = self.render(spec.add)
        body = parse_fault(rule) if isinstance(rule, str) else rule
        response = await self.client.post(url, json=body, headers=control)
        if response.status_code != 201:
            raise Failure(f"the mock refused the fault rule: {_excerpt(response)}")
        self.faults.append(int(response.json()["id"]))

    async def callbacks(self, spec: CallbacksStep) -> None:
        """Load a rule set or a rule, or clear the rules."""
        base = f"{self.target.ft_url}/_mock/callbacks"
        control = self.target.control_headers()
        if spec.clear:
            (await self.client.delete(f"{base}/rules", headers=control)).raise_for_status()
            self.rules.clear()
            return
        if spec.load is not None:
            response = await self.client.post(f"{base}/sets/{spec.load}", headers=control)
        else:
            rule = self.render(spec.rule)
            response = await self.client.post(f"{base}/rules", json=rule, headers=control)
        if response.status_code != 201:
            raise Failure("the mock refused the callback rules", _problem_lines(response))
        loaded = response.json()
        self.rules += [r["id"] for r in loaded.get("data", [loaded])]

    async def expect(self, spec: ExpectStep) -> None:
        """Poll until the expectation holds, or fail with the last diff after `within` s."""
        want = _rendered(self, getattr(spec, spec.kind))
        deadline = time.monotonic() + spec.within
        pause = 0.02
        while True:
            try:
                await check(self.client, self.target, self.window, spec.kind, want)
            except Failure as failure:
                if failure.progress is not None:
                    self.on_progress(*failure.progress)
                if time.monotonic() >= deadline:
                    if spec.within:
                        failure.message += f" (waited {spec.within:g} s)"
                    raise
            else:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)


def _rendered(runner: StepRunner, want: Any) -> Any:
    """An expectation model with its string fields rendered (user ids captured earlier)."""
    if not hasattr(want, "model_dump"):
        return want
    data = runner.render(want.model_dump(by_alias=True))
    return type(want).model_validate(data)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _problem_lines(response: httpx.Response) -> list[str]:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("problems"), list) and body["problems"]:
        return [f"  {p.get('path')}: {p.get('message')}" for p in body["problems"][:10]]
    return [f"  answer: {_excerpt(response)}"]
