"""Verification benchmark: the wall time of a full `mock-ft verify` of the reference operator.

`python -m bench.verify` (run by `make bench` after the ingest benchmark). The mock and the
reference operator run in this process on real sockets, with some player activity published;
the run is timed as a whole and per step, so the Schemathesis share shows. Target: < 60 s.
Exits 0 whatever the figures (it is a report); 2 if the servers will not start.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from rich.console import Console

from bench.report import code_version, machine_info, write_json
from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from mock_ft.verify import VerifyOptions, run_verification
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator

__all__ = ["main"]

TARGET_SECONDS = 60.0
RESULTS = Path(__file__).resolve().parent / "results" / "verify.json"


_UNTIMED = 3_600.0  # seconds: a speed target nothing reaches, when speed is not judged


def measure(rounds: int, *, judge_speed: bool = True) -> dict[str, object]:
    """Time `rounds` full verifications; return the medians and the per-step shares. Without
    `judge_speed`, FT's latency and freshness targets are not checked (a smoke test on a busy
    machine), and the wall time is still measured."""
    folder = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    mock_settings = Settings(journal=str(folder / "journal.sqlite3"))
    if not judge_speed:
        mock_settings.freshness_target_ms = _UNTIMED * 1000
    with ServerThread(create_app(mock_settings)) as mock:
        operator_settings = OperatorSettings(
            database=str(folder / "platform.sqlite3"), ft_url=mock.url, players=5
        )
        with ServerThread(create_operator(operator_settings)) as operator:
            for user in ("100001", "100002"):
                httpx.post(f"{operator.url}/platform/players/{user}/login")
                httpx.post(f"{operator.url}/platform/players/{user}/deposits", json={"amount": 9})
            _published(operator.url)
            options = VerifyOptions(
                operator_url=operator.url,
                auth="api-key:operator-local-key",
                user_ids=["100001", "100002"],
                ft_url=mock.url,
            )
            if not judge_speed:
                options.p95_budget_ms = _UNTIMED * 1000
                options.event_wait_seconds = _UNTIMED
            walls, shares, checks, passed = [], defaultdict(list), 0, True
            for _ in range(rounds):
                started = time.perf_counter()
                results = run_verification(options)
                wall = time.perf_counter() - started
                walls.append(wall)
                per_step: dict[str, float] = defaultdict(float)
                for result in results:
                    per_step[result.step] += result.seconds
                for step, seconds in per_step.items():
                    shares[step].append(seconds / wall)
                checks, passed = len(results), passed and all(r.passed for r in results)
    return {
        "wall_seconds_median": statistics.median(walls),
        "wall_seconds": walls,
        "share_by_step": {step: statistics.median(v) for step, v in shares.items()},
        "checks": checks,
        "all_passed": passed,
        "target_seconds": TARGET_SECONDS,
    }


def _published(operator_url: str) -> None:
    """Until the operator's outbox is empty: verify reads what it published."""
    deadline = time.monotonic() + _UNTIMED
    while httpx.get(f"{operator_url}/platform/outbox").json()["pending"]:
        if time.monotonic() > deadline:
            msg = "the reference operator never published its events"
            raise RuntimeError(msg)
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    """Run and print the verification benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.verify", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="full verifications [3]")
    parser.add_argument(
        "--no-speed-targets",
        action="store_true",
        help="do not judge latency and freshness (a smoke run on a busy machine)",
    )
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    figures = measure(args.rounds, judge_speed=not args.no_speed_targets)
    wall = float(figures["wall_seconds_median"])  # type: ignore[arg-type]
    verdict = "PASS" if wall < TARGET_SECONDS else "MISS"
    console.print(
        f"verify of the reference operator: {figures['checks']} checks, "
        f"median wall {wall:.2f} s over {args.rounds} run(s) (target < {TARGET_SECONDS:.0f} s) "
        f"{verdict}; all passed: {figures['all_passed']}"
    )
    shares = figures["share_by_step"]
    assert isinstance(shares, dict)  # noqa: S101 - built above
    for step, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        console.print(f"  {step:28} {100 * share:5.1f}% of the wall time")
    write_json({**figures, "machine": machine_info(), "code": code_version()}, RESULTS)
    console.print(f"results written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
