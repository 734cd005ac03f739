"""Fault and callback rules kept in a PostgreSQL journal, shared by every instance writing it.

The rules are stored as posted (their JSON); a rule change bumps `rules_state.generation` in its
own transaction and sends `NOTIFY mock_ft_rules` (delivered at COMMIT), so each instance reloads
the set and records the generation it holds in its `instances` row. The instance that made the
change waits until every instance whose lease runs holds it (`lagging`): once a control call
has answered, every instance acts on the new rules, and the ingest path costs nothing extra.

A fault rule's counters live in its row: `decide` counts there, so `times: 3` fails three
attempts across the cluster. The seeded probability draws are numbered in `rules_state`. Every
batch that decides or changes rules takes `rules_state`'s lock first (`RULES`), then rule rows
in ascending id order: two instances' batches never hold what the other waits for (they did,
and PostgreSQL broke the cycle with "deadlock detected"). SQLite keeps its rules in memory.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mock_ft.journal.tx import Reads, Tx

__all__ = [
    "RULES",
    "RULES_CHANNEL",
    "Candidate",
    "RuleSet",
    "add_callbacks",
    "add_fault",
    "clear_callbacks",
    "clear_faults",
    "decide",
    "lagging",
    "load",
    "remove_callback",
    "remove_fault",
    "seed_or_join",
]

RULES_CHANNEL = "mock_ft_rules"
# What every job that decides or changes the fault rules is run with (`Journal.run(job, RULES)`):
# its batch locks `rules_state` before anything else, so no two batches wait for each other.
RULES = Reads(rules=True)
_STATE = "UPDATE rules_state SET generation = generation + 1{extra} WHERE name = 'rules' "
_BUMP = _STATE.format(extra="") + "RETURNING generation"


@dataclass(frozen=True, slots=True)
class StoredFault:
    """A fault rule's row: its FaultSpec fields as JSON and its counters."""

    id: int
    spec: str
    times: int | None
    hits: int


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every shared rule at one generation; `resets` counts the journal's resets."""

    generation: int
    resets: int
    faults: list[StoredFault]
    callbacks: list[tuple[str, str]]  # (rule id, its spec as JSON), in the order loaded


def bump(tx: Tx, *, reset: bool = False) -> int:
    """Mark a change of the rules (or a reset) and tell the other instances; the generation."""
    sql = _STATE.format(extra=", resets = resets + 1") + "RETURNING generation" if reset else _BUMP
    generation = int(tx.conn.execute(sql).fetchone()[0])
    tx.conn.execute(f"NOTIFY {RULES_CHANNEL}")
    return generation


def load(tx: Tx) -> RuleSet:
    """Job: the rules as they stand, with their generation."""
    generation, resets = tx.conn.execute(
        "SELECT generation, resets FROM rules_state WHERE name = 'rules'"
    ).fetchone()
    faults = [
        StoredFault(int(r[0]), r[1], None if r[2] is None else int(r[2]), int(r[3]))
        for r in tx.conn.execute("SELECT id, spec, times, hits FROM fault_rules ORDER BY id")
    ]
    callbacks = [
        (r[0], r[1])
        for r in tx.conn.execute("SELECT id, spec FROM callback_rules ORDER BY position")
    ]
    return RuleSet(int(generation), int(resets), faults, callbacks)


def acknowledge(tx: Tx, instance: str, generation: int) -> None:
    """Record that `instance` acts on the rules of `generation` (never moving back)."""
    tx.conn.execute(
        "UPDATE instances SET rules_generation = GREATEST(rules_generation, ?) WHERE id = ?",
        (generation, instance),
    )


def lagging(generation: int) -> Callable[[Tx], int]:
    """Job: how many running instances do not act on `generation` yet."""

    def job(tx: Tx) -> int:
        row = tx.conn.execute(
            "SELECT count(*) FROM instances WHERE lease_until >= ? AND rules_generation < ?",
            (time.time(), generation),
        ).fetchone()
        return int(row[0])

    return job


def seed_or_join(
    instance: str,
    faults: Sequence[tuple[str, int | None]],
    callbacks: Sequence[tuple[str, str]],
    seed: int,
) -> Callable[[Tx], bool]:
    """Job: the first instance up sets the rules from its start-up configuration (replacing what
    an earlier cluster left); one joining running instances keeps theirs. True when it seeded.

    Running means: its lease runs and it has joined (loaded a generation), so of two instances
    starting together, the second to take the state row's lock joins the first's rules.
    """

    def job(tx: Tx) -> bool:
        conn = tx.conn
        conn.execute("SELECT generation FROM rules_state WHERE name = 'rules' FOR UPDATE")
        joined = conn.execute(
            "SELECT 1 FROM instances WHERE id != ? AND lease_until >= ? AND rules_generation > 0 "
            "LIMIT 1",
            (instance, time.time()),
        ).fetchone()
        if joined is None:
            conn.execute("DELETE FROM fault_rules")
            conn.execute("DELETE FROM callback_rules")
            conn.execute("UPDATE rules_state SET draws = 0, seed = ? WHERE name = 'rules'", (seed,))
            for spec, times in faults:
                conn.execute("INSERT INTO fault_rules (spec, times) VALUES (?, ?)", (spec, times))
            _put_callbacks(tx, callbacks)
        acknowledge(tx, instance, bump(tx))
        return joined is None

    return job


