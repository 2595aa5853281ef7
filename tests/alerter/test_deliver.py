"""Delivery: backoff with jitter, Retry-After, rate limit, requeue on Kafka, dead letters, outcomes."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from services.alerter.channels import SlackChannel, WebhookChannel
from services.alerter.deliver import (
    Deliverer,
    RateLimiter,
    RetryPolicy,
    backoff_s,
    deliver_now,
    immediate_task,
)
from services.alerter.lanes import DeliveryLane, DeliveryLanes
from services.alerter.settings import AlerterSettings
from shared.bus import MemoryBus
from shared.contracts import DeliveryOutcome, DeliveryTask
from shared.topics import Topics

from .factories import T0, alert
from .fakes import FakeTime, scripted

SECRET = "whsec_" + base64.b64encode(b"deliver-test-key").decode()


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=30.0)
    assert [backoff_s(n, policy, rand=lambda: 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert [backoff_s(n, policy, rand=lambda: 1.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert backoff_s(20, policy, rand=lambda: 1.0) == 30.0


async def test_rate_limiter_spaces_messages_per_channel() -> None:
    t = FakeTime()
    limiter = RateLimiter(t.monotonic, t.sleep)
    for _ in range(3):
        await limiter.wait("slack", 1.0)
    await limiter.wait("other", 1.0)
    assert t.sleeps == [1.0, 1.0] and t.now == 2.0


async def test_server_errors_are_retried_with_backoff_until_delivered() -> None:
    t, seen = FakeTime(), []
    policy = RetryPolicy(max_attempts=5, attempts_per_series=5, backoff_base_s=1.0)
    async with httpx.AsyncClient(transport=scripted([500, 502, 204], seen)) as client:
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), SecretStr(SECRET), client)
        d = Deliverer({"hook": ch}, policy, sleep=t.sleep, monotonic=t.monotonic, rand=lambda: 0.0)
        result = await d.series(immediate_task("hook", alert(), T0))
    assert (result.status, result.attempts, result.http_status) == ("delivered", 3, 204)
    assert t.sleeps == [0.5, 1.0]
    assert len({r.headers["webhook-id"] for r in seen}) == 1


async def test_429_retry_after_is_honoured_instead_of_backoff() -> None:
    t, seen = FakeTime(), []
    async with httpx.AsyncClient(transport=scripted([(429, {"Retry-After": "7"}), 200], seen)) as client:
        ch = SlackChannel("team", SecretStr("https://hooks.slack.test/x"), client, min_interval_s=0)
        d = Deliverer({"team": ch}, RetryPolicy(), sleep=t.sleep, monotonic=t.monotonic, rand=lambda: 0.0)
        result = await d.series(immediate_task("team", alert(), T0))
    assert result.status == "delivered" and t.sleeps == [7.0]


async def test_series_stops_after_its_attempts_and_reports_when_to_retry() -> None:
    t, seen = FakeTime(), []
    policy = RetryPolicy(max_attempts=10, attempts_per_series=2, backoff_base_s=2.0)
    async with httpx.AsyncClient(transport=scripted([503], seen)) as client:
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), None, client)
        d = Deliverer({"hook": ch}, policy, sleep=t.sleep, monotonic=t.monotonic, rand=lambda: 0.0)
        result = await d.series(immediate_task("hook", alert(), T0))
    assert (result.status, result.attempts, result.http_status) == ("failed", 2, 503)
    assert result.retry_in_s == 2.0 and "HTTP 503" in (result.last_error or "")


async def test_long_retry_after_ends_the_series_instead_of_blocking() -> None:
    t, seen = FakeTime(), []
    async with httpx.AsyncClient(transport=scripted([(429, {"Retry-After": "120"})], seen)) as client:
        ch = SlackChannel("team", SecretStr("https://hooks.slack.test/x"), client, min_interval_s=0)
        d = Deliverer({"team": ch}, RetryPolicy(), sleep=t.sleep, monotonic=t.monotonic)
        result = await d.series(immediate_task("team", alert(), T0))
    assert (result.status, result.attempts, result.retry_in_s) == ("failed", 1, 120.0)
    assert t.sleeps == [] and len(seen) == 1


async def test_client_error_is_dead_lettered_without_retry() -> None:
    t, seen = FakeTime(), []
    async with httpx.AsyncClient(transport=scripted([404], seen)) as client:
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), None, client)
        d = Deliverer({"hook": ch}, RetryPolicy(), sleep=t.sleep, monotonic=t.monotonic)
        result = await d.series(immediate_task("hook", alert(), T0))
    assert (result.status, result.attempts, len(seen)) == ("dead-lettered", 1, 1)


class Harness:
    def __init__(self, statuses: list[int], policy: RetryPolicy, max_age: timedelta = timedelta(hours=1)) -> None:
        self.seen: list[httpx.Request] = []
        self.client = httpx.AsyncClient(transport=scripted(statuses, self.seen))
        self.time = FakeTime()
        self.bus = MemoryBus()
        self.topics = Topics(prefix="u.")
        self.now = T0
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), SecretStr(SECRET), self.client)
        d = Deliverer({"hook": ch}, policy, sleep=self.time.sleep, monotonic=self.time.monotonic, rand=lambda: 0.0)
        self.worker = DeliveryLane(
            "hook", self.bus, self.topics, d, stop=asyncio.Event(), max_age=max_age, clock=lambda: self.now
        )

    async def drain(self, rounds: int = 20) -> None:
        """Feed every queued task to the worker, as the consumer loop would, advancing the clock."""
        offset = 0
        for _ in range(rounds):
            recs = self.bus.records(self.topics.deliveries.name)[offset:]
            if not recs:
                return
            for rec in recs:
                offset += 1
                task = DeliveryTask.from_json_bytes(rec.value or b"")
                held = task.delivery_id.startswith("held:")
                if not held and task.not_before is not None and task.not_before > self.now:
                    self.now = task.not_before
                await self.worker.handle(rec)

    def outcomes(self) -> list[DeliveryOutcome]:
        return [
            DeliveryOutcome.from_json_bytes(r.value or b"")
            for r in self.bus.records(self.topics.delivery_outcomes.name)
        ]


async def test_worker_requeues_on_kafka_then_delivers_once_after_recovery() -> None:
    h = Harness([500, 500, 500, 500, 200], RetryPolicy(max_attempts=10, attempts_per_series=2))
    await h.bus.start()
    task = immediate_task("hook", alert(), T0)
    await h.worker.enqueue(task)
    await h.drain()
    # One series of 2, then the failing channel is probed one attempt per try, each re-queued on Kafka.
    assert [o.status for o in h.outcomes()] == ["failed", "failed", "failed", "delivered"]
    assert [o.attempts for o in h.outcomes()] == [2, 3, 4, 5]
    queued = [DeliveryTask.from_json_bytes(r.value or b"") for r in h.bus.records(h.topics.deliveries.name)]
    assert [t.attempt for t in queued] == [0, 2, 3, 4] and queued[1].last_error
    assert {t.first_due for t in queued} == {T0}  # the age counts from the first queueing, across re-queues
    # The same task redelivered later is not sent again.
    before = len(h.seen)
    await h.worker.handle(h.bus.records(h.topics.deliveries.name)[0])
    assert len(h.seen) == before
    await h.client.aclose()


async def test_worker_dead_letters_after_the_retry_budget_with_the_last_error() -> None:
    h = Harness([503], RetryPolicy(max_attempts=4, attempts_per_series=2))
    await h.bus.start()
    await h.worker.enqueue(immediate_task("hook", alert(), T0))
    await h.drain()
    assert [o.status for o in h.outcomes()] == ["failed", "failed", "dead-lettered"]
    (dead,) = h.bus.records(h.topics.dead_letters.name)
    assert dead.header("error") == "webhook hook: HTTP 503" and dead.header("attempts") == "4"
    assert dead.header("reason") == "retry-budget"
    assert b"hooks.test" not in (dead.value or b"") and len(h.seen) == 4
    await h.client.aclose()


async def test_held_alerts_are_sent_as_one_digest_when_due() -> None:
    from services.alerter.digest import held_task

    h = Harness([200], RetryPolicy())
    await h.bus.start()
    release = T0 + timedelta(hours=1)
    for art in ("a2", "a3"):
        await h.worker.enqueue(held_task("hook", alert(art), release))
    await h.drain()
    assert [o.status for o in h.outcomes()] == ["held", "held"] and h.seen == []
    assert await h.worker.flush_digests() == 0
    h.now = release
    assert await h.worker.flush_digests() == 1
    await h.drain()
    (req,) = h.seen
    assert req.headers["webhook-id"].startswith("digest:hook:")
    # A restarted worker rebuilding from the topics does not hold them again.
    fresh = DeliveryLanes(
        h.bus, h.topics, h.worker.deliverer, stop=asyncio.Event(), max_age=timedelta(hours=1), clock=lambda: h.now
    )
    await fresh.rebuild()
    assert fresh.lanes["hook"].digests.pending == {} and await fresh.flush_digests() == 0
    await h.client.aclose()


async def test_deliver_now_routes_by_env_and_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    settings = AlerterSettings(
        webhook_url=SecretStr("https://hooks.test/in"),
        webhook_secret=SecretStr(SECRET),
        slack_webhook_url=SecretStr("https://hooks.slack.test/x"),
        slack_min_interval=timedelta(0),
    )
    async with httpx.AsyncClient(transport=scripted([200], seen)) as client:
        outcomes = await deliver_now([alert("a2"), alert("a3")], settings, env={}, client=client)
    assert (
        sorted((o.channel, o.status) for o in outcomes) == [("slack", "delivered")] * 2 + [("webhook", "delivered")] * 2
    )
    assert sum(1 for r in seen if "webhook-signature" in r.headers) == 2
