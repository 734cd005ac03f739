"""Drive the load generators (wrk, hey) and parse what they print. Parsers are pure functions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "HeyResult",
    "ToolError",
    "WrkResult",
    "hey_command",
    "missing_tools",
    "parse_duration_ms",
    "parse_hey",
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


@dataclass(slots=True)
class HeyResult:
    """What one hey run reported."""

    seconds: float
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    errors: int

    @property
    def non_2xx(self) -> int:
        """Responses outside 2xx plus transport errors."""
        bad = sum(n for code, n in self.statuses.items() if not 200 <= code < 300)
        return bad + self.errors

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


def parse_hey(output: str) -> HeyResult:
    """Read hey's summary: duration, req/s, p50/p99 from "Latency distribution", status counts."""
    total = re.search(r"^\s*Total:\s+([\d.]+) secs", output, re.M)
    rate = re.search(r"^\s*Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s*50%+ in ([\d.]+) secs", output, re.M)
    p99 = re.search(r"^\s*99%+ in ([\d.]+) secs", output, re.M)
    if not (total and rate and p50 and p99):
        raise ToolError("hey printed no latency distribution:\n" + output[-800:])
    statuses = {
        int(code): int(count)
        for code, count in re.findall(r"^\s*\[(\d{3})\]\s+(\d+) responses", output, re.M)
    }
    errors = 0
    if "Error distribution:" in output:
        tail = output.split("Error distribution:", 1)[1]
        errors = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]\s", tail, re.M))
    return HeyResult(
        seconds=float(total.group(1)),
        requests_per_sec=float(rate.group(1)),
        p50_ms=float(p50.group(1)) * 1000,
        p99_ms=float(p99.group(1)) * 1000,
        statuses=statuses,
        errors=errors,
    )


def missing_tools() -> list[str]:
    """The load generators (and taskset) not found on PATH."""
    return [tool for tool in ("wrk", "hey", "taskset") if shutil.which(tool) is None]


def wrk_command(
    url: str, *, seconds: float, connections: int, script: Path, args: list[str]
) -> list[str]:
    """wrk on the load core: one thread, `connections` keep-alive connections, the Lua script."""
    return [
        "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--latency", "-s", str(script), url, "--", *args,
    ]  # fmt: skip


def hey_command(
    url: str, *, seconds: float, workers: int, qps_per_worker: float, body: Path, headers: list[str]
) -> list[str]:
    """hey on the load core at a fixed rate: `workers` x `qps_per_worker` requests per second."""
    command = [
        "taskset", "-c", LOAD_CPU, "hey", "-z", f"{max(1, round(seconds))}s", "-c", str(workers),
        "-q", f"{qps_per_worker:g}", "-m", "POST", "-T", "application/json", "-D", str(body),
    ]  # fmt: skip
    for header in headers:
        command += ["-H", header]
    return [*command, url]


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
