"""Limits on what a client may send, enforced where the bytes arrive: in the HTTP protocol.

uvicorn enforces none of these (checked with 0.55 and httptools): it reads a 50 MB header whole
and hands it on, and a connection that sends half a body, or nothing at all, stays open for ever.
So `mock-ft serve` runs uvicorn's httptools protocol with three checks added, each answered with
an FT-style JSON body and `Connection: close`:

- the request line and headers together over `max_header_bytes`: 431 `headers_too_large`;
- one header (name and value) over `max_header_field_bytes`: 431, naming the header;
- a request not received whole within `read_timeout_seconds` of its first byte (or of the
  connection, when nothing arrives): 408 `request_timeout`.

The header bytes are counted as each chunk is read, so at most one socket read (64 KiB) beyond
the limit is ever held. Control-API body sizes (413) are checked in the app (`MockApp`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import orjson
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = ["HeaderLimits", "bounded_receive", "limited_protocol"]


_LINGER_SECONDS = 2.0  # how long a refused client's remaining bytes are read and dropped


class HeaderLimits:
    """The limits one server enforces (from Settings)."""

    def __init__(
        self, max_header_bytes: int, max_header_field_bytes: int, read_timeout_seconds: float
    ) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_header_field_bytes = max_header_field_bytes
        self.read_timeout_seconds = read_timeout_seconds


class _TooLarge(Exception):
    """Raised inside a parser callback; the parser stops and re-raises it as its context."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def limited_protocol(limits: HeaderLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol enforcing `limits` (pass it as `uvicorn.Config(http=...)`)."""
    return type("LimitedHttpToolsProtocol", (_LimitedProtocol,), {"limits": limits})


