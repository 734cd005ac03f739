"""What the REST transport does below HTTP: notice a client that hung up, and hang up on one.

ASGI has no message for either, so these reach for uvicorn's request cycle and transport (the
server `mock-ft serve` runs); under another server they degrade to "cannot tell" or to
ConnectionAbortedError, the closest equivalent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct

from starlette.types import Receive, Send

__all__ = ["client_gone", "client_left_during", "drop_connection"]


async def client_left_during(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`, or less if the client hangs up first (then True): a hold costs no more."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


def client_gone(send: Send) -> bool:
    """True when the client hung up before its answer: uvicorn saw it go, or (not yet read by
    the loop) the socket already holds its FIN or RST. False when that cannot be known."""
    cycle = getattr(send, "__self__", None)
    if getattr(cycle, "disconnected", False):
        return True
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    if transport.is_closing():
        return True
    sock = transport.get_extra_info("socket")
    if sock is None:
        return False
    probe = socket.socket(fileno=os.dup(sock.fileno()))  # a duplicate descriptor: ours to close
    try:
        return probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""  # b"": the FIN
    except BlockingIOError:
        return False  # nothing to read: still there
    except OSError:
        return True  # reset
    finally:
        probe.close()


async def drop_connection(send: Send, receive: Receive, *, reset: bool) -> None:
    """Close the connection without an answer: an orderly FIN, or an RST when `reset`.

    ASGI has no message for this, so it reaches for uvicorn's transport (the server `mock-ft
    serve` runs); a server without one gets ConnectionAbortedError, its closest equivalent.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):  # uvloop's is no asyncio.Transport
        msg = "a fault rule dropped the connection (needs uvicorn to do it on the wire)"
        raise ConnectionAbortedError(msg)
    if transport.is_closing():
        pass  # the client left first (its own timeout fired): there is nothing to drop
    elif reset:
        sock = transport.get_extra_info("socket")
        # linger 0: close() sends RST instead of FIN. The client may leave meanwhile, and a
        # socket already closed refuses options (EBADF; ValueError from uvloop's).
        with contextlib.suppress(OSError, ValueError):
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let uvicorn see the connection go, so it does not answer a 500 on the closed transport.
    while (await receive())["type"] != "http.disconnect":
        pass
