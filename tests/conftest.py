"""Fixtures shared by all tests: the real local broker and per-test topics."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.bus import KafkaBus
from shared.topics import Topics
from tests.support import OwnBroker

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}")


def _broker_reachable(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker. Integration tests fail (never skip) without it: `make test` starts one."""
    if not _broker_reachable(BOOTSTRAP):
        pytest.fail(f"no Kafka broker at {BOOTSTRAP}: run `make kafka-up` (or `make test`)")
    return BOOTSTRAP


@pytest.fixture
def topic_prefix() -> str:
    """A fresh prefix so each test has its own topics and consumer groups."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def topics(topic_prefix: str) -> Topics:
    return Topics(prefix=topic_prefix)


@pytest.fixture
async def kafka_bus(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[KafkaBus]:
    bus = KafkaBus(kafka_bootstrap, client_id="stancewatch-test")
    await bus.start()
    await bus.ensure_topics(topics.all())
    try:
        yield bus
    finally:
        await bus.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Anything on the real broker is an integration test: `make unit` deselects them.
    for item in items:
        if "kafka_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    """A started broker of this test's own, stopped and removed afterwards."""
    broker = OwnBroker(tmp_path / "broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.run("stop")
        shutil.rmtree(broker.cache, ignore_errors=True)
