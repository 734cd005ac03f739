"""A psycopg 3 connection that runs the journal's SQLite-style SQL, and rows like sqlite3.Row.

Jobs write `?` placeholders and read rows by index or column name; here the placeholders become
psycopg's `%s` (once per distinct statement, cached) and rows are tuples that also answer to
column names. Parameters are bound client-side (`ClientCursor`), as SQLite binds them, so a
`? IS NULL` needs no type: server-side binding would ask PostgreSQL to infer one and fail.
PostgreSQL text cannot hold NUL: a NUL in a journaled string (a rejected body may have one) is
stored as U+FFFD, the replacement character.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar

import psycopg
from psycopg.types.string import StrDumperUnknown

from mock_ft.journal.sql import Cursor

__all__ = ["PgConnection", "Row", "configure", "connect", "connection_options", "translate"]


class Row(tuple[Any, ...]):
    """A result row: `row[0]` and `row["column"]`, `keys()` and `dict(row)` as with sqlite3.Row."""

    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"_index": {n: i for i, n in enumerate(names)}, "__slots__": ()})


def _row_maker(cursor: Any) -> Any:
    description = cursor.description
    return _row_class(tuple(c.name for c in description)) if description else Row


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`?` placeholders (outside quoted literals) as `%s`, and `%` as `%%`."""
    out: list[str] = []
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


class _NulSafeStr(StrDumperUnknown):
    def dump(self, obj: str) -> Any:
        return super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj)


class PgConnection:
    """The journal's view of a psycopg connection (see the module docstring)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        """Run one statement; its rows are `Row`s."""
        return self.raw.execute(translate(sql), parameters)

    def executemany(self, sql: str, parameters: Sequence[Any], /) -> Cursor:
        """Run one statement for each set of parameters (pipelined by psycopg)."""
        cursor = self.raw.cursor()
        cursor.executemany(translate(sql), parameters)
        return cursor


def connection_options(application_name: str = "mock-ft") -> dict[str, Any]:
    """psycopg's connect options for the journal: autocommit (the journal writes BEGIN/COMMIT
    itself), client-side binding, `Row`s; `application_name` shows in pg_stat_activity."""
    return {
        "autocommit": True,
        "cursor_factory": psycopg.ClientCursor,
        "row_factory": _row_maker,
        "application_name": application_name,
        "connect_timeout": 10,
    }


def configure(conn: psycopg.Connection[Any]) -> None:
    """What every journal connection needs once connected: NUL-safe text."""
    conn.adapters.register_dumper(str, _NulSafeStr)


def connect(conninfo: str) -> psycopg.Connection[Any]:
    """The journal's writer connection."""
    conn: psycopg.Connection[Any] = psycopg.Connection.connect(conninfo, **connection_options())
    configure(conn)
    return conn
