"""The /authenticate checks say what the operator did: refused, accepted, or never answered."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from mock_ft.verify import CheckResult, VerifyOptions
from mock_ft.verify.bonus import check_bonus_and_session
from mock_ft.verify.operator import OperatorClient

INVALID_SID = "authenticate refuses an invalid sid"


class _HangsUpOnAuthenticate(BaseHTTPRequestHandler):
    """An operator that answers the bonus calls and hangs up on /authenticate without a word."""

    def do_GET(self) -> None:
        body = b'{"Data": []}' if self.path == "/bonus/list" else b'{"currency": "EUR"}'
        self._answer(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/authenticate":
            self.close_connection = True
            self.connection.close()  # no status line at all
            return
        self._answer(b"{}")

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _operator() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HangsUpOnAuthenticate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _checks(operator_url: str) -> list[CheckResult]:
    options = VerifyOptions(operator_url, "api-key:k", ["7001"])

    async def run() -> list[CheckResult]:
        async with httpx.AsyncClient(timeout=10) as client:
            results, _, _ = await check_bonus_and_session(OperatorClient(options, client), options)
            return results

    return asyncio.run(run())


def test_report_no_answer_to_invalid_sid() -> None:
    """An /authenticate that hangs up fails the check, saying no answer came (not "200")."""
    with _operator() as url:
        results = _checks(url)
    [check] = [r for r in results if r.name == INVALID_SID]
    assert check.evidence[0].status is None
    assert not check.passed
    assert "200" not in check.message
    assert "no answer" in check.message
