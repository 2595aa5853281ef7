"""Every client through a real SASL broker (kafka.sh with KAFKA_SASL=scram, and KAFKA_TLS=1): right credentials work,
wrong ones stop at start with a configuration error, never a wait for a broker that is there.

Two brokers of the module's own on free ports, each started once: SASL_PLAINTEXT (SCRAM-SHA-512 and
PLAIN) and SASL_SSL (the same over TLS, with a CA kafka.sh made).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.bus import ConsumerLoop, KafkaBus, KafkaSecurity, Record
from shared.errors import ConfigError
from shared.topics import Topics
from tests.support import OwnBroker, clean_env, stancewatch

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

WRONG = "not-the-password-0451"


@pytest.fixture(scope="module")
def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp_path_factory.mktemp("scram") / "broker", sasl=True)
    t0 = time.monotonic()
    broker.start()
    logging.getLogger("tests").info("SCRAM broker started in %.1fs", time.monotonic() - t0)
    try:
        yield broker
    finally:
        broker.run("stop")
        shutil.rmtree(broker.cache, ignore_errors=True)


def security(mechanism: str = "SCRAM-SHA-512", password: str = OwnBroker.SASL_PASSWORD) -> KafkaSecurity:
    return KafkaSecurity(
        protocol="SASL_PLAINTEXT", mechanism=mechanism, username=OwnBroker.SASL_USERNAME, password=SecretStr(password)
    )


async def consume(bus: KafkaBus, topic: str, group: str, n: int) -> list[Record]:
    got: list[Record] = []
    stop = asyncio.Event()

    async def handler(rec: Record) -> None:
        got.append(rec)
        if len(got) >= n:
            stop.set()

    loop = ConsumerLoop(bus, [topic], group, handler, dead_letter_topic=f"{topic}.unused")
    await asyncio.wait_for(loop.run(stop), 30)
    return got


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_a_bus_with_the_right_credentials_creates_topics_publishes_consumes_and_reads_back(
    scram_broker: OwnBroker, topic_prefix: str, mechanism: str
) -> None:
    topics = Topics(prefix=topic_prefix)
    bus = KafkaBus(scram_broker.bootstrap, client_id="sasl-test", security=security(mechanism))
    await bus.start()
    try:
        assert topics.articles.name in await bus.ensure_topics(topics.all())  # admin
        await bus.publish(topics.articles.name, b'{"n": 1}', key="a1")  # producer
        got = await consume(bus, topics.articles.name, f"{topic_prefix}group", 1)  # group consumer, commits
        assert [(r.key, r.value) for r in got] == [("a1", b'{"n": 1}')]
        assert [r.key for r in await bus.read_all(topics.articles.name)] == ["a1"]  # read_all's own consumer
    finally:
        await bus.stop()


async def test_a_wrong_password_fails_at_start_with_a_configuration_error_naming_the_variables(
    scram_broker: OwnBroker, caplog: pytest.LogCaptureFixture
) -> None:
    bus = KafkaBus(scram_broker.bootstrap, security=security(password=WRONG))
    t0 = time.monotonic()
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError) as err:
        await asyncio.wait_for(bus.start(), 20)
    message = str(err.value)
    assert message.startswith(f"producer start ({scram_broker.bootstrap}): the broker refused the SCRAM-SHA-512")
    assert "STANCEWATCH_KAFKA_SASL_USERNAME and STANCEWATCH_KAFKA_SASL_PASSWORD" in message
    assert "SaslAuthenticationFailed" in message
    assert time.monotonic() - t0 < 10
    assert WRONG not in message and WRONG not in caplog.text


async def test_a_wrong_password_stops_the_consumer_read_all_and_admin_too(
    scram_broker: OwnBroker, topic_prefix: str
) -> None:
    bus = KafkaBus(scram_broker.bootstrap, security=security(password=WRONG))
    consumer = bus.consumer([f"{topic_prefix}x"], f"{topic_prefix}g")
    with pytest.raises(ConfigError, match=r"^consumer start .*STANCEWATCH_KAFKA_SASL_PASSWORD"):
        await consumer.start()
    with pytest.raises(ConfigError, match=rf"^read {topic_prefix}x .*STANCEWATCH_KAFKA_SASL_PASSWORD"):
        await bus.read_all(f"{topic_prefix}x")
    with pytest.raises(ConfigError, match=r"^topic bootstrap .*STANCEWATCH_KAFKA_SASL_PASSWORD"):
        await bus.ensure_topics(Topics(prefix=topic_prefix).all())


async def test_a_service_whose_credentials_the_broker_refuses_exits_2_at_once_instead_of_waiting(
    scram_broker: OwnBroker,
) -> None:
    env = clean_env(
        KAFKA_BOOTSTRAP_SERVERS=scram_broker.bootstrap,
        STANCEWATCH_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        STANCEWATCH_KAFKA_SASL_USERNAME=OwnBroker.SASL_USERNAME,
        STANCEWATCH_KAFKA_SASL_PASSWORD=WRONG,
        STANCEWATCH_CONSOLE_ALERTS="1",
        STANCEWATCH_LOG_JSON="0",
    )
    t0 = time.monotonic()
    done = await stancewatch("alerter", env=env, timeout=30)
    assert done.status == 2, done.out + done.err
    assert time.monotonic() - t0 < 20
    assert "the broker refused the SCRAM-SHA-512 credentials of user 'stancewatch'" in done.out
    assert "STANCEWATCH_KAFKA_SASL_USERNAME and STANCEWATCH_KAFKA_SASL_PASSWORD" in done.out
    assert "waiting for the broker" not in done.err and "Traceback" not in done.err
    assert WRONG not in done.out + done.err


async def test_a_service_with_the_right_credentials_starts_and_creates_its_topics(
    scram_broker: OwnBroker, topic_prefix: str
) -> None:
    env = clean_env(
        KAFKA_BOOTSTRAP_SERVERS=scram_broker.bootstrap,
        STANCEWATCH_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        STANCEWATCH_KAFKA_SASL_USERNAME=OwnBroker.SASL_USERNAME,
        STANCEWATCH_KAFKA_SASL_PASSWORD=OwnBroker.SASL_PASSWORD,
        STANCEWATCH_TOPIC_PREFIX=topic_prefix,
    )
    done = await stancewatch("topics", env=env, timeout=30)
    assert done.status == 0, done.out + done.err
    assert "created" in done.out
    bus = KafkaBus(scram_broker.bootstrap, security=security())
    assert await bus.ensure_topics(Topics(prefix=topic_prefix).all()) == []  # all there already


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnBroker]:
    """SASL_SSL: SCRAM over TLS, the broker's certificate signed by a CA kafka.sh made."""
    broker = OwnBroker(tmp_path_factory.mktemp("tls") / "broker", sasl=True, tls=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.run("stop")
        shutil.rmtree(broker.cache, ignore_errors=True)


def tls_security(cafile: Path | None) -> KafkaSecurity:
    return dataclasses.replace(security(), protocol="SASL_SSL", cafile=cafile)


async def test_over_tls_with_the_brokers_ca_a_bus_publishes_and_reads_back(
    tls_broker: OwnBroker, topic_prefix: str
) -> None:
    topics = Topics(prefix=topic_prefix)
    bus = KafkaBus(tls_broker.bootstrap, security=tls_security(tls_broker.ca))
    await bus.start()
    try:
        await bus.ensure_topics(topics.all())
        await bus.publish(topics.articles.name, b"over tls", key="t1")
        assert [r.value for r in await bus.read_all(topics.articles.name)] == [b"over tls"]
    finally:
        await bus.stop()


async def test_a_broker_certificate_the_ca_setting_does_not_trust_is_a_configuration_error(
    tls_broker: OwnBroker,
) -> None:
    bus = KafkaBus(tls_broker.bootstrap, security=tls_security(None))  # the system's CAs: not kafka.sh's
    with pytest.raises(ConfigError, match=r"^producer start .*not trusted: check STANCEWATCH_KAFKA_SSL_CAFILE"):
        await asyncio.wait_for(bus.start(), 20)


async def test_stancewatch_topics_with_a_wrong_password_exits_2_naming_the_variables(scram_broker: OwnBroker) -> None:
    env = clean_env(
        KAFKA_BOOTSTRAP_SERVERS=scram_broker.bootstrap,
        STANCEWATCH_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        STANCEWATCH_KAFKA_SASL_USERNAME=OwnBroker.SASL_USERNAME,
        STANCEWATCH_KAFKA_SASL_PASSWORD=WRONG,
    )
    done = await stancewatch("topics", env=env, timeout=30)
    assert done.status == 2, done.out + done.err
    assert "topic bootstrap" in done.err and "STANCEWATCH_KAFKA_SASL_PASSWORD" in done.err
    assert WRONG not in done.out + done.err
