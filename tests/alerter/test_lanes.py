"""Delivery lanes: what a lane decides for a task (pure), and a lane on the in-memory bus with a fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from services.alerter.channels import WebhookChannel
from services.alerter.deliver import Deliverer, RetryPolicy, immediate_task
from services.alerter.lanes import Circuit, DeliveryLane, first_due, lane_group, plan
from shared.bus import MemoryBus
from shared.contracts import DeliveryOutcome, DeliveryTask
from shared.topics import Topics

from .factories import T0, alert
from .fakes import FakeTime, scripted

HOUR = timedelta(hours=1)
DEADLINE = T0 + HOUR


def task(**update: object) -> DeliveryTask:
    return immediate_task("hook", alert(), T0).model_copy(update=update)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- what a lane does with a task ---


def test_a_due_task_of_a_healthy_channel_is_tried_now() -> None:
    assert plan(task(), later(1), DEADLINE, None).action == "attempt"


def test_a_task_not_yet_due_waits_for_its_own_time() -> None:
    step = plan(task(not_before=later(60)), later(1), DEADLINE, None)
    assert (step.action, step.at) == ("wait", later(60))


def test_while_its_channel_is_failing_a_due_task_is_requeued_to_the_next_try_with_the_channel_error() -> None:
    circuit = Circuit(until=later(30), error="webhook hook: HTTP 500", http_status=500)
    step = plan(task(), later(1), DEADLINE, circuit)
    assert (step.action, step.at, step.error) == ("defer", later(30), "webhook hook: HTTP 500")


def test_a_task_due_after_its_channel_reopens_simply_waits_for_its_own_time() -> None:
    circuit = Circuit(until=later(30), error="webhook hook: HTTP 500")
    step = plan(task(not_before=later(45)), later(1), DEADLINE, circuit)
    assert (step.action, step.at) == ("wait", later(45))


def test_once_the_circuit_time_has_passed_the_channel_is_tried_again() -> None:
    circuit = Circuit(until=later(30), error="webhook hook: HTTP 500")
    assert plan(task(), later(30), DEADLINE, circuit).action == "attempt"


def test_a_task_past_its_deadline_is_given_up_with_its_own_last_error() -> None:
    circuit = Circuit(until=later(30), error="channel error")
    step = plan(task(last_error="webhook hook: HTTP 503"), DEADLINE, DEADLINE, circuit)
    assert (step.action, step.error) == ("expire", "webhook hook: HTTP 503")


def test_a_task_that_cannot_be_tried_before_its_deadline_is_given_up_now_with_the_channel_error() -> None:
    circuit = Circuit(until=DEADLINE + timedelta(seconds=1), error="webhook hook: HTTP 500")
    step = plan(task(), later(10), DEADLINE, circuit)
    assert (step.action, step.error) == ("expire", "webhook hook: HTTP 500")
    assert plan(task(not_before=DEADLINE), later(10), DEADLINE, None).action == "expire"


def test_the_age_counts_from_first_due_and_a_task_from_an_older_version_counts_from_its_record() -> None:
    record_time = later(600)
    assert first_due(task(), record_time) == T0
    assert first_due(task(first_due=None), record_time) == record_time


def test_each_channel_has_a_consumer_group_of_its_own() -> None:
    assert lane_group("stancewatch-alerter-delivery", "ops") == "stancewatch-alerter-delivery-ops"
    assert lane_group("g", "ops") != lane_group("g", "newsroom")


# --- a series never outlives its task's deadline ---


async def test_a_series_ends_instead_of_waiting_past_the_deadline() -> None:
    t, seen = FakeTime(), list[httpx.Request]()
    policy = RetryPolicy(max_attempts=10, attempts_per_series=5, backoff_base_s=4.0)
    async with httpx.AsyncClient(transport=scripted([500], seen)) as client:
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), None, client)
        d = Deliverer({"hook": ch}, policy, sleep=t.sleep, monotonic=t.monotonic, rand=lambda: 0.0)
        result = await d.series(task(), within_s=5.0)
    # Waits of 2 s and 4 s: the second would end at 6 s, past the 5 s left.
    assert (result.status, result.attempts, result.retry_in_s) == ("failed", 2, 4.0)
    assert t.sleeps == [2.0]


# --- a lane on the in-memory bus, its clock moved by the test ---


class Lane:
    """One lane for channel ``hook`` whose receiver answers ``statuses`` (the last one repeats)."""

    def __init__(self, statuses: list[int], policy: RetryPolicy, max_age: timedelta = HOUR) -> None:
        self.seen: list[httpx.Request] = []
        self.client = httpx.AsyncClient(transport=scripted(statuses, self.seen))
        self.time = FakeTime()
        self.bus = MemoryBus()
        self.topics = Topics(prefix="l.")
        self.now = T0
        ch = WebhookChannel("hook", SecretStr("https://hooks.test/in"), None, self.client)
        d = Deliverer({"hook": ch}, policy, sleep=self.time.sleep, monotonic=self.time.monotonic, rand=lambda: 0.0)
        self.lane = DeliveryLane(
            "hook", self.bus, self.topics, d, stop=asyncio.Event(), max_age=max_age, clock=lambda: self.now
        )

    async def drain(self, rounds: int = 200) -> None:
        """Hand every queued task to the lane in topic order, moving the clock to each one's due time."""
        offset = 0
        for _ in range(rounds):
            recs = self.bus.records(self.topics.deliveries.name)[offset:]
            if not recs:
                return
            for rec in recs:
                offset += 1
                due = DeliveryTask.from_json_bytes(rec.value or b"").not_before
                if due is not None and due > self.now:
                    self.now = due
                await self.lane.handle(rec)
        raise AssertionError("the lane did not settle")

    def outcomes(self) -> list[DeliveryOutcome]:
        return [
            DeliveryOutcome.from_json_bytes(r.value or b"")
            for r in self.bus.records(self.topics.delivery_outcomes.name)
        ]


