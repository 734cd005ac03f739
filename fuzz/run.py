"""`make fuzz`: Schemathesis (positive, then negative) against a real `mock-ft serve`, then the
coverage-guided ingest fuzz, in FUZZ_SECONDS overall. Exit 0 only when neither found anything.

    python -m fuzz.run --seconds 600 [--out .mock-ft/fuzz]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mock_ft.contracts import integration_contract
from mock_ft.samples import sample_events
from mock_ft.settings import DEFAULT_API_KEY
from tests.serve_process import serve_process

# Bodies that reach the hostile corners at once; libFuzzer mutates from them.
_HOSTILE_SEEDS = [
    b'{"user_id": "\\ud800x", "payment_id": "p"}',
    b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}",
    b'{"user_id": "1", "n": 123456789012345678901234567890, "f": 1e400}',
    b'{"amount": 10.5, "amount": -5, "x": NaN}',
    b'{"s": "\xe2\x80\xa8\xc2\x85", "k": {"k": {"k": -Infinity}}}',
]
_DICTIONARY = ['"{"', '"["', '"]"', '"}"', '"\\\\ud800"', '"NaN"', '"1e400"', '"\\"user_id\\":"']
# Long-polls and the endless event stream are read by the round-trip property test instead.
_EXCLUDED = ["/_mock/events/wait", "/_mock/stream"]


def _schemathesis(url: str, mode: str, seconds: float, out: Path) -> int:
    """Run Schemathesis until `seconds` are spent (seed after seed); the failures it reported."""
    failures = 0
    seed = 0
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 20:
        seed += 1
        report = out / f"schemathesis-{mode}-{seed}"
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run", f"{url}/openapi.json",
            "--mode", mode,
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "150",
            "--seed", str(seed),
            "--max-time", str(int(left)),
            "--request-timeout", "30",
            "-H", f"X-API-Key: {DEFAULT_API_KEY}",
            "--report", "junit",
            "--report-dir", str(report),
            "--no-color",
            *[arg for path in _EXCLUDED for arg in ("--exclude-path", path)],
        ]  # fmt: skip
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz.hooks"}
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        (out / f"schemathesis-{mode}-{seed}.log").write_text(result.stdout + result.stderr)
        summary = [line for line in result.stdout.splitlines() if line.strip()][-3:]
        print(f"schemathesis {mode} seed {seed}: exit {result.returncode}; {' | '.join(summary)}")
        if result.returncode != 0:
            failures += 1
    return failures


def _atheris(seconds: float, out: Path) -> int:
    """The coverage-guided ingest fuzz for `seconds`: 0, or libFuzzer's exit code."""
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    routes = {route.event_type: n for n, route in enumerate(integration_contract().routes)}
    for n, (route, payload) in enumerate(sample_events()):
        seed = bytes([routes[route.event_type]]) + json.dumps(payload).encode()
        (corpus / f"sample-{n}").write_bytes(seed)
    for n, body in enumerate(_HOSTILE_SEEDS):
        (corpus / f"hostile-{n}").write_bytes(bytes([n]) + body)
    dictionary = out / "json.dict"
    dictionary.write_text("\n".join(_DICTIONARY) + "\n")
    command = [
        sys.executable, "-m", "fuzz.ingest_target", str(corpus),
        f"-max_total_time={int(seconds)}", "-timeout=20", "-rss_limit_mb=2048",
        f"-dict={dictionary}", f"-artifact_prefix={out}/", "-print_final_stats=1",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    (out / "atheris.log").write_text(result.stdout + result.stderr)
    tail = [line for line in result.stderr.splitlines() if line.startswith(("#", "Done", "stat"))]
    print("atheris: exit", result.returncode, "|", " | ".join(tail[-4:]))
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--out", type=Path, default=Path(".mock-ft/fuzz"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        journal = str(Path(folder) / "journal.sqlite3")
        with serve_process("--journal", journal) as (url, _):
            positive = _schemathesis(url, "positive", args.seconds * 0.3, args.out)
            negative = _schemathesis(url, "negative", args.seconds * 0.3, args.out)
    spent = time.monotonic() - started
    crashed = _atheris(max(30.0, args.seconds - spent), args.out)
    total = time.monotonic() - started
    print(
        f"fuzz: {total:.0f} s; schemathesis runs with failures: positive {positive}, "
        f"negative {negative}; atheris exit {crashed}; logs and reports in {args.out}"
    )
    return 1 if positive or negative or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
