"""`mock-ft demo`: the mock on embedded defaults, fed one sample of every event type, then the
reference operator (a separate process, over the wire) integrated with it and verified."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.errors import ConfigError
from mock_ft.samples import ft_timestamp, sample_events
from mock_ft.settings import DEFAULT_API_KEY, Settings

__all__ = ["run_demo"]

_OPERATOR_KEY = "demo-operator-key"
_REPORTS = Path(".mock-ft/reports")


def _bad_events() -> list[tuple[str, str, bytes, dict[str, str]]]:
    """Typical mistakes: wrong enum case, missing fields, broken JSON, missing key."""
    json_headers = {"X-API-Key": DEFAULT_API_KEY, "Content-Type": "application/json"}
    return [
        (
            "POST",
            "/v1/integration/payment",
            b'{"user_id": "7001", "payment_id": "pay-9", "amount": -5, "currency": "eur",'
            b' "status": "approved", "type": "Credit", "vendor_id": 1, "origin": "x",'
            b' "timestamp": "20150302"}',
            json_headers,
        ),
        ("POST", "/v2/integration/login", b'{"user_id": "7001",', json_headers),
        ("POST", "/v2/integration/login", b"{}", {"Content-Type": "application/json"}),
    ]


def run_demo(
    journal_path: str, console: Console, reports: Path = _REPORTS, *, p95_budget_ms: float = 500.0
) -> int:
    """Run the demo; exit code 0 when every sample got its verdict and verification passed."""
    if journal_path != ":memory:":
        Path(journal_path).unlink(missing_ok=True)
    operator_port = _free_port()
    settings = Settings(
        journal=journal_path,
        port=0,
        operator_url=f"http://127.0.0.1:{operator_port}",
        operator_auth=f"api-key:{_OPERATOR_KEY}",
    )
    failures = 0
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        console.print(
            f"[bold]mock-ft demo[/]: mock running at {server.url}, journal {journal_path}"
        )
        for route, payload in sample_events():
            if "timestamp" in payload:  # stamped at send time, so latency is the real delivery time
                payload["timestamp"] = ft_timestamp()
            answer = client.request(
                route.method, route.path, json=payload, headers={"X-API-Key": DEFAULT_API_KEY}
            )
            failures += answer.status_code != 200
        for method, path, body, headers in _bad_events():
            answer = client.request(method, path, content=body, headers=headers)
            failures += answer.status_code == 200
        events = client.get("/_mock/events", params={"limit": 1000}).json()["data"]
        stats = client.get("/_mock/stats").json()
        console.print(_table(events))
        console.print(
            f"{stats['by_verdict'].get('accepted', 0)} accepted, "
            f"{stats['by_verdict'].get('rejected', 0)} rejected; "
            f"p99 delivery latency {stats['latency_ms']['p99']} ms. "
            "Run `mock-ft serve` and point your publisher at it."
        )
        if failures:
            console.print(f"[bold red]{failures} event(s) got an unexpected verdict[/]")
        client.post("/_mock/reset")  # the operator part starts from a clean journal
        verified = _operator_part(console, server.url, operator_port, reports, p95_budget_ms)
    return 1 if failures or not verified else 0


def _operator_part(
    console: Console, mock_url: str, port: int, reports: Path, p95_budget_ms: float
) -> bool:
    """Start the reference operator against the mock, play a player's life, verify it all."""
    from mock_ft.verify import VerifyOptions, run_verification
    from mock_ft.verify.report import print_summary, write_reports

    console.print(f"\n[bold]reference operator[/] on port {port}, publishing to the mock")
    database = Path(tempfile.mkdtemp(prefix="mock-ft-demo-")) / "platform.sqlite3"
    command = [
        sys.executable, "-m", "reference_operator", "serve", "--port", str(port),
        "--database", str(database), "--ft-url", mock_url, "--api-key", _OPERATOR_KEY,
        "--players", "2",
    ]  # fmt: skip
    with subprocess.Popen(command, stderr=subprocess.DEVNULL) as process:  # noqa: S603 - our own CLI
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(base)
            user = httpx.post(f"{base}/platform/players").json()["user_id"]
            sid = httpx.post(f"{base}/platform/players/{user}/login").json()["sid"]
            httpx.post(f"{base}/platform/players/{user}/deposits", json={"amount": 25})
            time.sleep(1.0)  # published within a second, looked up by the mock
            options = VerifyOptions(
                operator_url=base,
                auth=f"api-key:{_OPERATOR_KEY}",
                user_ids=[user, "100001"],
                ft_url=mock_url,
                sid=sid,
                p95_budget_ms=p95_budget_ms,
            )
            results = run_verification(options)
        finally:
            process.terminate()
    print_summary(console, results)
    html = write_reports(reports, options, results)
    console.print(f"go-live scorecard: {html.resolve()}")
    return all(r.passed for r in results)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    msg = f"the reference operator did not start at {base}"
    raise ConfigError(msg)


def _table(events: list[dict[str, Any]]) -> Table:
    table = Table(title="What the journal recorded")
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
            "-" if latency is None else f"{latency:.1f} ms",
            detail,
        )
    return table
