"""The journal's tables and the statements that write them."""

from __future__ import annotations

__all__ = [
    "ADDED_COLUMNS",
    "ADDED_INDEXES",
    "BUMP",
    "INSERT_EVENT",
    "NEXT_EVENT_ID",
    "SCHEMA",
    "SET_MARK",
    "SET_OFFSET",
    "SET_USER",
    "WARM_MARKS",
    "WARM_USERS",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused, not even after a reset
    received_at REAL NOT NULL,
    transport TEXT NOT NULL,
    method TEXT,
    path TEXT,
    event_type TEXT,
    user_id TEXT,
    verdict TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    error_code TEXT,
    payload TEXT,
    headers TEXT NOT NULL,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    event_timestamp TEXT,
    latency_ms REAL,
    idempotency_key TEXT,
    duplicate_of INTEGER,
    fault TEXT,  -- JSON: the fault rule that acted on this attempt, if any
    broker_ref TEXT  -- a broker delivery's identity, to know a redelivery of it
);
CREATE INDEX IF NOT EXISTS ix_events_type ON events(event_type, id);
CREATE INDEX IF NOT EXISTS ix_events_user ON events(user_id, id);
CREATE INDEX IF NOT EXISTS ix_events_received ON events(received_at);
CREATE TABLE IF NOT EXISTS marks (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT, event_id INTEGER,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, registered INTEGER NOT NULL, last_epoch REAL, last_event_id INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lookups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER,  -- the journaled event that caused it
    user_id TEXT,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    started_at REAL NOT NULL,
    status_code INTEGER,
    latency_ms REAL,
    ok INTEGER NOT NULL,
    problems TEXT NOT NULL,
    error TEXT,
    response TEXT
);
CREATE INDEX IF NOT EXISTS ix_lookups_event ON lookups(event_id);
CREATE INDEX IF NOT EXISTS ix_lookups_user ON lookups(user_id, id);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id TEXT NOT NULL,
    event_id INTEGER,  -- the journaled event that triggered it
    user_id TEXT,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    request_headers TEXT NOT NULL,  -- JSON, secrets masked
    request_body TEXT,
    started_at REAL NOT NULL,
    latency_ms REAL,  -- first request to final answer, back-off included
    status_code INTEGER,  -- of the last attempt
    ok INTEGER NOT NULL,
    attempts TEXT NOT NULL,  -- JSON list: status_code, latency_ms, error, started_at of each
    error TEXT,
    response TEXT,
    notes TEXT NOT NULL  -- JSON list of what rendering noticed (a placeholder without a value)
);
CREATE INDEX IF NOT EXISTS ix_callbacks_event ON callbacks(event_id);
-- Reports of verification and scenario runs posted by `mock-ft verify|replay --ft-url`: the
-- dashboard's go-live scorecard. Kept by /_mock/reset (they describe runs, not traffic).
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,  -- verify or replay
    received_at REAL NOT NULL,
    passed INTEGER NOT NULL,
    document TEXT NOT NULL  -- the report's JSON, as written to report.json / replay.json
);
-- Kafka: the next offset of each topic partition, written with the events it covers, so a
-- consumer resumes exactly after what the journal holds (offsets are committed to Kafka too).
CREATE TABLE IF NOT EXISTS broker_offsets (
    source TEXT PRIMARY KEY, next_offset INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    kind TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

# Columns added since the first release, added to older journal files when they are opened.
ADDED_COLUMNS = (("events", "fault", "TEXT"), ("events", "broker_ref", "TEXT"))
# Indexes on added columns: created after the columns exist, in old files too.
ADDED_INDEXES = """
CREATE INDEX IF NOT EXISTS ix_events_broker_ref ON events(broker_ref) WHERE broker_ref IS NOT NULL;
"""

# Ids are assigned by the journal inside the write transaction (see Tx.insert), so a whole
# batch is written with one executemany instead of one INSERT ... RETURNING per event.
NEXT_EVENT_ID = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1"
INSERT_EVENT = """
INSERT INTO events (id, received_at, transport, method, path, event_type, user_id, verdict,
    status_code, error_code, payload, headers, errors, warnings, event_timestamp, latency_ms,
    idempotency_key, duplicate_of, fault, broker_ref)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
SET_MARK = (
    "INSERT INTO marks (kind, key, value, event_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO UPDATE SET value = excluded.value, event_id = excluded.event_id"
)
SET_USER = (
    "INSERT INTO users (user_id, registered, last_epoch, last_event_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO UPDATE SET registered = excluded.registered, "
    "last_epoch = excluded.last_epoch, last_event_id = excluded.last_event_id"
)
SET_OFFSET = (
    "INSERT INTO broker_offsets (source, next_offset) VALUES (?, ?) "
    "ON CONFLICT DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset)"
)
BUMP = (
    "INSERT INTO counters (kind, key, n) VALUES (?, ?, ?) "
    "ON CONFLICT DO UPDATE SET n = n + excluded.n"
)
# A batch's reads of stream-check state, one query per table (and kind of mark): the keys arrive
# as one JSON array, each looked up by primary key (CROSS JOIN keeps json_each the outer loop).
WARM_MARKS = (
    "SELECT m.key, m.value, m.event_id FROM json_each(?) AS j "
    "CROSS JOIN marks AS m ON m.kind = ? AND m.key = j.value"
)
WARM_USERS = (
    "SELECT u.user_id, u.registered, u.last_epoch, u.last_event_id FROM json_each(?) AS j "
    "CROSS JOIN users AS u ON u.user_id = j.value"
)
