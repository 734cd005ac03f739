"""What a journal job gets: the batch's transaction, with its writes held back until COMMIT.

Events, counters, stream-check marks and player state written by the jobs of one batch are kept
here and written with one `executemany` each just before COMMIT (or before a job reads the
tables): a batch of events costs one statement, and a burst for one player one upsert. Likewise the
marks and players the jobs will read, when they say so (`Reads`), are fetched before the first
job with one query per table instead of one per event. Event ids
are assigned here, inside the write transaction, from the table's AUTOINCREMENT sequence, so they
are the ids SQLite would have given and are never reused. Reads see the batch's own writes first.
A rolled-back transaction simply drops its Tx, so nothing half-written survives.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_ft.journal.models import NewEntry
from mock_ft.journal.sql import BUMP, INSERT_EVENT, SET_MARK, SET_USER, SQLITE, Connection, Dialect

__all__ = ["Reads", "Tx", "UserState", "lock_keys"]

Mark = tuple[str | None, int]  # a mark's value and the id of the event that set it


@dataclass(slots=True)
class UserState:
    """A player as the stream checks see it."""

    registered: bool
    last_epoch: float | None
    last_event_id: int | None


def lock_keys(reads: Iterable[Reads]) -> list[int]:
    """The keys `reads` name, as sorted distinct signed 64-bit hashes (advisory lock keys).

    Two keys that share a hash share a lock: they are only checked one after the other.
    """
    names = {f"{kind}\x00{key}" for read in reads for kind, key in read.marks}
    names.update(f"user\x00{user}" for read in reads for user in read.users)
    names.update(f"source\x00{source}" for read in reads for source in read.sources)
    names.update(f"ref\x00{ref}" for read in reads for ref in read.refs)
    return sorted(
        int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)
        for name in names
    )


@dataclass(slots=True)
class Reads:
    """The stream-check state a job will read: marks as (kind, key), and players by user id;
    and the broker deliveries it will look for: Kafka sources (`Tx.covered`), and broker refs
    (`Journal.delivery`), locked so that an instance taking over another's deliveries waits for the
    other's batch to end before it looks; and whether it touches the shared fault rules."""

    marks: list[tuple[str, str]] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    rules: bool = False  # decides or changes the shared fault rules (journal/rules.py)


