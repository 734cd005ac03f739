"""Opening a journal file: one writer at a time, and a damaged file refused (issue 20, item 7)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from mock_ft.errors import JournalError
from mock_ft.journal import Journal, NewEntry
from mock_ft.journal.opening import WriterLock
from tests.serve_process import run_cli, serve_process

PAGE = 4096


def _filled(path: Path, events: int = 3000) -> None:
    entries = [
        NewEntry("rest", time.time(), "accepted", 200, user_id=str(n), payload=f'{{"n": {n}}}')
        for n in range(events)
    ]
    with Journal(str(path)) as journal:
        journal.run_sync(lambda tx: [tx.insert(e) for e in entries])


def _wait_for_file_clock(path: Path) -> None:
    """A real change comes later than the close: wait until file times can tell them apart."""
    closed = path.stat().st_mtime_ns
    probe = path.with_name("clock-probe")
    probe.touch()
    while probe.stat().st_mtime_ns <= closed:
        time.sleep(0.001)
        probe.touch()


def _damage_pages(path: Path) -> None:
    """Overwrite a run of pages in the middle of the file, as a failing disk would."""
    size = path.stat().st_size
    assert size > 20 * PAGE
    _wait_for_file_clock(path)
    with path.open("r+b") as file:
        file.seek((size // PAGE // 2) * PAGE)
        file.write(b"\xa5" * (4 * PAGE))


def test_refuse_second_writer_of_a_journal(journal_file: str) -> None:
    """While one Journal has the file open, another is refused, naming the process."""
    busy = f"in use by process {os.getpid()}"
    with Journal(journal_file), pytest.raises(JournalError, match=busy):
        Journal(journal_file).start()
    with Journal(journal_file):  # closed: free again
        pass


def test_refuse_second_serve_on_one_journal(journal_file: str) -> None:
    """A second `mock-ft serve` on the same file exits 2 naming the first one's pid."""
    with serve_process("--journal", journal_file) as (_, first):
        second = run_cli("serve", "--port", "0", "--journal", journal_file, timeout=60)
    assert second.returncode == 2, second.stderr
    assert f"in use by process {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr


def test_free_journal_when_its_server_is_killed(journal_file: str) -> None:
    """kill -9 frees the journal at once: the OS drops the lock with the process."""
    with serve_process("--journal", journal_file) as (_, first):
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    with serve_process("--journal", journal_file) as (url, _):
        assert url.startswith("http://")


def test_refuse_damaged_journal_with_the_fix(tmp_path: Path) -> None:
    """A journal with damaged pages mid-file is refused at start: exit 2 saying how to recover."""
    path = tmp_path / "journal.sqlite3"
    _filled(path)
    _damage_pages(path)
    result = run_cli("serve", "--port", "0", "--journal", str(path), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "is damaged" in result.stderr
    assert ".recover" in result.stderr
    assert "Traceback" not in result.stderr


def test_open_sound_journal_after_check(tmp_path: Path) -> None:
    """A sound journal passes the check and keeps its events."""
    path = tmp_path / "journal.sqlite3"
    _filled(path, events=10)
    with Journal(str(path)) as journal:
        count = journal.run_sync(lambda tx: tx.conn.execute("SELECT count(*) FROM events"))
        assert count.fetchone()[0] == 10
    assert sqlite3.connect(path).execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_skip_check_of_a_journal_left_as_closed(tmp_path: Path) -> None:
    """A clean close records the file's identity; a restart on the same bytes skips the check."""
    path = tmp_path / "journal.sqlite3"
    _filled(path, events=10)
    lock = WriterLock(str(path)).take()
    lock.release(clean=False)
    assert lock.unchanged


def test_check_journal_changed_after_close(tmp_path: Path) -> None:
    """Any later write (or a crash, which leaves no record) means the check runs again."""
    path = tmp_path / "journal.sqlite3"
    _filled(path, events=10)
    _wait_for_file_clock(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    lock = WriterLock(str(path)).take()
    lock.release(clean=False)
    assert not lock.unchanged
    again = WriterLock(str(path)).take()  # the last release recorded nothing
    again.release(clean=False)
    assert not again.unchanged
