"""Two alerters share the work; one is killed (SIGKILL) mid-stream and the other takes over, losing nothing.

Both run as processes in one consumer group on the suite's broker. Sixty figures each get a first
stance and then a reversal, so every partition has keys; the instance that runs the webhook lane is
killed after some alerts were delivered, while others are still in their grace period, queued for
delivery (the endpoint is slow), or not published yet. The survivor must take its partitions over:
positions and grace-pending changes (rebuilt from ``positions``), queued deliveries (``deliveries``,
minus what ``delivery-outcomes`` says was sent) and the lane itself.

Exactly once, as the receiver sees it: delivery is at-least-once under a stable ``webhook-id``
(the alert's id) and the receiver drops a repeated id, so every expected shift must be
*notified* exactly once (one alert, one id), nothing else may arrive, and repeated ids (a delivery the
killed instance made but had not yet recorded) are counted: at most the one in flight at the kill.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from services.alerter.lanes import lane_group
from services.demo.__main__ import Pipeline, free_port, new_secret, service_env
from services.demo.receiver import WebhookReceiver
from shared.bus import KafkaBus
from shared.topics import Topics
from tests.alerter.factories import obs
from tests.faults.cluster import all_recorded, assignment, log_entries, readiness, settled
from tests.support import wait_until

FIGURES = 60
TOPIC = "tomahawks"
#: Short, so the test is quick; long enough that many reversals are inside it at the kill.
GRACE_S = 5
#: One reversal every this many seconds (60 span 9 s).
SPACING_S = 0.15
#: The endpoint answers each webhook this late: deliveries queue up at the lane.
ANSWER_AFTER_S = 0.25
#: The kill comes once this many alerts were delivered.
KILL_AFTER = 12
INSTANCES = ("alerter-a", "alerter-b")


@pytest.mark.slow
async def test_a_killed_alerter_s_partitions_are_taken_over_and_every_alert_is_notified_exactly_once(
    kafka_bus: KafkaBus, topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    secret = new_secret()
    receiver = WebhookReceiver(secret, answer_after_s=ANSWER_AFTER_S).start()
    pipeline = Pipeline(tmp_path)
    group, delivery_group = f"{topics.prefix}alerter", f"{topics.prefix}alerter-delivery"
    lane = lane_group(delivery_group, "webhook")
    logs = [tmp_path / f"{name}.log" for name in INSTANCES]
    partition_of: dict[str, int] = {}
    figures: dict[str, float | int] = {}

    def notified() -> list[tuple[str, str, str, str]]:
        return [(r.alert.actor, r.alert.topic, r.alert.from_stance, r.alert.to_stance) for r in receiver.stats.accepted]

    async def all_ready() -> bool:
        assert pipeline.dead() == [], f"exited: {pipeline.dead()}: {pipeline.tail(pipeline.dead()[0])}"
        async with httpx.AsyncClient() as client:
            return all([await readiness(client, pipeline.ports[n]) == 200 for n in INSTANCES])

    async def publish_reversals(figures_: list[str]) -> None:
        for n, actor in enumerate(figures_):
            second = "oppose" if n % 2 == 0 else "support"
            reversal = obs(f"{actor}-2", second, actor=actor, topic=TOPIC, hours=1)
            await kafka_bus.publish(topics.observations.name, reversal, key=reversal.key)
            await asyncio.sleep(SPACING_S)  # the stream's pace, not a wait for a condition

    try:
        for name in INSTANCES:
            env = service_env(
                "alerter",
                bootstrap=kafka_bootstrap,
                prefix=topics.prefix,
                port=free_port(),
                feeds_file=tmp_path / "feeds.txt",
                webhook_url=receiver.url,
                secret=secret,
                poll_interval=1.0,
                alert_grace=f"{GRACE_S}s",
            )
            env |= {"STANCEWATCH_GROUP_ID": group, "STANCEWATCH_DELIVERY_GROUP_ID": delivery_group}
            pipeline.start(name, env, command="alerter")
        await wait_until(all_ready, 90)
        # Both instances hold part of each group before anything is published.
        await wait_until(lambda: settled(logs, group, topics.observations.name, topics.observations.partitions), 60)
        await wait_until(lambda: settled(logs, lane, topics.deliveries.name, topics.deliveries.partitions), 60)

        actors = [f"figure-{n:02d}" for n in range(FIGURES)]
        expected = []
        for n, actor in enumerate(actors):
            first, second = ("support", "oppose") if n % 2 == 0 else ("oppose", "support")
            stated = obs(f"{actor}-1", first, actor=actor, topic=TOPIC)
            written = await kafka_bus.publish(topics.observations.name, stated, key=stated.key)
            assert written is not None
            partition_of[stated.key] = written.partition
            expected.append((actor, TOPIC, first, second))
        assert set(partition_of.values()) == set(range(topics.observations.partitions)), "keys on every partition"
        stream = asyncio.create_task(publish_reversals(actors))

        await wait_until(lambda: len(receiver.stats.accepted) >= KILL_AFTER, 60)
        (lane_partition,) = {r.partition for r in await kafka_bus.read_all(topics.deliveries.name)}
        runs_lane = [(topics.deliveries.name, lane_partition) in (assignment(log, lane) or ()) for log in logs]
        victim = INSTANCES[runs_lane.index(True)]
        survivor = next(n for n in INSTANCES if n != victim)
        held = {p for t, p in assignment(tmp_path / f"{victim}.log", group) or () if t == topics.observations.name}
        pipeline.procs[victim].send_signal(signal.SIGKILL)
        killed_at = time.time()
        pipeline.procs[victim].wait(10)
        victim_keys = {k for k, p in partition_of.items() if p in held}
        delivered_at_kill = {r.alert.key for r in receiver.stats.accepted}
        figures |= {"delivered_at_kill": len(delivered_at_kill), "victim_keys": len(victim_keys)}
        assert victim_keys - delivered_at_kill, "some of the killed instance's alerts were still to come"

        await stream
        try:
            await wait_until(lambda: set(expected) <= set(notified()), 120)
        except AssertionError as exc:
            missing = sorted(set(expected) - set(notified()))
            raise AssertionError(f"{len(missing)} never delivered: {missing[:10]}") from exc
        after_all = [r.at - killed_at for r in receiver.stats.accepted]
        after = [a for a in after_all if a > 0]
        accepted = zip(receiver.stats.accepted, after_all, strict=True)
        taken_over = [a for r, a in accepted if a > 0 and r.alert.key in victim_keys]
        figures |= {"first_delivery_after_kill_s": round(min(after), 1), "takeover_s": round(min(taken_over), 1)}

        await wait_until(lambda: all_recorded(kafka_bus, topics), 30)  # nothing left that could arrive late
        loads = log_entries(tmp_path / f"{survivor}.log", "partitions loaded")
        figures["load_s"] = float(loads[-1]["seconds"])  # type: ignore[arg-type]  # the takeover's load
        assert pipeline.dead() == [victim], f"the survivor exited: {pipeline.tail(survivor)}"
    finally:
        pipeline.stop()
        receiver.stop()
        figures["repeated_webhook_ids"] = receiver.stats.duplicates
        (tmp_path / "figures.json").write_text(json.dumps(figures))
        print("alerter fail-over figures:", json.dumps(figures))

    assert receiver.stats.rejected == []
    assert sorted(notified()) == sorted(expected), "every expected shift notified exactly once, and nothing else"
    assert len({r.alert.alert_id for r in receiver.stats.accepted}) == len(expected)
    assert receiver.stats.duplicates <= 1, "only a delivery in flight at the kill may be made twice"
    # Session timeout (10 s) + a heartbeat + the rebuild + what is left of the grace (5 s), with room for load.
    assert figures["takeover_s"] < 40
