"""The store keeps what the topics said, idempotently, and answers the pages' questions — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.desk.store import AlertQuery, FeedbackQuery, ObservationQuery, Store, Window
from services.desk.store.sql import migrations
from services.desk.store.sqlite import SqliteStore
from tests.desk.factories import alert, at, feedback, observation, outcome, position


async def test_a_new_store_is_migrated_to_the_newest_schema_and_says_it_is_new(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "d.sqlite3")
    assert await store.open() is True
    assert await store.schema_version() == len(migrations())
    generation = await store.generation()
    await store.close()
    again = SqliteStore(tmp_path / "d.sqlite3")
    assert await again.open() is False
    assert await again.generation() == generation
    await again.close()


async def test_a_reset_empties_the_store_and_gives_it_a_new_generation(store: Store) -> None:
    await store.apply_observation(observation("a1", "support"), 0, 1)
    before = await store.generation()
    await store.reset()
    assert (await store.counts())["observations"] == 0
    assert await store.generation() != before
    assert await store.schema_version() == len(migrations())


async def test_an_observation_delivered_again_is_kept_once(store: Store) -> None:
    obs = observation("a1", "support")
    for _ in range(3):
        await store.apply_observation(obs, 2, 40)
    page = await store.observations(ObservationQuery())
    assert page.total == 1
    assert page.items[0] == obs


async def test_an_older_version_of_an_observation_never_overwrites_a_newer_one(store: Store) -> None:
    newer = observation("a1", "oppose", confidence=0.7)
    await store.apply_observation(newer, 1, 9)
    await store.apply_observation(observation("a1", "support"), 1, 5)
    (kept,) = (await store.observations(ObservationQuery())).items
    assert kept.stance == "oppose"


async def test_the_newest_version_of_an_alert_is_its_state_whatever_arrives_again(store: Store) -> None:
    before, after = observation("a1", "support"), observation("a2", "oppose", hours=5)
    active, retracted = alert(before, after), alert(before, after, status="retracted")
    await store.apply_alert(active, 3, 10)
    await store.apply_alert(retracted, 3, 11)
    await store.apply_alert(active, 3, 10)  # redelivered after a restart
    view = await store.alert(active.alert_id)
    assert view is not None and view.alert.status == "retracted"
    assert (await store.alerts(AlertQuery())).total == 1


async def test_a_tombstone_removes_a_position_but_not_a_newer_one(store: Store) -> None:
    pos = position(observation("a1", "support"))
    await store.apply_position(pos.key, pos, 0, 7)
    await store.apply_position(pos.key, None, 0, 6)  # an older tombstone
    assert await store.position(pos.actor, pos.topic) is not None
    await store.apply_position(pos.key, None, 0, 8)
    assert await store.position(pos.actor, pos.topic) is None


async def test_the_overview_shows_each_pair_with_the_confidence_of_its_established_stance(store: Store) -> None:
    first = observation("a1", "support", confidence=0.6)
    second = observation("a2", "oppose", hours=3, confidence=0.95)
    hedge = observation("a3", "undecided", hours=6, confidence=0.55)
    other = observation("b1", "support", actor="councillor-oda", topic="tram-line", confidence=0.8)
    await store.apply_position("mayor-lind:harbour-bridge", position(first, second, hedge), 0, 1)
    await store.apply_position("councillor-oda:tram-line", position(other), 1, 1)
    view = await store.overview()
    assert [f for f, _ in view.figures] == ["councillor-oda", "mayor-lind"]
    cell = view.cell("mayor-lind", "harbour-bridge")
    assert cell is not None
    assert (cell.established, cell.latest, cell.confidence) == ("oppose", "undecided", 0.95)
    assert cell.established_since == second.article.published
    assert view.cell("mayor-lind", "tram-line") is None


async def test_the_timeline_is_in_event_time_with_alerts_and_feedback_on_their_line(store: Store) -> None:
    late = observation("a3", "oppose", hours=9)
    early = observation("a1", "support", hours=1)
    middle = observation("a2", "oppose", hours=4)
    for offset, obs in enumerate((late, early, middle)):  # arrival order is not event order
        await store.apply_observation(obs, 0, offset)
    raised = alert(early, middle)
    await store.apply_alert(raised, 0, 10)
    await store.apply_feedback(feedback(middle, "not-holder", alert_id=raised.alert_id))
    orphan = alert(middle, observation("gone", "support", hours=12))
    await store.apply_alert(orphan, 0, 11)

    timeline = await store.timeline("mayor-lind", "harbour-bridge", Window(limit=10))
    assert [e.observation.article_id for e in timeline.entries.items] == ["a1", "a2", "a3"]
    lines = {e.observation.article_id: e for e in timeline.entries.items}
    assert [v.alert.alert_id for v in lines["a2"].alerts] == [raised.alert_id]
    assert [f.verdict for f in lines["a2"].feedback] == ["not-holder"]
    assert lines["a2"].alerts[0].feedback[0].alert_id == raised.alert_id
    assert not lines["a1"].alerts and not lines["a3"].alerts
    assert [v.alert.alert_id for v in timeline.unplaced] == [orphan.alert_id]


async def test_the_timeline_pages_and_windows_by_publication_time(store: Store) -> None:
    for i in range(7):
        await store.apply_observation(observation(f"a{i}", "support", hours=i), 0, i)
    page = await store.timeline("mayor-lind", "harbour-bridge", Window(since=at(2), until=at(6), limit=3))
    assert [e.observation.article_id for e in page.entries.items] == ["a2", "a3", "a4"]
    assert (page.entries.total, page.entries.next_offset) == (4, 3)
    rest = await store.timeline("mayor-lind", "harbour-bridge", Window(since=at(2), until=at(6), limit=3, offset=3))
    assert [e.observation.article_id for e in rest.entries.items] == ["a5"]
    assert rest.entries.next_offset is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AlertQuery(), ["oda-shift", "lind-rev2", "lind-rev1"]),
        (AlertQuery(actor="mayor-lind"), ["lind-rev2", "lind-rev1"]),
        (AlertQuery(topic="tram-line"), ["oda-shift"]),
        (AlertQuery(severity="shift"), ["oda-shift"]),
        (AlertQuery(status="retracted"), ["lind-rev1"]),
        (AlertQuery(window=Window(since=at(20))), ["oda-shift", "lind-rev2"]),
        (AlertQuery(window=Window(until=at(20))), ["lind-rev1"]),
        (AlertQuery(text="FERRY toll"), ["lind-rev2"]),
        (AlertQuery(text="100%"), ["oda-shift"]),
        (AlertQuery(text="100_"), []),
        (AlertQuery(text="Gazette"), ["lind-rev2", "lind-rev1"]),
    ],
)
async def test_alerts_filter_by_figure_topic_severity_status_time_and_words(
    store: Store, query: AlertQuery, expected: list[str]
) -> None:
    a1, a2 = observation("l1", "support"), observation("l2", "oppose", hours=5)
    a3 = observation("l3", "support", hours=30, sentence="Lind said the ferry toll settles it: she backs the bridge.")
    o1 = observation("o1", "support", actor="councillor-oda", topic="tram-line", source="Valley Post")
    o2 = observation(
        "o2",
        "undecided",
        actor="councillor-oda",
        topic="tram-line",
        hours=40,
        source="Valley Post",
        sentence="Oda is not 100% sure about the tram line any more.",
    )
    named = {
        "lind-rev1": alert(a1, a2, status="retracted", created_hours=6),
        "lind-rev2": alert(a2, a3, created_hours=31),
        "oda-shift": alert(o1, o2, created_hours=41),
    }
    for offset, a in enumerate(named.values()):
        await store.apply_alert(a, 0, offset)
    by_id = {a.alert_id: name for name, a in named.items()}
    page = await store.alerts(query)
    assert [by_id[v.alert.alert_id] for v in page.items] == expected
    assert page.total == len(expected)


async def test_alerts_page_through_with_a_total_and_the_next_offset(store: Store) -> None:
    base = observation("base", "support")
    for i in range(5):
        await store.apply_alert(alert(base, observation(f"x{i}", "oppose", hours=i + 1)), 0, i)
    first = await store.alerts(AlertQuery(window=Window(limit=2)))
    second = await store.alerts(AlertQuery(window=Window(limit=2, offset=first.next_offset or 0)))
    last = await store.alerts(AlertQuery(window=Window(limit=2, offset=4)))
    seen = [v.alert.alert_id for p in (first, second, last) for v in p.items]
    assert len(seen) == len(set(seen)) == 5
    assert (first.total, first.next_offset, last.next_offset) == (5, 2, None)


async def test_an_alert_shows_the_newest_outcome_of_each_of_its_deliveries(store: Store) -> None:
    a = alert(observation("a1", "support"), observation("a2", "oppose", hours=2))
    await store.apply_alert(a, 0, 0)
    await store.apply_delivery(outcome("d1", [a.alert_id], "delivered", minutes=9))
    await store.apply_delivery(outcome("d1", [a.alert_id], "failed", minutes=5))  # older, arriving late
    await store.apply_delivery(outcome("d2", [a.alert_id, "alrt_other"], "held", minutes=3, channel="digest"))
    view = await store.alert(a.alert_id)
    assert view is not None
    assert sorted((d.delivery_id, d.status) for d in view.deliveries) == [("d1", "delivered"), ("d2", "held")]


async def test_feedback_given_twice_is_kept_once_and_can_be_listed_by_observation(store: Store) -> None:
    obs = observation("a1", "support")
    given = feedback(obs, "wrong-stance", note="She said the opposite <b>on record</b>.")
    await store.apply_feedback(given)
    await store.apply_feedback(given)
    await store.apply_feedback(feedback(observation("a9", "oppose"), "correct"))
    page = await store.feedback(FeedbackQuery(article_id="a1"))
    assert page.items == [given]
    assert (await store.feedback(FeedbackQuery())).total == 2


async def test_observations_filter_by_stance_and_words_across_outlets(store: Store) -> None:
    await store.apply_observation(observation("a1", "support", source="Harbour Gazette"), 0, 0)
    await store.apply_observation(observation("a2", "oppose", hours=1, source="Valley Post"), 0, 1)
    assert [o.article_id for o in (await store.observations(ObservationQuery(stance="oppose"))).items] == ["a2"]
    assert [o.article_id for o in (await store.observations(ObservationQuery(text="valley"))).items] == ["a2"]
