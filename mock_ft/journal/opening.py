"""What opening a journal file checks: that no other process writes it, and that it is sound.

Two servers on one file would interleave ids and stream-check state, so a journal file has one
writer: `<journal>.lock` is held with `flock` while it is open. The OS drops the lock with the
process, so a server killed with -9 frees its journal; the file keeps the holder's pid, to name
it when the lock is taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path

from mock_ft.errors import JournalError

__all__ = ["WriterLock", "check_integrity"]


class WriterLock:
    """The journal's writer lock, held from `take` until `release`.

    After a clean close the lock file also records the database file's identity (inode, size,
    modification time); `unchanged` says the file is still exactly as this mock left it, so the
    integrity check can be skipped on a restart.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1
        self.unchanged = False

    def take(self) -> WriterLock:
        """Take the lock, or raise JournalError naming the process that has it."""
        lock_path = f"{self.path}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            msg = f"cannot create the lock file {lock_path}: {exc.strerror}; check its folder"
            raise JournalError(msg) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            msg = (
                f"journal {self.path} is in use by {holder}; a journal has one writer: stop "
                "that process, or give this one another --journal (or :memory:)"
            )
            raise JournalError(msg) from None
        recorded = os.pread(fd, 200, 0).decode(errors="replace").splitlines()[1:2]
        self.unchanged = recorded == [_identity(self.path)]
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self, *, clean: bool) -> None:
        """Release the lock; `clean`: the database was closed, so record its identity."""
        if self.fd < 0:
            return
        if clean:
            with contextlib.suppress(OSError):
                os.pwrite(self.fd, f"{os.getpid()}\n{_identity(self.path)}\n".encode(), 0)
        os.close(self.fd)
        self.fd = -1


def _identity(path: str) -> str:
    """'closed INODE SIZE MTIME_NS' of a database with no write-ahead log left, else ''."""
    try:
        info = os.stat(path)
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return ""
    except OSError:
        return ""
    return f"closed {info.st_ino} {info.st_size} {info.st_mtime_ns}"


def _holder(fd: int) -> str:
    """'process 1234 (python)' from the lock file, or what is known of it."""
    raw = os.pread(fd, 32, 0).decode(errors="replace").strip()
    if not raw.isdigit():
        return "another process (starting up)"
    name = ""
    with contextlib.suppress(OSError):  # /proc shows the name, never the arguments (secrets)
        name = Path(f"/proc/{raw}/comm").read_text().strip()
    return f"process {raw} ({name})" if name else f"process {raw}"


def check_integrity(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a journal with damaged pages, saying how to recover what is readable.

    `PRAGMA quick_check` reads every page but skips the index-to-table cross-checks that make
    `integrity_check` four times slower; it finds what makes reads fail. It reads the whole
    file (measured: 4.8 s for 1M events, 517 MB; see docs/limits.md), so a restart on a file
    left exactly as this mock closed it skips it (`WriterLock.unchanged`).
    """
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    else:
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
    if problems:
        msg = (
            f"journal {path} is damaged ({'; '.join(problems)[:300]}); move it aside and start "
            f'afresh, or recover what is readable: sqlite3 {path} ".recover" | sqlite3 new.sqlite3'
        )
        raise JournalError(msg)
