"""From a real broker into the store: every topic, re-delivery changes nothing, a new store reads from the start."""

from __future__ import annotations

from pathlib import Path

import httpx

from services.desk.store import SQLITE_FILE
from shared.bus import KafkaBus
from shared.topics import Topics
from tests.desk.factories import alert, feedback, observation, outcome, position
from tests.desk.running import desk_settings, running_desk
from tests.support import wait_until


async def publish_story(bus: KafkaBus, topics: Topics) -> dict[str, object]:
    l1 = observation("k1", "support", hours=1, sentence="Lind said the bridge “is the town’s best idea”.")
    l2 = observation("k2", "oppose", hours=6, sentence="Lind said the bridge “costs more than it carries”.")
    active = alert(l1, l2)
    retracted = alert(l1, l2, status="retracted")
    pos = position(l1, l2)
    for obs in (l1, l2):
        await bus.publish(topics.observations.name, obs, key=obs.key)
    await bus.publish(topics.positions.name, pos, key=pos.key)
    await bus.publish(topics.alerts.name, active, key=active.key)
    await bus.publish(topics.alerts.name, retracted, key=retracted.key)
    await bus.publish(topics.delivery_outcomes.name, outcome("dk1", [active.alert_id], "delivered", 3), key="dk1")
    given = feedback(l2, "not-holder", alert_id=active.alert_id)
    await bus.publish(topics.feedback.name, given, key=given.key)
    return {"l1": l1, "l2": l2, "alert": active, "feedback": given, "position": pos}


async def api(url: str, path: str, **params: str) -> dict:
    async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
        response = await http.get(path, params=params)
        response.raise_for_status()
        return response.json()


async def stored(url: str) -> tuple[int, int, str | None, int, int]:
    obs = await api(url, "/api/observations")
    alerts = await api(url, "/api/alerts")
    status = alerts["items"][0]["status"] if alerts["items"] else None
    deliveries = len(alerts["items"][0]["deliveries"]) if alerts["items"] else 0
    fb = await api(url, "/api/feedback")
    return obs["total"], alerts["total"], status, deliveries, fb["total"]


async def test_every_topic_reaches_the_store_and_redelivery_changes_nothing(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    story = await publish_story(kafka_bus, topics)
    settings = desk_settings(kafka_bootstrap, topics.prefix, tmp_path)
    complete = (2, 1, "retracted", 1, 1)
    async with running_desk(settings) as url:
        await wait_until(lambda: _equals(stored(url), complete), timeout=30)
        overview = await api(url, "/api/overview")
        assert [c["established"] for c in overview["cells"]] == ["oppose"]
        # The same records published again (a producer retry, an upstream replay).
        for obs in (story["l1"], story["l2"]):
            await kafka_bus.publish(topics.observations.name, obs, key=obs.key)  # type: ignore[attr-defined]
        await kafka_bus.publish(topics.feedback.name, story["feedback"], key="mayor-lind:harbour-bridge")  # type: ignore[arg-type]
        marker = observation("k3", "oppose", hours=9)
        await kafka_bus.publish(topics.observations.name, marker, key=marker.key)
        await wait_until(lambda: _equals(stored(url), (3, 1, "retracted", 1, 1)), timeout=30)
    # A restart on the kept store resumes from its committed offsets: nothing twice, nothing lost.
    async with running_desk(settings) as url:
        assert await stored(url) == (3, 1, "retracted", 1, 1)
    # Every record delivered a second time into the same store (another group reads all from the start).
    again = settings.model_copy(update={"desk_group_id": "stancewatch-desk-again"})
    async with running_desk(again) as url:
        async with httpx.AsyncClient(trust_env=False) as http:
            await wait_until(lambda: _consumed(http, url, 10), timeout=30)
        assert await stored(url) == (3, 1, "retracted", 1, 1)


async def test_two_replicas_share_one_postgresql_store(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topics: Topics, tmp_path: Path, pg_url: str
) -> None:
    story = await publish_story(kafka_bus, topics)
    first = desk_settings(kafka_bootstrap, topics.prefix, tmp_path / "a", database_url=pg_url)
    second = desk_settings(kafka_bootstrap, topics.prefix, tmp_path / "b", database_url=pg_url)
    async with running_desk(first) as url_a, running_desk(second) as url_b:
        for url in (url_a, url_b):
            await wait_until(lambda url=url: _equals(stored(url), (2, 1, "retracted", 1, 1)), timeout=40)
        detail = await api(url_b, f"/api/alerts/{story['alert'].alert_id}")  # type: ignore[attr-defined]
        assert [f["verdict"] for f in detail["feedback"]] == ["not-holder"]


async def test_a_deleted_database_file_is_rebuilt_from_the_topics(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    await publish_story(kafka_bus, topics)
    settings = desk_settings(kafka_bootstrap, topics.prefix, tmp_path)
    async with running_desk(settings) as url:
        await wait_until(lambda: _equals(stored(url), (2, 1, "retracted", 1, 1)), timeout=30)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    async with running_desk(settings) as url:
        await wait_until(lambda: _equals(stored(url), (2, 1, "retracted", 1, 1)), timeout=30)
    # --rebuild on a kept file empties it and reads everything again.
    async with running_desk(settings, rebuild=True) as url:
        await wait_until(lambda: _equals(stored(url), (2, 1, "retracted", 1, 1)), timeout=30)


async def test_an_undecodable_record_is_dead_lettered_and_ingestion_goes_on(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    await kafka_bus.publish(topics.observations.name, b'{"actor": "half an event"', key="mayor-lind:harbour-bridge")
    good = observation("g1", "support")
    await kafka_bus.publish(topics.observations.name, good, key=good.key)
    async with running_desk(desk_settings(kafka_bootstrap, topics.prefix, tmp_path)) as url:
        await wait_until(lambda: _total(api(url, "/api/observations"), 1), timeout=30)
        async with httpx.AsyncClient(trust_env=False) as http:
            metrics = (await http.get(f"{url}/metrics")).text
    assert 'stancewatch_desk_records_refused_total{reason="undecodable",topic="observations"} 1.0' in metrics
    dead = await kafka_bus.read_all(topics.dead_letters.name)
    assert [r.header("source_topic") for r in dead] == [topics.observations.name]


async def _equals(pending: object, expected: object) -> bool:
    return await pending == expected  # type: ignore[misc]


async def _consumed(http: httpx.AsyncClient, url: str, at_least: int) -> bool:
    """Whether the desk's consumer has handled ``at_least`` records (its own metric)."""
    text = (await http.get(f"{url}/metrics")).text
    line = next((ln for ln in text.splitlines() if ln.startswith("stancewatch_desk_messages_processed_total{")), "")
    return bool(line) and float(line.rsplit(" ", 1)[1]) >= at_least


async def _total(pending: object, expected: int) -> bool:
    return (await pending)["total"] == expected  # type: ignore[index,misc]