class Tx:
    """The connection inside one batch's transaction, plus the batch's pending writes."""

    __slots__ = (
        "_conn",
        "_dialect",
        "_dirty_users",
        "_fetched",
        "_found",
        "_later",
        "_marks",
        "_next_id",
        "_offsets",
        "_recorded_id",
        "_rows",
        "_stored",
        "_users",
        "bumps",
        "wrote_events",
    )

    def __init__(self, conn: Connection, dialect: Dialect = SQLITE) -> None:
        self._conn = conn
        self._dialect = dialect
        self._recorded_id = 0  # the highest event id stored as given (PostgreSQL)
        self.bumps: Counter[tuple[str, str]] = Counter()
        self.wrote_events = False  # other writers are told of the commit (Dialect.notify)
        self._next_id = 0  # 0: not read from the sequence yet in this transaction
        self._rows: list[tuple[Any, ...]] = []
        self._marks: dict[tuple[str, str], Mark] = {}
        self._found: dict[tuple[str, str], Mark] = {}  # fetched by `warm`, or written behind
        self._fetched: set[tuple[str, str]] = set()  # every mark `warm` asked for
        self._users: dict[str, UserState | None] = {}
        self._dirty_users: set[str] = set()
        self._offsets: dict[str, int] = {}  # Kafka source: next offset
        self._later: dict[str, list[tuple[Any, ...]]] = {}  # other rows, by their statement
        self._stored: dict[str, int] = {}  # Kafka source: next offset the journal holds

    @property
    def conn(self) -> Connection:
        """The connection, for a job that reads or writes tables itself: held-back writes first."""
        self.write_behind()
        return self._conn

    def next_id(self) -> int:
        """The id the next `insert` in this batch writes its entry under."""
        if not self._next_id:
            self._next_id = int(self._conn.execute(self._dialect.next_event_id).fetchone()[0])
        return self._next_id

    def insert(self, entry: NewEntry) -> int:
        """Add `entry` to the batch, count it, and return the id it is written under."""
        event_id = self._next_id or self.next_id()
        self.wrote_events = True
        self._next_id = event_id + 1
        self._rows.append(
            (
                event_id,
                entry.received_at,
                entry.transport,
                entry.method,
                entry.path,
                entry.event_type,
                entry.user_id,
                entry.verdict,
                entry.status_code,
                entry.error_code,
                entry.payload,
                orjson.dumps(entry.headers).decode(),
                _problems(entry.errors) if entry.errors else "[]",
                _problems(entry.warnings) if entry.warnings else "[]",
                entry.event_timestamp,
                entry.latency_ms,
                entry.idempotency_key,
                entry.duplicate_of,
                None if entry.fault is None else orjson.dumps(entry.fault).decode(),
                entry.broker_ref,
            )
        )
        if entry.offset is not None:
            source, offset = entry.offset
            self._offsets[source] = max(offset + 1, self._offsets.get(source, 0))
        bumps = self.bumps
        bumps["verdict", entry.verdict] += 1
        bumps["type", entry.event_type or "?"] += 1
        bumps["transport", entry.transport] += 1
        if entry.error_code:
            bumps["error", entry.error_code] += 1
        for warning in entry.warnings:
            bumps["warning", warning.code] += 1
        result: int = event_id
        return result

    def later(self, sql: str, row: tuple[Any, ...]) -> None:
        """Write `row` with `sql` at the end of the batch, in one executemany per statement."""
        rows = self._later.get(sql)
        if rows is None:
            self._later[sql] = [row]
        else:
            rows.append(row)

    def warm(self, reads: Iterable[Reads]) -> None:
        """Fetch what the batch's jobs will read: one query per kind of mark, one for players.

        With several writers (PostgreSQL) the keys are locked first, until COMMIT: what is read
        then is what the last writer of each key committed, and stays so for this batch.

        Only what was found is kept as such; every key asked for is remembered as fetched, so a
        mark or player found missing is not queried again in this batch.
        """
        reads = list(reads)
        if self._dialect.lock_keys is not None and reads:
            hashes = lock_keys(reads)
            if hashes:
                self._conn.execute(self._dialect.lock_keys, (hashes,))
            if self._dialect.lock_rules is not None and any(read.rules for read in reads):
                self._conn.execute(self._dialect.lock_rules)
        sources = {source for read in reads for source in read.sources}
        if sources:
            self._fetch_offsets(sources)
        by_kind: dict[str, list[str]] = {}
        users: list[str] = []
        for read in reads:
            for kind, key in read.marks:
                if kind in by_kind:
                    by_kind[kind].append(key)
                else:
                    by_kind[kind] = [key]
            users += read.users
        conn = self._conn
        found = self._found
        for kind, keys in by_kind.items():
            self._fetched.update(zip([kind] * len(keys), keys, strict=True))
            rows = conn.execute(self._dialect.warm_marks, (orjson.dumps(keys).decode(), kind))
            found.update(((kind, key), (value, eid)) for key, value, eid in rows)
        wanted = set(users).difference(self._users)
        if wanted:
            self._users.update(dict.fromkeys(wanted))  # None: known to be absent
            rows = conn.execute(self._dialect.warm_users, (orjson.dumps(list(wanted)).decode(),))
            self._users.update((row[0], UserState(bool(row[1]), row[2], row[3])) for row in rows)

    def _fetch_offsets(self, sources: Iterable[str]) -> None:
        sql = "SELECT next_offset FROM broker_offsets WHERE source = ?"
        for source in [s for s in sources if s not in self._stored]:
            row = self._conn.execute(sql, (source,)).fetchone()
            self._stored[source] = 0 if row is None else int(row[0])

    def covered(self, source: str, offset: int) -> bool:
        """True when the journal already holds Kafka record `offset` of `source`: another
        instance journaled it before the partition moved here (fetch its source with `Reads`
        first, so that it is locked)."""
        self._fetch_offsets((source,))
        return offset < max(self._stored[source], self._offsets.get(source, 0))

    def mark(self, kind: str, key: str) -> Mark | None:
        """A stream-check mark: (value, id of the event that set it), or None."""
        wanted = (kind, key)
        known = self._marks.get(wanted) or self._found.get(wanted)
        if known is not None or wanted in self._fetched:
            return known
        row = self._conn.execute(
            "SELECT value, event_id FROM marks WHERE kind = ? AND key = ?", wanted
        ).fetchone()
        return (row[0], row[1]) if row else None

    def set_mark(self, kind: str, key: str, value: str | None, event_id: int) -> None:
        """Set a mark at the end of this batch."""
        self._marks[kind, key] = (value, event_id)

    def user(self, user_id: str) -> UserState | None:
        """What the checks know of a player (read once per batch)."""
        if user_id not in self._users:
            row = self._conn.execute(
                "SELECT registered, last_epoch, last_event_id FROM users WHERE user_id = ?",
                (user_id,),
            ).fetchone()
            self._users[user_id] = UserState(bool(row[0]), row[1], row[2]) if row else None
        return self._users[user_id]

    def set_user(self, user_id: str, state: UserState) -> None:
        """Record a player's state at the end of this batch."""
        self._users[user_id] = state
        self._dirty_users.add(user_id)

    def forget_state(self) -> None:
        """Drop what the checks know (after a reset in the same batch); pending events stay."""
        self._marks.clear()
        self._found.clear()  # what `warm` fetched may stay `_fetched`: after a reset it is absent
        self._users.clear()
        self._dirty_users.clear()
        self.bumps.clear()

    def write_behind(self) -> None:
        """Write what the batch holds back; called before COMMIT and before a job reads tables."""
        conn = self._conn
        if self._rows:
            conn.executemany(INSERT_EVENT, self._rows)
            self._rows.clear()
            record = self._dialect.record_event_id
            if record is not None and self._next_id - 1 > self._recorded_id:
                self._recorded_id = self._next_id - 1
                conn.execute(record, (self._recorded_id,))
        if self._marks:
            conn.executemany(
                SET_MARK, [(k, key, v, eid) for (k, key), (v, eid) in self._marks.items()]
            )
            self._found.update(self._marks)  # what was fetched before them must not win
            self._marks.clear()
        if self._dirty_users:
            rows = []
            for user_id in self._dirty_users:
                state = self._users[user_id]
                assert state is not None  # noqa: S101 - set_user stored it
                rows.append((user_id, int(state.registered), state.last_epoch, state.last_event_id))
            conn.executemany(SET_USER, rows)
            self._dirty_users.clear()
        if self._offsets:
            conn.executemany(self._dialect.set_offset, list(self._offsets.items()))
            for source, offset in self._offsets.items():
                if source in self._stored:
                    self._stored[source] = max(offset, self._stored[source])
            self._offsets.clear()
        if self._later:
            for sql, rows in self._later.items():
                conn.executemany(sql, rows)
            self._later.clear()
        if self.bumps:
            conn.executemany(BUMP, [(k, key, n) for (k, key), n in self.bumps.items()])
            self.bumps.clear()


def _problems(problems: list[Any]) -> str:
    return orjson.dumps([p.to_dict() for p in problems]).decode()
