"""One verification run: every check, in FT's step order, against a running operator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from mock_ft.errors import OperatorUnreachable
from mock_ft.lookups.auth import TokenError
from mock_ft.tls import client_tls
from mock_ft.verify.bonus import check_bonus_and_session, offered_codes
from mock_ft.verify.checks import (
    check_auth,
    check_consents,
    check_reconciliation,
    check_user_data,
)
from mock_ft.verify.feed import check_event_feed
from mock_ft.verify.latency import judge_latency, measure_latency
from mock_ft.verify.model import CheckResult, Credit, VerifyOptions
from mock_ft.verify.operator import OperatorClient, body_of
from mock_ft.verify.refusals import check_refusals
from mock_ft.verify.resilience import check_resilience

__all__ = ["run_verification"]

Progress = Callable[[str], None]


def run_verification(
    options: VerifyOptions, progress: Progress = lambda _: None
) -> list[CheckResult]:
    """Run every check; OperatorUnreachable when the operator (or its token URL) cannot be used."""
    return asyncio.run(_run(options, progress))


async def _run(options: VerifyOptions, progress: Progress) -> list[CheckResult]:
    results: list[CheckResult] = []
    async with httpx.AsyncClient(timeout=options.timeout_seconds, verify=client_tls()) as client:
        operator = OperatorClient(options, client)
        try:
            await operator.auth.headers(client)  # no token at all: exit 2 before any check
        except TokenError as exc:
            raise OperatorUnreachable(str(exc)) from None
        opt_outs: list[tuple[str, float]] = []
        repeated_ft_ids: list[str] = []  # credited once: the event side checks each
        credits: list[Credit] = []  # each proven (or, FT-invalid, disproven) by the event side
        if options.wants("Authentication"):
            progress("authentication")
            results += await _timed(check_auth(operator, options))
        if options.wants("User data"):
            progress("user data")
            results += await _timed(check_user_data(operator, options))
        if options.wants("Consents"):
            progress("consents")
            started = time.perf_counter()
            consent_results, opt_outs = await check_consents(operator, options)
            results += _stamp(consent_results, started)
        if options.wants("Blocks and reconciliation"):
            progress("reconciliation")
            results += await _timed(check_reconciliation(operator, options))
        if options.wants("Bonus and session"):
            progress("bonus and session")
            started = time.perf_counter()
            bonus_results, ft_id, sent = await check_bonus_and_session(operator, options)
            results += _stamp(bonus_results, started)
            repeated_ft_ids += [ft_id] if ft_id else []
            credits += sent
        if options.wants("Refusals"):
            progress("refusals")
            started = time.perf_counter()
            code, currency = await _credit_values(operator, options)
            refusal_results, sent = await check_refusals(operator, options, code, currency)
            results += _stamp(refusal_results, started)
            credits += sent
        if options.wants("Resilience"):
            progress("resilience")
            started = time.perf_counter()
            resilience_results, resent = await check_resilience(operator, options)
            results += _stamp(resilience_results, started)
            repeated_ft_ids += resent
        if options.wants("Contract (property-based)"):
            from mock_ft.verify.contract import check_contract  # Schemathesis: the `verify` extra

            progress("contract (Schemathesis)")
            started = time.perf_counter()
            operator.auth.forget_token()  # a whole lifetime for Schemathesis' fixed headers
            auth_headers = await operator.auth.headers(client)
            contract = await asyncio.to_thread(check_contract, options, auth_headers)
            results += _stamp(contract, started)
        if options.wants("Latency"):
            progress("latency")
            started = time.perf_counter()
            concurrent = await measure_latency(operator, options)
            results += _stamp(judge_latency(operator.latencies, concurrent, options), started)
        if options.ft_url and options.wants("Event feed"):
            progress("event feed")
            started = time.perf_counter()
            # A client of its own for the mock: only it carries the mock's control token.
            token = options.control_token
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with httpx.AsyncClient(
                timeout=options.timeout_seconds, headers=headers, verify=client_tls()
            ) as mock:
                feed = await check_event_feed(mock, options, opt_outs, repeated_ft_ids, credits)
            results += _stamp(feed, started)
    return results


async def _credit_values(op: OperatorClient, options: VerifyOptions) -> tuple[str, str]:
    """A code the operator offers and the user's currency: a credit valid but for one value."""
    response, _ = await op.call("GET", "/bonus/list", endpoint="bonus/list")
    codes = offered_codes(body_of(response))
    code = options.bonus_code or (codes[0] if codes else "UNKNOWN")
    response, _ = await op.call(
        "GET", f"/userdetails/{options.user_ids[0]}", endpoint="userdetails"
    )
    details = body_of(response)
    currency = details.get("currency") if isinstance(details, dict) else None
    return code, currency if isinstance(currency, str) and currency else "EUR"


async def _timed(checks: Awaitable[list[CheckResult]]) -> list[CheckResult]:
    started = time.perf_counter()
    return _stamp(await checks, started)


def _stamp(results: list[CheckResult], started: float) -> list[CheckResult]:
    """Share the step's elapsed time among its checks (JUnit times, the benchmark's shares)."""
    for result in results:
        result.seconds = (time.perf_counter() - started) / max(1, len(results))
    return results
