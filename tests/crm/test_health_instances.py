"""`/_mock/health` names this instance and the instances writing its journal (issue 25)."""

from __future__ import annotations

import os
import socket

from fastapi.testclient import TestClient


def test_report_own_instance_in_health(client: TestClient) -> None:
    """Alone on its journal, the mock sees itself only; its id names its host and pid."""
    health = client.get("/_mock/health").json()
    assert health["instance"].startswith(f"{socket.gethostname()}-{os.getpid()}-")
    assert [i["id"] for i in health["instances"]] == [health["instance"]]
    [me] = health["instances"]
    assert me["started_at"] <= me["seen_at"] < me["lease_until"]