def add_fault(spec: str, times: int | None) -> Callable[[Tx], tuple[int, int]]:
    """Job: store a fault rule; (its id, the new generation)."""

    def job(tx: Tx) -> tuple[int, int]:
        row = tx.conn.execute(
            "INSERT INTO fault_rules (spec, times) VALUES (?, ?) RETURNING id", (spec, times)
        ).fetchone()
        return int(row[0]), bump(tx)

    return job


def remove_fault(rule_id: int) -> Callable[[Tx], tuple[int, int]]:
    """Job: remove one fault rule; (how many went, the new generation)."""

    def job(tx: Tx) -> tuple[int, int]:
        gone = tx.conn.execute("DELETE FROM fault_rules WHERE id = ?", (rule_id,)).rowcount
        return gone, bump(tx)

    return job


def clear_faults(tx: Tx) -> tuple[int, int]:
    """Job: remove every fault rule; (how many went, the new generation)."""
    return tx.conn.execute("DELETE FROM fault_rules").rowcount, bump(tx)


def add_callbacks(rules: Sequence[tuple[str, str]]) -> Callable[[Tx], int]:
    """Job: store callback rules, replacing those of the same id in place; the generation."""

    def job(tx: Tx) -> int:
        _put_callbacks(tx, rules)
        return bump(tx)

    return job


def _put_callbacks(tx: Tx, rules: Sequence[tuple[str, str]]) -> None:
    for rule_id, spec in rules:
        tx.conn.execute(
            "INSERT INTO callback_rules (id, spec) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
            (rule_id, spec),
        )


def remove_callback(rule_id: str) -> Callable[[Tx], tuple[int, int]]:
    """Job: remove one callback rule; (how many went, the new generation)."""

    def job(tx: Tx) -> tuple[int, int]:
        gone = tx.conn.execute("DELETE FROM callback_rules WHERE id = ?", (rule_id,)).rowcount
        return gone, bump(tx)

    return job


def clear_callbacks(tx: Tx) -> tuple[int, int]:
    """Job: remove every callback rule; (how many went, the new generation)."""
    return tx.conn.execute("DELETE FROM callback_rules").rowcount, bump(tx)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A fault rule that matches an attempt, with what deciding it needs."""

    rule_id: int
    first_attempts: int | None
    digest: str | None  # the attempt's body digest (hex), for first_attempts
    probability: float


def decide(candidates: Sequence[Candidate]) -> Callable[[Tx], int | None]:
    """Job: the id of the first candidate (in order) that acts on this attempt, counted in its
    row, or None (the same steps as faults.FaultInjector does in memory). Run it with `RULES`.

    One transaction per attempt, whatever the number of rules: the batch holds the rules' lock
    (`rules_state`) from its start, the candidates' rows are locked in ascending id order in one
    statement, and the draws are numbered from one read of the counter and written back once.
    """

    def job(tx: Tx) -> int | None:
        conn = tx.conn
        ids = sorted({c.rule_id for c in candidates})
        times: dict[int, int | None] = {
            int(r[0]): None if r[1] is None else int(r[1])
            for r in conn.execute(
                "SELECT id, times FROM fault_rules WHERE id = ANY(?) ORDER BY id FOR UPDATE",
                (ids,),
            )
        }
        draws: list[int] = []  # [seed, draws so far], read at the first probability rule
        fired: int | None = None
        for c in candidates:
            if c.rule_id not in times:  # removed since this instance loaded the rules
                continue
            left = times[c.rule_id]
            if left is not None and left <= 0:
                continue
            if c.first_attempts is not None and c.digest is not None:
                attempts = conn.execute(
                    "INSERT INTO fault_rule_attempts (rule_id, body, attempts) VALUES (?, ?, 1) "
                    "ON CONFLICT (rule_id, body) DO UPDATE "
                    "SET attempts = fault_rule_attempts.attempts + 1 RETURNING attempts",
                    (c.rule_id, c.digest),
                ).fetchone()[0]
                if int(attempts) > c.first_attempts:
                    continue
            if c.probability < 1.0 and _draw(tx, draws) >= c.probability:
                continue
            fired = c.rule_id
            conn.execute(
                "UPDATE fault_rules SET times = times - 1, hits = hits + 1 WHERE id = ?", (fired,)
            )
            break
        if draws:
            conn.execute("UPDATE rules_state SET draws = ? WHERE name = 'rules'", (draws[1],))
        return fired

    return job


def _draw(tx: Tx, drawn: list[int]) -> float:
    """The cluster's next seeded probability draw: draw n of seed s is `Random("s:n")`, the same
    sequence whichever instance draws. `drawn` keeps [seed, n] for the job's next draws."""
    if not drawn:
        seed, n = tx.conn.execute(
            "SELECT seed, draws FROM rules_state WHERE name = 'rules'"
        ).fetchone()
        drawn += [int(seed), int(n)]
    drawn[1] += 1
    return random.Random(f"{drawn[0]}:{drawn[1]}").random()  # noqa: S311 - reproducible
