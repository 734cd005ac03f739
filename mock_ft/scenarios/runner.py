"""Replays scenarios against a target, step by step, with live progress and per-step timing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from rich.console import Console

from mock_ft.errors import MockUnreachable, TemplateError
from mock_ft.scenarios.checks import Failure, Window
from mock_ft.scenarios.loader import Scenario
from mock_ft.scenarios.output import Reporter, summary
from mock_ft.scenarios.spec import StepSpec
from mock_ft.scenarios.steps import StepRunner
from mock_ft.scenarios.target import Target
from mock_ft.scenarios.templating import FakerProxy
from mock_ft.tls import client_tls

__all__ = ["ScenarioResult", "StepResult", "replay", "summary"]

Status = Literal["passed", "failed", "skipped", "not run"]
_REQUIREMENT_HINTS = {
    "operator": "pass --operator-url, or use --stack local",
    "rabbitmq": "pass --rabbitmq-url (the local stack uses a RabbitMQ on 127.0.0.1:5672 if up)",
    "kafka": "pass --kafka-bootstrap",
}


@dataclass(slots=True)
class StepResult:
    """How one top-level step went."""

    label: str
    kind: str
    status: Status
    seconds: float = 0.0
    message: str = ""
    diff: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ScenarioResult:
    """How one scenario went."""

    name: str
    path: str
    description: str
    tags: list[str]
    seed: int
    status: Status = "passed"
    reason: str = ""
    seconds: float = 0.0
    steps: list[StepResult] = field(default_factory=list)


def _label(number: str, step: StepSpec) -> str:
    return f"{number} {step.name or step.kind}"


async def replay(
    scenarios: Sequence[Scenario],
    target: Target,
    console: Console,
    *,
    seed: int | None = None,
    fail_fast: bool = False,
    verbosity: int = 1,
) -> list[ScenarioResult]:
    """Run each scenario in turn; a failed step ends its scenario (later steps depend on it).

    `verbosity` as `mock-ft replay`'s: -1 quiet, 0 a line per scenario, 1 every step.
    """
    results: list[ScenarioResult] = []
    reporter = Reporter(console, verbosity)
    async with httpx.AsyncClient(timeout=30, verify=client_tls()) as client:
        await _reachable(client, target)
        for scenario in scenarios:
            result = await _run_one(client, target, scenario, reporter, seed)
            results.append(result)
            if fail_fast and result.status == "failed":
                break
    return results


async def _reachable(client: httpx.AsyncClient, target: Target) -> None:
    try:
        (await client.get(f"{target.ft_url}/_mock/health")).raise_for_status()
    except httpx.HTTPError as exc:
        msg = f"cannot reach the mock at {target.ft_url} ({type(exc).__name__}); is it running?"
        raise MockUnreachable(msg) from None


async def _newest_event(client: httpx.AsyncClient, target: Target) -> int:
    url = f"{target.ft_url}/_mock/events"
    response = await client.get(
        url, params={"order": "desc", "limit": 1}, headers=target.control_headers()
    )
    response.raise_for_status()
    data = response.json()["data"]
    return int(data[0]["id"]) if data else 0


async def _run_one(
    client: httpx.AsyncClient,
    target: Target,
    scenario: Scenario,
    reporter: Reporter,
    seed: int | None,
) -> ScenarioResult:
    spec = scenario.spec
    chosen = spec.seed if spec.seed is not None else (seed or 0)
    result = ScenarioResult(spec.name, str(scenario.path), spec.description, spec.tags, chosen)
    reporter.scenario_started(spec.name, str(scenario.path))
    missing = [need for need in spec.requires if not target.has(need)]
    if missing:
        result.status = "skipped"
        result.reason = f"needs {missing[0]}: {_REQUIREMENT_HINTS[missing[0]]}"
        reporter.scenario_done(result)
        return result
    started = time.perf_counter()
    window = Window(await _newest_event(client, target))
    # run_id differs on every run (unlike Faker's seeded values): ids a mock must not see twice.
    run_id = uuid.uuid4().hex[:12]
    variables: dict[str, Any] = {"faker": FakerProxy(chosen), "index": 0, "run_id": run_id}
    runner = StepRunner(client, target, variables, window)
    try:
        for name, value in spec.variables.items():
            variables[name] = runner.render(value)
        for number, step in enumerate(spec.steps, start=1):
            with reporter.progress(_label(str(number), step)) as progress:
                runner.on_progress = progress
                outcome = await _run_step(runner, step, str(number))
            result.steps.append(outcome)
            reporter.step_done(outcome)
            if outcome.status == "failed":
                result.status = "failed"
                result.steps += [
                    StepResult(_label(str(n), s), s.kind, "not run")
                    for n, s in enumerate(spec.steps[number:], start=number + 1)
                ]
                break
    except TemplateError as exc:
        result.status = "failed"
        result.reason = exc.message
        reporter.template_failed(exc.message)
    finally:
        await runner.close()
    result.seconds = round(time.perf_counter() - started, 3)
    reporter.scenario_done(result)
    return result


async def _run_step(runner: StepRunner, step: StepSpec, number: str) -> StepResult:
    outcome = StepResult(_label(number, step), step.kind, "passed")
    started = time.perf_counter()
    try:
        await _execute(runner, step, number)
    except Failure as failure:
        outcome.status, outcome.message, outcome.diff = "failed", failure.message, failure.diff
    except TemplateError as exc:
        outcome.status, outcome.message = "failed", exc.message
    except httpx.HTTPError as exc:
        outcome.status = "failed"
        outcome.message = f"the mock or operator did not answer: {type(exc).__name__}: {exc}"
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


async def _execute(runner: StepRunner, step: StepSpec, number: str) -> None:
    if step.operator is not None:
        await runner.operator(step.operator)
    elif step.send is not None:
        await runner.send(step.send)
    elif step.fault is not None:
        await runner.fault(step.fault)
    elif step.callbacks is not None:
        await runner.callbacks(step.callbacks)
    elif step.wait is not None:
        await asyncio.sleep(step.wait)
    elif step.expect is not None:
        await runner.expect(step.expect)
    elif step.repeat is not None:
        for index in range(step.repeat.times):
            for inner_number, inner in enumerate(step.repeat.steps, start=1):
                runner.variables["index"] = index
                try:
                    await _execute(runner, inner, f"{number}.{inner_number}")
                except Failure as failure:
                    where = f"{_label(f'{number}.{inner_number}', inner)}, iteration {index + 1}"
                    failure.message = f"{where}: {failure.message}"
                    raise
