"""What a web browser may do with the mock: the guard in front of /_mock/, /ui and /docs.

Without a control token (the loopback default) the control API trusts whoever can reach it, so
two browser tricks must not count as "reaching it":
- DNS rebinding: a page on attacker.example re-points its name at 127.0.0.1 and talks to the mock
  as "same origin". The request still says `Host: attacker.example`, so only Hosts that name this
  mock are answered (loopback names, the bound address, MOCK_FT_ALLOWED_HOSTS).
- Cross-site requests: any page may send a "simple" POST (text/plain, a form) to 127.0.0.1. A
  state-changing request is refused when the browser marks it cross-site (`Sec-Fetch-Site`,
  `Origin`), and must be `Content-Type: application/json`, which no page may send to another
  origin without a CORS preflight the mock never grants.
FT's ingest paths do not come here (MockApp sends them straight to the REST transport): operator
platforms call them by any name (`mock:8765` in compose), they need the API key (a custom header,
so never a simple request) and refuse bodies that are not JSON. Every answer that passes here
also gets the browser security headers; /docs gets a CSP that allows exactly its own scripts.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_ft.origins import host_name, is_loopback, url_origin
from mock_ft.settings import Settings

__all__ = ["WebGuard"]

_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BROWSER_OK_SITES = frozenset({"same-origin", "none"})  # `none`: typed in the address bar
_UNSPECIFIED = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - a bind-all address names no host
_DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
_ASSET_URL = re.compile(rb"""(?:src|href)=["']?(https?://[^"'\s>]+)""", re.I)

_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# /ui: its own script, style and API only; nothing may frame it.
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# JSON answers: nothing in them may run, load or be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class WebGuard:
    """ASGI middleware: Host check, cross-site refusal, JSON-only changes, security headers."""

    def __init__(self, app: ASGIApp, settings: Settings, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the app's, to leave a method no route takes to its 404 or 405
        self.any_host = "*" in settings.allowed_hosts
        names = {"localhost", "127.0.0.1", "::1", *settings.allowed_hosts}
        bound = settings.host.lower().strip("[]")
        if bound not in _UNSPECIFIED:
            names.add(bound)
        self.hosts = frozenset(names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, code, problem = refusal
            await _refuse(status, code, problem)(scope, receive, send)
            return
        path: str = scope["path"]
        if path in _DOCS_PATHS:
            await self.app(scope, receive, _with_docs_csp(send))
            return
        csp = UI_CSP if path == "/ui" or path.startswith("/ui/") else API_CSP
        await self.app(scope, receive, _with_headers(send, csp.encode()))

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, dict[str, str]] | None:
        host = headers.get("host", "")
        name = host_name(host)
        if not self.any_host and (name is None or not self._names_us(name)):
            message = (
                f"Host {host!r} does not name this mock; add the name to MOCK_FT_ALLOWED_HOSTS "
                "(a page that re-points its own name at this machine cannot use it)"
            )
            return 400, "host_not_allowed", _problem("Host", "host_not_allowed", message)
        if scope["method"] not in _CHANGES or not self._routed(scope):
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site not in _BROWSER_OK_SITES:
            message = f"a browser sent this from a {site} page; only the mock's own /ui may"
            return 403, "cross_site_request", _problem("Sec-Fetch-Site", "cross_site", message)
        origin = headers.get("origin")
        if origin is not None and not _same_host(origin, host):
            message = f"Origin {origin!r} is not {host!r}; only the mock's own /ui may"
            return 403, "cross_site_request", _problem("Origin", "cross_site", message)
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if scope["path"].startswith("/_mock/") and media != "application/json":
            got = f"got {media!r}" if media else "none was sent"
            message = (
                f"send Content-Type: application/json with {scope['method']} to /_mock/, even "
                f"without a body ({got}); a page on another site cannot, so cannot steer the mock"
            )
            return 415, "unsupported_media_type", _problem("Content-Type", "not_json", message)
        return None

    def _names_us(self, name: str) -> bool:
        return name in self.hosts or is_loopback(name)

    def _routed(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)


def _same_host(origin: str, host: str) -> bool:
    """True when `Origin` names the host (and the port, when Host has one) the request went to.
    The scheme is not compared: behind a TLS proxy the page is https and the mock sees http."""
    parsed = url_origin(origin)
    if parsed is None or host_name(host) != parsed[1]:
        return False
    port = urlsplit(f"//{host}").port  # host_name() above made sure it parses
    return port is None or parsed[2] == port


def _problem(header: str, code: str, message: str) -> dict[str, str]:
    return {"path": f"header.{header}", "code": code, "message": message}


def _refuse(status: int, code: str, problem: dict[str, str]) -> JSONResponse:
    body = {"error": code, "message": problem["message"], "problems": [problem]}
    response = JSONResponse(body, status_code=status)
    response.raw_headers += [*_COMMON_HEADERS, (b"content-security-policy", API_CSP.encode())]
    return response


def _with_headers(send: Send, csp: bytes) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                *message.get("headers", []),
                *_COMMON_HEADERS,
                (b"content-security-policy", csp),
            ]
        await send(message)

    return sending


def _with_docs_csp(send: Send) -> Send:
    """Hold the /docs page until its end, then allow exactly the inline scripts it holds (by
    hash) and the asset origins it names: served locally, that is 'self' alone."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers += [(b"content-length", str(len(body)).encode()), *_COMMON_HEADERS]
        headers.append((b"content-security-policy", docs_csp(body).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return sending


def docs_csp(page: bytes) -> str:
    """The CSP of a docs page: its inline scripts by hash, its asset origins, nothing else."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    origins = sorted(
        {
            f"{o[0]}://{o[1]}:{o[2]}"
            for url in _ASSET_URL.findall(page)
            if (o := url_origin(url.decode("latin-1"))) is not None
        }
    )
    assets = " ".join(["'self'", *origins])
    return (
        f"default-src 'self'; script-src {' '.join([assets, *hashes])}; "
        f"style-src {assets} 'unsafe-inline'; img-src {assets} data:; font-src {assets} data:; "
        "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
