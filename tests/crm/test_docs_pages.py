"""/docs and /redoc work without a network: every asset they load is served by the mock."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from mock_ft.crm.routes.pages import ASSETS_PATH

_REFERENCE = re.compile(r"""(?:src|href|url)\s*[=:]\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_reference_no_external_host(client: TestClient, page: str) -> None:
    """The page names only the mock's own paths: no CDN, no web fonts."""
    html = client.get(page).text
    references = _REFERENCE.findall(html)
    assert references  # the pattern still finds the page's assets
    assert [r for r in references if not r.startswith("/") or r.startswith("//")] == []
    assert "http" not in html.replace("http-equiv", "")


@pytest.mark.parametrize(
    ("asset", "media"),
    [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "javascript"),
        ("favicon.png", "image/png"),
    ],
)
def test_serve_docs_asset(client: TestClient, asset: str, media: str) -> None:
    """Each asset the pages load answers 200 from the installed package."""
    answer = client.get(f"{ASSETS_PATH}/{asset}")
    assert answer.status_code == 200
    assert media in answer.headers["content-type"]
    assert len(answer.content) > 1000
