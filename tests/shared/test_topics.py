"""The topic table: state is compacted, per-position topics are co-partitioned."""

from __future__ import annotations

from shared.topics import Topics


def test_state_topics_are_log_compacted() -> None:
    t = Topics()
    for spec in (t.positions, t.feed_state, t.seen_articles):
        assert spec.config()["cleanup.policy"] == "compact", spec.name
    for spec in (t.articles, t.enriched, t.observations, t.alerts):
        assert spec.config()["cleanup.policy"] == "delete", spec.name


def test_everything_keyed_by_actor_and_topic_is_co_partitioned() -> None:
    t = Topics()
    keyed = [s for s in t.all() if s.key == "actor:topic"]
    assert {s.name for s in keyed} == {t.observations.name, t.positions.name, t.alerts.name, t.feedback.name}
    assert len({s.partitions for s in keyed}) == 1


def test_prefix_isolates_every_topic() -> None:
    names = [s.name for s in Topics(prefix="x1.").all()]
    assert all(n.startswith("x1.") for n in names)
    assert len(names) == len(set(names))
