"""Drive the load generator (wrk) and parse what it prints. Parsers are pure functions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ToolError",
    "WrkResult",
    "missing_tools",
    "pace_ms",
    "parse_duration_ms",
    "parse_wrk",
    "run_tool",
    "wrk_command",
]

LOAD_CPU = "1"  # the load generator's core; the server under test gets core 0
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m|h)$")


class ToolError(RuntimeError):
    """A load generator failed or printed something we cannot read."""


@dataclass(slots=True)
class WrkResult:
    """What one wrk run reported."""

    requests: int
    seconds: float
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def ok_requests(self) -> int:
        """Requests answered 2xx (or 3xx), as wrk counts them."""
        return self.requests - self.non_2xx

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def parse_duration_ms(text: str) -> float:
    """wrk's duration notation (`812.00us`, `1.86ms`, `1.02s`, `2.00m`) in milliseconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ToolError(f"cannot read wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read `wrk --latency` output: requests, duration, req/s, p50/p99, non-2xx, socket errors."""
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (total and rate and p50 and p99):
        raise ToolError("wrk printed no summary (did it run with --latency?):\n" + output[-800:])
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True))
        if errors
        else {}
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=parse_duration_ms(total.group(2) + total.group(3)) / 1000,
        requests_per_sec=float(rate.group(1)),
        p50_ms=parse_duration_ms(p50.group(1)),
        p99_ms=parse_duration_ms(p99.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
    )


def missing_tools() -> list[str]:
    """The load generator (and taskset) not found on PATH."""
    return [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]


def wrk_command(
    url: str,
    *,
    seconds: float,
    connections: int,
    script: Path,
    args: list[str],
    threads: int = 1,
) -> list[str]:
    """wrk on the load core: `threads` threads sharing `connections` keep-alive connections,
    the Lua script (payment.lua) with its arguments."""
    return [
        "taskset", "-c", LOAD_CPU, "wrk", f"-t{threads}", f"-c{connections}",
        f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url, "--", *args,
    ]  # fmt: skip


def pace_ms(rate: float, threads: int) -> str:
    """payment.lua's pacing argument: the ms between one wrk thread's requests, so that
    `threads` threads send `rate` requests/s in all (each thread keeps its own schedule)."""
    if rate <= 0 or threads <= 0:
        raise ToolError(f"cannot pace {threads} wrk thread(s) at {rate} requests/s")
    return f"{threads * 1000 / rate:.6g}"


def run_tool(command: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a load generator to completion and return its stdout; ToolError if it fails. `env`
    adds to this process's environment (the wrk script reads MOCK_FT_BENCH_PORTS there)."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **env} if env else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{command[3]} did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise ToolError(
            f"{command[3]} exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
        )
    return done.stdout
