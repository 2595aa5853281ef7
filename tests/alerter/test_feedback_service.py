"""Corrections through the wired alerter on the in-memory bus: bad input, unknown targets, reordering."""

from __future__ import annotations

from datetime import timedelta

import httpx

from shared.bus import MemoryBus
from shared.contracts import Feedback, Position, feedback_id_for
from tests.support import wait_until

from .factories import T0, obs
from .test_service import alerter


def rejection(article: str, stance: str, *, actor: str = "rutte", author: str = "desk-ana") -> Feedback:
    at = T0 + timedelta(days=2)
    return Feedback(
        feedback_id=feedback_id_for(actor, "tomahawks", article, "not-holder", author, at.isoformat()),
        actor=actor,
        topic="tomahawks",
        article_id=article,
        stance=stance,
        verdict="not-holder",
        author=author,
        created_at=at,
    )


async def test_a_bad_feedback_record_is_dead_lettered_and_the_next_correction_still_applies() -> None:
    bus = MemoryBus()
    sent: list[httpx.Request] = []
    async with alerter(bus, lambda r: sent.append(r) or httpx.Response(200)) as ctx:
        feedback, observations = ctx.topics.feedback.name, ctx.topics.observations.name
        await bus.publish(feedback, b'{"verdict": "maybe"}', key="rutte:tomahawks")
        # A rejection of an observation that has not arrived yet, and of a figure never seen.
        await bus.publish(feedback, rejection("e2", "oppose"), key="rutte:tomahawks")
        await bus.publish(feedback, rejection("x1", "support", actor="nobody"), key="nobody:tomahawks")
        for o in (obs("e1", "support"), obs("e2", "oppose", hours=2)):
            await bus.publish(observations, o, key=o.key)
        counted = ctx.metrics.counter("observations_total", "", ["result"])
        await wait_until(lambda: counted.value(result="rejected") == 1, timeout=5)
        (dead,) = bus.records(ctx.topics.dead_letters.name)
        assert dead.header("source_topic") == feedback and dead.header("error_kind") == "poison"
        results = ctx.metrics.counter("feedback_results_total", "", ["verdict", "result"])
        assert results.value(verdict="not-holder", result="unknown") == 2
        positions = {r.key: Position.from_json_bytes(r.value or b"") for r in bus.records(ctx.topics.positions.name)}
        assert positions["rutte:tomahawks"].established == "support"
        assert [h.article.id for h in positions["rutte:tomahawks"].history] == ["e1"]
        assert [r.article_id for r in positions["nobody:tomahawks"].rejected] == ["x1"]
    assert not [r for r in bus.records(ctx.topics.alerts.name)], "the rejected reversal raised an alert"
    assert sent == []