async def down_for_an_hour(n: int) -> Lane:
    """``n`` tasks queued at T0 for a channel that answers 500 for good."""
    lane = Lane([500], RetryPolicy(max_attempts=1000, attempts_per_series=2, backoff_base_s=1.0, backoff_max_s=300.0))
    await lane.bus.start()
    for i in range(n):
        await lane.lane.enqueue(immediate_task("hook", alert(f"a{i + 2}"), T0))
    await lane.drain()
    await lane.client.aclose()
    return lane


async def test_a_down_channel_s_queued_tasks_all_reach_dead_letters_by_the_max_age_with_the_last_error() -> None:
    lane = await down_for_an_hour(5)
    dead = lane.bus.records(lane.topics.dead_letters.name)
    assert len(dead) == 5 and len({r.key for r in dead}) == 5
    for rec in dead:
        assert rec.header("reason") == "max-age" and rec.header("error") == "webhook hook: HTTP 500"
        assert datetime.fromisoformat(rec.header("failed_at") or "") <= T0 + HOUR
    statuses = [o.status for o in lane.outcomes()]
    assert statuses.count("dead-lettered") == 5 and "delivered" not in statuses


async def test_a_down_channel_s_queued_tasks_wait_on_its_circuit_instead_of_each_trying() -> None:
    one, five = await down_for_an_hour(1), await down_for_an_hour(5)
    # One task probes the channel; the others are re-queued behind it untried.
    assert len(five.seen) == len(one.seen)
    assert len({r.headers["webhook-id"] for r in five.seen}) == 1


async def test_a_delivery_closes_the_circuit_and_the_waiting_tasks_follow_at_once() -> None:
    lane = Lane([500, 500, 200], RetryPolicy(attempts_per_series=2))
    await lane.bus.start()
    for art in ("a2", "a3", "a4"):
        await lane.lane.enqueue(immediate_task("hook", alert(art), T0))
    await lane.drain()
    delivered = [o for o in lane.outcomes() if o.status == "delivered"]
    assert len(delivered) == 3 and len(lane.seen) == 5  # 2 failed, then one each
    assert lane.lane.circuit is None
    assert lane.bus.records(lane.topics.dead_letters.name) == []
    await lane.client.aclose()


async def test_a_lane_ignores_other_channels_tasks() -> None:
    lane = Lane([200], RetryPolicy())
    await lane.bus.start()
    await lane.lane.enqueue(immediate_task("other", alert(), T0))
    await lane.drain()
    assert lane.seen == [] and lane.outcomes() == []
    await lane.client.aclose()


async def test_a_task_queued_by_an_older_version_gets_its_age_from_its_record_and_keeps_it() -> None:
    lane = Lane([500], RetryPolicy(max_attempts=100, attempts_per_series=1))
    await lane.bus.start()
    old = immediate_task("hook", alert(), T0).model_copy(update={"first_due": None})
    await lane.lane.enqueue(old)
    record_time = datetime.fromtimestamp(lane.bus.records(lane.topics.deliveries.name)[0].timestamp_ms / 1000, tz=UTC)
    lane.now = record_time
    await lane.lane.handle(lane.bus.records(lane.topics.deliveries.name)[0])
    (retry,) = [DeliveryTask.from_json_bytes(r.value or b"") for r in lane.bus.records(lane.topics.deliveries.name)][1:]
    assert retry.first_due == record_time and retry.attempt == 1
    await lane.client.aclose()