class _LimitedProtocol(HttpToolsProtocol):
    limits: HeaderLimits
    _head_read = 0  # bytes read while the request line and headers were incomplete
    _head_bytes = 0  # bytes of the headers parsed so far
    _refused = False
    # Loop time the request being read (or the connection, before its first) began; None once
    # it is read whole. A sweep per server, not a timer per request, enforces the deadline: it
    # costs each request a clock read instead of a timer to arm and cancel.
    _started: float | None = None

    # -- the read deadline -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._started = self.loop.time()  # a connection that never sends a byte is closed too
        _sweep_soon(self)

    def on_message_complete(self) -> None:
        # uvicorn's, inlined (one frame less per request), then this request's deadline is off.
        if not (self.parser.should_upgrade() and self._should_upgrade()) and not (
            self.cycle.response_complete
        ):
            self.cycle.more_body = False
            self.cycle.message_event.set()
        self._started, self._head_read, self._head_bytes = None, 0, 0

    def too_slow(self) -> None:
        """The deadline passed: answer 408 and close."""
        seconds = self.limits.read_timeout_seconds
        message = (
            f"the request did not arrive whole within {seconds:g} s; send it at once, or raise "
            "MOCK_FT_READ_TIMEOUT_SECONDS"
        )
        self._refuse(408, "request_timeout", message, [])

    # -- header sizes ------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # what follows an answered limit is read and dropped until the close
        if self._started is None:
            self._started = self.loop.time()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _TooLarge):
                self._headers_too_large(exc.__context__)
                return
            self._bad_request()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            self._bad_request()
            return
        cycle = self.cycle
        if cycle is None or cycle.scope is not self.scope:  # the head is still incomplete
            self._head_read += len(data)
            if self._head_read > self.limits.max_header_bytes:
                self._headers_too_large(self._total_too_large())

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        limit = self.limits.max_header_field_bytes
        if size > limit:
            shown = name.decode("latin-1")[:100]
            path, message = f"header.{shown}", f"header {shown} exceeds {limit} bytes"
            raise _TooLarge(path, message)
        self._head_bytes += size + 4  # ": " and CRLF
        if self._head_bytes > self.limits.max_header_bytes:
            raise self._total_too_large()
        # uvicorn's, inlined: one frame less per header.
        name = name.lower()
        value = value.rstrip(b" \t")
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def _total_too_large(self) -> _TooLarge:
        message = f"the request line and headers exceed {self.limits.max_header_bytes} bytes"
        return _TooLarge("header", message)

    def _headers_too_large(self, exc: _TooLarge) -> None:
        problem = {"path": exc.path, "code": "headers_too_large", "message": exc.message}
        setting = (
            "MOCK_FT_MAX_HEADER_BYTES" if exc.path == "header" else "MOCK_FT_MAX_HEADER_FIELD_BYTES"
        )
        message = f"{exc.message}; send smaller headers, or raise {setting}"
        self._refuse(431, "headers_too_large", message, [problem])

    def _bad_request(self) -> None:
        message = "the request is not valid HTTP/1.1"
        self._refuse(400, "malformed_request", message, [])

    def _refuse(self, status: int, error: str, message: str, problems: list[Any]) -> None:
        """Answer `status` with an FT-style body (unless an answer is under way) and close."""
        self._started = None
        cycle = self.cycle
        answered = cycle is not None and cycle.response_started and not cycle.response_complete
        if not answered and not self.transport.is_closing():
            body = orjson.dumps({"error": error, "message": message, "problems": problems})
            self.transport.write(
                b"".join(
                    [
                        STATUS_LINE[status],
                        b"content-type: application/json\r\n",
                        b"content-length: %d\r\n" % len(body),
                        b"connection: close\r\n\r\n",
                        body,
                    ]
                )
            )
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's next receive() says the client left
            cycle.message_event.set()
        # Closing with unread bytes would send a reset, which can destroy the answer before the
        # client reads it; so the answer is followed by a FIN, what still arrives is dropped,
        # and the connection closes a little later (as nginx's lingering close).
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(_LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def _sweep_soon(protocol: _LimitedProtocol) -> None:
    """Make sure a sweep is scheduled for this protocol's server (one per server at a time)."""
    state = protocol.server_state
    if not getattr(state, "mock_ft_sweeping", False):
        state.mock_ft_sweeping = True  # type: ignore[attr-defined]
        interval = min(1.0, protocol.limits.read_timeout_seconds / 4)
        protocol.loop.call_later(interval, _sweep, protocol.loop, state, protocol.limits, interval)


def _sweep(
    loop: asyncio.AbstractEventLoop, state: Any, limits: HeaderLimits, interval: float
) -> None:
    """Answer 408 on every connection whose request is late; again later while any are open."""
    oldest = loop.time() - limits.read_timeout_seconds
    for connection in list(state.connections):
        started = getattr(connection, "_started", None)
        if started is not None and started <= oldest:
            connection.too_slow()
    if state.connections:
        loop.call_later(interval, _sweep, loop, state, limits, interval)
    else:
        state.mock_ft_sweeping = False


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def bounded_receive(scope: Scope, receive: Receive, send: Send, limit: int) -> Receive | None:
    """Read a control-API request's body whole, up to `limit` bytes: a `receive` that hands it
    on, or None once a 413 has been answered (the announced or the received size is too large).

    The control API's bodies are small rule and run documents; reading them here first bounds
    what a client can make the mock hold, however the body is framed (length or chunked).
    """
    if scope["method"] not in _BODY_METHODS:
        return receive
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
    chunks: list[bytes] = []
    size = int(declared) if declared.isdigit() else 0
    if size <= limit:
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay(message, receive)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
            if not message.get("more_body", False):
                whole: Message = {"type": "http.request", "body": b"".join(chunks)}
                return _replay(whole, receive)
    why = (
        f"the body exceeds {limit} bytes, the control API's limit; send less, or raise "
        "MOCK_FT_MAX_CONTROL_BODY_BYTES"
    )
    body = orjson.dumps({"error": "body_too_large", "message": why, "problems": []})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return None


def _replay(first: Message, receive: Receive) -> Receive:
    """A `receive` that answers `first`, then whatever the server has next (a disconnect)."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
