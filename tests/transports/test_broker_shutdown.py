"""The mock stops whatever state its RabbitMQ consumer is in, and leaves no connection behind.

A loopback proxy in front of the real broker holds the consumer at each stage of connecting and
reconnecting; then the app is stopped (lifespan shutdown and the end of its event loop, as at the
end of `mock-ft serve` or of a test). Before the fix, a stop during the AMQP handshake orphaned
aio-pika's reconnect loop, which swallowed the loop's final cancellation and kept the process
alive, connected to the broker with no channel, forever.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from mock_ft.crm import create_app
from mock_ft.settings import Settings
from tests.stall_proxy import Mode, StallProxy, connect_despite_cancel, stall_proxy
from tests.transports.conftest import rabbit_settings, wait_connected, wait_until

pytestmark = pytest.mark.slow
_HANG_GUARD = 60.0  # seconds: a stop takes milliseconds; past this it is stuck, not slow


@pytest.fixture
def proxy(rabbitmq_url: str) -> Iterator[StallProxy]:
    parts = urlsplit(rabbitmq_url)
    with stall_proxy(parts.hostname or "127.0.0.1", parts.port or 5672) as running:
        yield running


def _settings(proxy: StallProxy, rabbitmq_url: str, tmp_path: Path) -> Settings:
    parts = urlsplit(rabbitmq_url)
    url = parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}")
    return rabbit_settings(url.geturl(), tmp_path / "journal.sqlite3")


def _state(client: TestClient) -> str:
    [broker] = client.get("/_mock/health").json()["brokers"]
    return str(broker["state"])


def _stop(client: TestClient) -> None:
    """Stop the app in another thread: a hang fails the test instead of blocking the run."""
    stopper = threading.Thread(target=client.__exit__, args=(None, None, None), daemon=True)
    stopper.start()
    stopper.join(_HANG_GUARD)
    assert not stopper.is_alive(), "the mock did not stop: its RabbitMQ consumer hangs"


def _start(proxy: StallProxy, settings: Settings, mode: Mode) -> TestClient:
    proxy.mode = mode
    client = TestClient(create_app(settings))
    client.__enter__()
    return client


def _reach(what: str, condition: Callable[[], bool]) -> None:
    wait_until(condition, what)


@pytest.mark.parametrize("mode", ["handshake", "channel"])
def test_stop_consumer_while_connecting(
    proxy: StallProxy, rabbitmq_url: str, tmp_path: Path, mode: Mode
) -> None:
    """Held in the AMQP handshake, or in opening its channel: it stops and hangs up."""
    client = _start(proxy, _settings(proxy, rabbitmq_url, tmp_path), mode)
    _reach("the consumer's connection reaches the proxy", lambda: proxy.clients == 1)
    assert _state(client) == "starting"
    _stop(client)
    proxy.mode = "forward"  # an orphaned reconnect loop would now get through, and stay
    _reach("the consumer hung up", lambda: proxy.clients == 0)


def test_stop_consumer_while_consuming(
    proxy: StallProxy, rabbitmq_url: str, tmp_path: Path
) -> None:
    client = _start(proxy, _settings(proxy, rabbitmq_url, tmp_path), "forward")
    wait_connected(client, "rabbitmq")
    _stop(client)
    _reach("the consumer hung up", lambda: proxy.clients == 0)


@pytest.mark.parametrize("then", ["handshake", "channel"])
def test_stop_consumer_while_reconnecting(
    proxy: StallProxy, rabbitmq_url: str, tmp_path: Path, then: Mode
) -> None:
    """The broker goes away; the consumer's reconnect is held at a stage; it still stops."""
    client = _start(proxy, _settings(proxy, rabbitmq_url, tmp_path), "forward")
    wait_connected(client, "rabbitmq")
    accepted = proxy.accepted
    proxy.sever(then=then)
    _reach("the consumer reconnects into the stall", lambda: proxy.accepted > accepted)
    _stop(client)
    proxy.mode = "forward"
    _reach("the consumer hung up", lambda: proxy.clients == 0)


def test_close_connection_whose_reconnect_ignored_the_stop(
    proxy: StallProxy, rabbitmq_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconnect that ignores the stop's cancellation (Python 3.11's `asyncio.wait_for`, in
    aio-pika's connect, returns a connect that raced one) goes on and sleeps out aio-pika's
    reconnect interval (5 s), and aio-pika's close() waits for it before closing anything. With
    the stop's grace shorter than that, the grace ran out with the connection open; the event
    loop's end then left aiormq's close tasks pending ("Task was destroyed but it is pending",
    an unraisable error in whichever test collected them). The stop must hang up all the same."""
    from mock_ft.brokers import rabbitmq

    monkeypatch.setattr(rabbitmq, "STOP_GRACE_SECONDS", 1.0)  # shorter than the 5 s interval
    with connect_despite_cancel() as late:
        client = _start(proxy, _settings(proxy, rabbitmq_url, tmp_path), "forward")
        wait_connected(client, "rabbitmq")
        late.armed.set()
        proxy.sever(then="channel")
        _reach("the consumer reconnects", late.reached.is_set)
        _stop(client)
    gc.collect()  # what the loop's end left pending is reported now, in this test
    _reach("the consumer hung up", lambda: proxy.clients == 0)
