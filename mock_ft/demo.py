"""`mock-ft demo`: everything on embedded defaults, in one command.

Starts the local stack (the mock in this process, the reference operator as a child process,
RabbitMQ when one answers locally, Kafka when given), seeds players through the operator,
verifies the operator the way FT will, replays the scenario library, sends one sample of every
event type plus typical mistakes, prints a scorecard, and leaves the mock and its dashboard
running until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from rich.console import Console
from rich.table import Table

from mock_ft.terminal import human_ms, human_seconds
from mock_ft.tls import client_tls

if TYPE_CHECKING:
    from mock_ft.scenarios.target import Target

__all__ = ["run_demo"]

_REPORTS = Path(".mock-ft/reports")
_FT_TARGET_MS = 1000.0  # FT's freshness target: an event within 1 s of its timestamp


def _bad_events() -> list[tuple[str, bytes, dict[str, str]]]:
    """Typical mistakes: wrong enum case, missing fields, broken JSON, missing key."""
    from mock_ft.settings import DEFAULT_API_KEY

    json_headers = {"X-API-Key": DEFAULT_API_KEY, "Content-Type": "application/json"}
    return [
        (
            "/v1/integration/payment",
            b'{"user_id": "7001", "payment_id": "pay-9", "amount": -5, "currency": "EUR",'
            b' "status": "approved", "type": "Credit", "vendor_id": 1, "origin": "x",'
            b' "timestamp": "20150302"}',
            json_headers,
        ),
        ("/v2/integration/login", b'{"user_id": "7001",', json_headers),
        ("/v2/integration/login", b"{}", {"Content-Type": "application/json"}),
    ]


def run_demo(
    journal_path: str,
    console: Console,
    reports: Path = _REPORTS,
    *,
    p95_budget_ms: float = 500.0,
    event_wait_seconds: float = 1.5,
    scenarios: str | None = None,
    kafka_bootstrap: str | None = None,
    keep_running: bool = True,
) -> int:
    """Run the demo; 0 when verification, the scenarios and every sample went as they should."""
    # At once, before anything slow: the stack takes seconds to start, the run about a minute.
    console.print(
        "[bold]mock-ft demo[/]: starting the mock and the reference operator, then verification, "
        "the scenario library and a sample of every event (about a minute)..."
    )
    from mock_ft.reference import library_dir
    from mock_ft.scenarios.stack import local_stack

    if scenarios is None:
        scenarios = str(library_dir())
    if journal_path != ":memory:":
        Path(journal_path).unlink(missing_ok=True)
    started = time.monotonic()
    with local_stack(journal=journal_path, kafka_bootstrap=kafka_bootstrap) as target:
        console.print(
            f"[bold]mock-ft demo[/]: mock {target.ft_url} (dashboard {target.ft_url}/ui), "
            f"reference operator {target.operator_url}, journal {journal_path}"
        )
        users, sid = _seed(target, console)
        timing = (p95_budget_ms, event_wait_seconds)
        verified = _verify(target, users, sid, reports, timing, console)
        replayed = _replay(target, scenarios, reports, console)
        samples_ok = _samples(target, console)
        _scorecard(console, target, verified, replayed, samples_ok, reports, started)
        if keep_running:
            console.print(
                f"\n[bold]The mock and its dashboard keep running: {target.ft_url}/ui[/] "
                "(Ctrl-C to stop; `mock-ft demo --exit` stops after the run)"
            )
            _wait_for_interrupt()
    return 0 if verified and replayed is not False and samples_ok else 1


_SEED_WAIT_SECONDS = 60.0  # for the seeded players' events to be published and looked up


def _seed(target: Target, console: Console) -> tuple[list[str], str]:
    """Three players live a little through the operator: registration, login, money, games."""
    base = f"{target.operator_url}/platform/players"
    users = []
    with httpx.Client(timeout=10, verify=client_tls()) as client:
        for amount in (25, 40, 60):
            user = client.post(base, json={}).json()["user_id"]
            client.post(f"{base}/{user}/login")
            client.post(f"{base}/{user}/deposits", json={"amount": amount})
            client.post(f"{base}/{user}/casino/bets", json={"amount": 2.5})
            client.post(f"{base}/{user}/withdrawals", json={"amount": 5})
            users.append(user)
        sid = client.post(f"{base}/{users[0]}/login").json()["sid"]
        deadline = time.monotonic() + _SEED_WAIT_SECONDS  # published, then looked up
        while time.monotonic() < deadline:
            if client.get(f"{target.operator_url}/platform/outbox").json()["pending"] == 0:
                break
            time.sleep(0.05)
        client.get(f"{target.ft_url}/_mock/idle", params={"timeout": _SEED_WAIT_SECONDS})
    console.print(f"seeded players {', '.join(users)} through the reference operator")
    return users, sid


def _verify(
    target: Target,
    users: list[str],
    sid: str,
    reports: Path,
    timing: tuple[float, float],
    console: Console,
) -> bool:
    from mock_ft.settings import load_client_settings
    from mock_ft.verify import VerifyOptions, run_verification
    from mock_ft.verify.report import post_run, print_summary, write_reports

    # The stack's operator and mock, as flags over whatever MOCK_FT_* says.
    settings = load_client_settings(
        operator_url=target.operator_url,
        operator_auth=target.operator_auth,
        control_token=target.control_token,
    )
    options = VerifyOptions.from_settings(
        settings,
        users[:2],
        ft_url=target.ft_url,
        sid=sid,
        p95_budget_ms=timing[0],
        event_wait_seconds=timing[1],
    )
    console.print("\n[bold]verifying the reference operator the way FT will[/]")
    started = time.perf_counter()
    results = run_verification(options)
    print_summary(console, results, time.perf_counter() - started)
    write_reports(reports, options, results)
    post_run(target.ft_url, "verify", reports / "report.json", options.control_token)
    return all(r.passed for r in results)


def _replay(target: Target, folder: str | None, reports: Path, console: Console) -> bool | None:
    from mock_ft.scenarios import load_scenarios, replay
    from mock_ft.scenarios.report import write_replay_reports
    from mock_ft.verify.report import post_run

    if not folder or not Path(folder).is_dir():
        console.print(f"[dim]no scenario folder {folder!r}: the replay is left out[/]")
        return None
    console.print(f"\n[bold]replaying the scenario library ({folder})[/]")
    results = asyncio.run(replay(load_scenarios([folder]), target, console, verbosity=0))
    write_replay_reports(reports, target, results)
    post_run(target.ft_url, "replay", reports / "replay.json")
    return not any(r.status == "failed" for r in results)


def _samples(target: Target, console: Console) -> bool:
    """One sample of every event type, then typical mistakes; each must get its verdict."""
    from mock_ft.samples import ft_timestamp, sample_events
    from mock_ft.settings import DEFAULT_API_KEY

    wrong = 0
    with httpx.Client(base_url=target.ft_url, timeout=10, verify=client_tls()) as client:
        newest = client.get("/_mock/events", params={"order": "desc", "limit": 1}).json()["data"]
        after = newest[0]["id"] if newest else 0
        for route, payload in sample_events():
            if "timestamp" in payload:  # stamped at send time, so latency is the real delivery time
                payload["timestamp"] = ft_timestamp()
            answer = client.request(
                route.method, route.path, json=payload, headers={"X-API-Key": DEFAULT_API_KEY}
            )
            wrong += answer.status_code != 200
        for path, body, headers in _bad_events():
            wrong += client.post(path, content=body, headers=headers).status_code == 200
        events = client.get("/_mock/events", params={"limit": 1000, "after_id": after}).json()[
            "data"
        ]
    console.print()
    console.print(_table(events))
    if wrong:
        console.print(f"[bold red]{wrong} sample(s) got an unexpected verdict[/]")
    return wrong == 0


def _scorecard(
    console: Console,
    target: Target,
    verified: bool,
    replayed: bool | None,
    samples_ok: bool,
    reports: Path,
    started: float,
) -> None:
    stats = httpx.get(f"{target.ft_url}/_mock/stats", verify=client_tls()).json()
    by_verdict = stats["by_verdict"]
    table = Table(title="mock-ft demo: scorecard")
    table.add_column("part")
    table.add_column("result")
    table.add_column("where")
    table.add_row(
        "go-live verification", _mark(verified, "READY", "NOT READY"), str(reports / "report.html")
    )
    if replayed is not None:
        document = httpx.get(
            f"{target.ft_url}/_mock/runs",
            params={"kind": "replay", "limit": 1},
            verify=client_tls(),
        ).json()
        counts = document["data"][0]["document"]["counts"] if document["data"] else {}
        line = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("passed", "failed", "skipped"))
        table.add_row("scenario library", _mark(replayed, line, line), str(reports / "replay.html"))
    table.add_row(
        "event samples",
        _mark(samples_ok, "every verdict as expected", "unexpected verdicts"),
        f"{by_verdict.get('accepted', 0)} accepted, {by_verdict.get('rejected', 0)} rejected "
        "in the journal",
    )
    p99 = stats["latency_ms"]["p99"]
    table.add_row("dashboard", f"{target.ft_url}/ui", f"p99 delivery latency {human_ms(p99)}")
    console.print()
    console.print(table)
    if p99 is not None and p99 > _FT_TARGET_MS:
        console.print(_latency_note(target, p99, stats["by_transport"]))
    console.print(f"demo run took {human_seconds(time.monotonic() - started)}")


def _latency_note(target: Target, p99: float, transports: dict[str, int]) -> str:
    """Why the demo's p99 is past FT's 1 s target, per transport, so it is not read as a pass."""
    each = []
    for transport in sorted(transports):
        report = httpx.get(
            f"{target.ft_url}/_mock/delivery",
            params={"transport": transport},
            timeout=30,
            verify=client_tls(),
        ).json()
        each.append(f"{transport} {human_ms(report['latency_ms']['p99'])}")
    return (
        f"[yellow]note[/]: p99 delivery latency {human_ms(p99)} is above FT's 1 s target "
        f"(p99 by transport: {', '.join(each)}). The demo causes it on purpose: the volume "
        "scenarios publish 2,000 events as fast as they can, faster than one machine drains "
        "them, and the fault scenarios make events arrive late (a retry after 429 and "
        "Retry-After, an answer held past the publisher's patience). Measure your own "
        "publisher at its real rate: `mock-ft delivery`, or the dashboard's charts."
    )


def _mark(ok: bool, good: str, bad: str) -> str:
    return f"[green]{good}[/]" if ok else f"[bold red]{bad}[/]"


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        return


def _table(events: list[dict[str, Any]]) -> Table:
    table = Table(title="Samples of every event type, and typical mistakes")
    table.add_column("#", justify="right")
    table.add_column("event type")
    table.add_column("user")
    table.add_column("answer")
    table.add_column("latency", justify="right")
    table.add_column("first problem", overflow="fold")
    for event in events:
        problems = event["errors"] or event["warnings"]
        detail = f"{problems[0]['path']}: {problems[0]['message']}" if problems else ""
        if len(problems) > 1:
            detail += f" (+{len(problems) - 1} more)"
        colour = "green" if event["verdict"] == "accepted" else "red"
        latency = event["latency_ms"]
        table.add_row(
            str(event["id"]),
            event["event_type"] or "-",
            event["user_id"] or "-",
            f"[{colour}]{event['status_code']} {event['error_code'] or 'accepted'}[/]",
            human_ms(latency),
            detail,
        )
    return table
