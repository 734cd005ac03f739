"""The baseline: a bare ASGI app that reads the whole body and answers 200 with a little JSON.

It does what any HTTP endpoint must do and nothing more, so the mock's throughput divided by this
app's (under the same uvicorn settings) is what validation and the durable journal cost.
`python -m bench.bare_app --port P` serves it exactly as `mock-ft serve` serves the mock: on a
socket from `bind_socket`, with the `uvicorn.Config` that `uvicorn_config` builds.
"""

from __future__ import annotations

import argparse

from starlette.types import Receive, Scope, Send

__all__ = ["app", "serve"]

_BODY = b'{"status":"accepted"}'
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BODY)).encode()),
]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the request body to its end, then answer 200; handle lifespan like any app."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    more = True
    while more:
        event = await receive()
        if event["type"] == "http.disconnect":
            return
        chunks.append(event.get("body", b""))
        more = event.get("more_body", False)
    b"".join(chunks)  # hold the whole body once, as a real handler would
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve `app` through the mock's own runner code (same socket setup, same uvicorn.Config)."""
    import uvicorn

    from mock_ft.crm.runner import bind_socket, uvicorn_config

    sock = bind_socket(host, port)
    try:
        uvicorn.Server(uvicorn_config(app, log_level="warning")).run(sockets=[sock])
    finally:
        sock.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    serve(options.port, options.host)
