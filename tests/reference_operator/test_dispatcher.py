"""Retry timing rules of the dispatcher, and how it writes outcomes."""

from __future__ import annotations

import asyncio
import email.utils
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from reference_operator.db import Database
from reference_operator.ft.dispatcher import _DELIVERED, Dispatcher, retry_after_seconds
from reference_operator.settings import OperatorSettings


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0", 0.0), ("100000", 300.0), (None, None), ("", None), ("soon", None)],
)
def test_read_retry_after_seconds(value: str | None, expected: float | None) -> None:
    """Delta-seconds are honoured (capped at 5 minutes); garbage is ignored."""
    assert retry_after_seconds(value, now=1000.0) == expected


def test_read_retry_after_http_date() -> None:
    """An HTTP-date is turned into the seconds left until it."""
    now = 1_800_000_000.0
    value = email.utils.formatdate(now + 7, usegmt=True)
    assert retry_after_seconds(value, now) == pytest.approx(7, abs=1)
    past = email.utils.formatdate(now - 60, usegmt=True)
    assert retry_after_seconds(past, now) == 0.0


def test_back_off_exponentially_with_jitter() -> None:
    """Each delay lies between half and all of base x 2^(attempt-1), capped at the maximum."""
    settings = OperatorSettings(database=":memory:", retry_base_seconds=0.1, retry_max_seconds=1.0)
    dispatcher = Dispatcher(Database(":memory:"), settings, httpx.AsyncClient())
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [dispatcher._backoff(attempt) for _ in range(200)]
        assert ceiling / 2 <= min(delays)
        assert max(delays) <= ceiling
        assert len(set(delays)) > 100  # jittered, not fixed


class _CountingDatabase(Database):
    """The real database, counting its write transactions."""

    commits = 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with super().transaction() as conn:
            yield conn
        self.commits += 1


def test_commit_outcomes_arriving_together_in_one_transaction() -> None:
    """Attempts that end together cost one commit, and each waits until its outcome is written."""
    db = _CountingDatabase(":memory:")
    with db.transaction() as conn:
        for user in ("a", "b", "c"):
            conn.execute(
                "INSERT INTO outbox (user_id, event_type, method, path, payload, created_at, "
                "due_at) VALUES (?, 'LOGIN_V2', 'POST', '/v2/integration/login', '{}', 0, 0)",
                (user,),
            )
    settings = OperatorSettings(database=":memory:")
    dispatcher = Dispatcher(db, settings, httpx.AsyncClient())
    db.commits = 0

    async def deliver_all() -> None:
        recorder = asyncio.create_task(dispatcher._record_outcomes())
        await asyncio.gather(*(dispatcher._record(_DELIVERED, (1.0, i)) for i in (1, 2, 3)))
        recorder.cancel()

    asyncio.run(deliver_all())
    with db.read() as conn:
        delivered = conn.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at = 1.0")
        assert delivered.fetchone()[0] == 3
    assert db.commits == 1
