"""Start Python children as a terminal would: SIGINT at Python's default (KeyboardInterrupt).

A test runner started in the background (`make soak &`, `nohup`, some CI agents) has SIGINT
ignored, and an ignored signal stays ignored across fork and exec. Python then never installs
its Ctrl-C handler, so `mock-ft replay` or `demo` would rightly ignore the SIGINT a test sends
to stand for Ctrl-C, and the test would wait on a child that cannot hear it. (`serve` hears it
anyway: uvicorn sets its own handlers.)
"""

from __future__ import annotations

import signal
import sys

# `python -c BOOT MODULE ARGS...`: as `python -m MODULE ARGS...`, with Ctrl-C's handler back.
_BOOT = (
    "import runpy, signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = sys.argv[1:]; "
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)


def python_module(module: str, *args: str) -> list[str]:
    """The command line running `python -m module args` with SIGINT as from a terminal."""
    return [sys.executable, "-c", _BOOT, module, *args]


if __name__ == "__main__":  # a child for the tests: ready once Ctrl-C's handler is in, then wait
    print("ready", flush=True)
    signal.pause()  # SIGINT raises KeyboardInterrupt, uncaught: Python exits by SIGINT
