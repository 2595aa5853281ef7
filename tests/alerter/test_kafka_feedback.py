"""Corrections on the real broker: a rejected observation's alert is retracted to the channels that got it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from services.alerter.signing import verify
from shared.bus import KafkaBus
from shared.contracts import DeliveryTask, Feedback, Position, PositionChange, feedback_id_for
from shared.topics import Topics
from tests.support import wait_until

from .factories import T0, obs
from .kafka_alerter import SECRET, publish, running_alerter, settings_for
from .receiver import Receiver

pytestmark = pytest.mark.timeout(120)


async def latest(bus: KafkaBus, topic: str, key: str) -> bytes | None:
    values = [r.value for r in await bus.read_all(topic) if r.key == key]
    return values[-1] if values else None


async def retraction_tasks(bus: KafkaBus, topics: Topics) -> list[DeliveryTask]:
    tasks = [DeliveryTask.from_json_bytes(r.value or b"") for r in await bus.read_all(topics.deliveries.name)]
    return [t for t in tasks if t.event == "alert.retracted"]


async def test_a_rejected_reversal_is_retracted_to_its_channels_once_and_the_position_reverts(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    receiver = Receiver()
    base = await receiver.start()
    try:
        async with running_alerter(kafka_bus, topics, settings_for(topics, base)) as ctx:
            await publish(kafka_bus, topics, obs("c1", "support"), obs("c2", "oppose", hours=3))
            await wait_until(lambda: receiver.to("/hook", 200) and receiver.to("/slack", 200), timeout=30)
            (raw,) = [r.value for r in await kafka_bus.read_all(topics.alerts.name)]
            alert = PositionChange.from_json_bytes(raw or b"")
            at = T0 + timedelta(days=1)
            fb = Feedback(
                feedback_id=feedback_id_for("rutte", "tomahawks", "c2", "wrong-stance", "desk-ana", at.isoformat()),
                actor="rutte",
                topic="tomahawks",
                article_id="c2",
                stance="oppose",
                alert_id=alert.alert_id,
                verdict="wrong-stance",
                corrected_stance="support",
                note="the sentence reports a critic's view",
                author="desk-ana",
                created_at=at,
                evidence=alert.after.evidence,
                article=alert.after.article,
            )
            await kafka_bus.publish(topics.feedback.name, fb, key=fb.key)
            await wait_until(lambda: len(receiver.to("/hook", 200)) >= 2 and len(receiver.to("/slack", 200)) >= 2, 30)

            # The webhook got a signed delivery of the alert's retracted version.
            hook = receiver.to("/hook", 200)[1]
            verify(SECRET, hook.headers, hook.body)
            body = json.loads(hook.body)
            assert body["type"] == "alert.retracted"
            assert (body["data"]["alert_id"], body["data"]["status"]) == (alert.alert_id, "retracted")
            assert body["data"]["retraction"]["feedback_id"] == fb.feedback_id
            # Both channels it was routed to got an alert.retracted task with that version.
            tasks = await retraction_tasks(kafka_bus, topics)
            assert sorted(t.channel for t in tasks) == ["slack", "webhook"]
            assert all(t.alerts[0].status == "retracted" and t.alerts[0].alert_id == alert.alert_id for t in tasks)
            # The alerts topic's newest version of the alert is the retracted one.
            versions = [
                PositionChange.from_json_bytes(r.value or b"") for r in await kafka_bus.read_all(topics.alerts.name)
            ]
            assert [v.status for v in versions if v.alert_id == alert.alert_id][-1] == "retracted"
            # The position was recomputed without the rejected observation, and remembers the rejection.
            position = Position.from_json_bytes(await latest(kafka_bus, topics.positions.name, fb.key) or b"")
            assert position.established == "support"
            assert [h.article.id for h in position.history] == ["c1"]
            assert [(r.article_id, r.feedback_id) for r in position.rejected] == [("c2", fb.feedback_id)]

            # The same feedback again, and the rejected observation redelivered: nothing more is sent.
            positions_before = len(await kafka_bus.read_all(topics.positions.name))
            await kafka_bus.publish(topics.feedback.name, fb, key=fb.key)
            await publish(kafka_bus, topics, obs("c2", "oppose", hours=3))
            results = ctx.metrics.counter("feedback_results_total", "", ["verdict", "result"])
            observations = ctx.metrics.counter("observations_total", "", ["result"])
            await wait_until(
                lambda: (
                    results.value(verdict="wrong-stance", result="duplicate") == 1
                    and observations.value(result="rejected") == 1
                ),
                timeout=30,
            )
            assert len(await retraction_tasks(kafka_bus, topics)) == 2
            assert len(await kafka_bus.read_all(topics.positions.name)) == positions_before
            assert results.value(verdict="wrong-stance", result="applied") == 1
            assert ctx.metrics.counter("feedback_received_total", "", ["verdict"]).value(verdict="wrong-stance") == 2
            assert ctx.metrics.counter("alerts_retracted_total", "", ["severity"]).value(severity="reversal") == 1
        assert len(receiver.to("/hook")) == 2 and len(receiver.to("/slack")) == 2
    finally:
        await receiver.stop()


async def test_an_alerter_restarted_after_a_retraction_does_not_retract_again_nor_count_the_observation(
    kafka_bus: KafkaBus, topics: Topics
) -> None:
    receiver = Receiver()
    base = await receiver.start()
    settings = settings_for(topics, base)
    try:
        async with running_alerter(kafka_bus, topics, settings):
            await publish(kafka_bus, topics, obs("d1", "support"), obs("d2", "oppose", hours=3))
            await wait_until(lambda: receiver.to("/hook", 200), timeout=30)
            at = T0 + timedelta(days=1)
            fb = Feedback(
                feedback_id=feedback_id_for("rutte", "tomahawks", "d2", "not-holder", "desk-ben", at.isoformat()),
                actor="rutte",
                topic="tomahawks",
                article_id="d2",
                stance="oppose",
                verdict="not-holder",
                author="desk-ben",
                created_at=at,
            )
            await kafka_bus.publish(topics.feedback.name, fb, key=fb.key)
            await wait_until(lambda: len(receiver.to("/hook", 200)) >= 2, timeout=30)
        # A new instance rebuilds from positions and alerts; the feedback and the observation come again.
        async with running_alerter(kafka_bus, topics, settings) as ctx:
            await kafka_bus.publish(topics.feedback.name, fb, key=fb.key)
            await publish(kafka_bus, topics, obs("d2", "oppose", hours=3))
            results = ctx.metrics.counter("feedback_results_total", "", ["verdict", "result"])
            observations = ctx.metrics.counter("observations_total", "", ["result"])
            await wait_until(
                lambda: (
                    results.value(verdict="not-holder", result="duplicate") == 1
                    and observations.value(result="rejected") == 1
                ),
                timeout=30,
            )
            assert len(await retraction_tasks(kafka_bus, topics)) == 2
        assert len(receiver.to("/hook")) == 2
    finally:
        await receiver.stop()
