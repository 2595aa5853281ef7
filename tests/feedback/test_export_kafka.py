"""``stancewatch feedback export`` against the real broker: every partition, from the beginning, then it exits."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enricher.judges.corpus import read_sentences
from shared.bus import KafkaBus
from shared.topics import Topics
from tests.support import clean_env, stancewatch

from .factories import correction

pytestmark = pytest.mark.timeout(90)

FIGURES = [("trump", "tomahawks"), ("rutte", "ukraine-nato"), ("putin", "ceasefire-now"), ("zelenskyy", "ukraine-aid")]


async def test_export_reads_every_partition_of_the_feedback_topic_and_exits(
    kafka_bus: KafkaBus, topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    events = [
        correction(
            f"k{n}",
            "support",
            verdict,
            corrected="oppose" if verdict == "wrong-stance" else None,
            sentences=(f"Sentence {n} the desk judged, written for this test.",),
            actor=actor,
            topic=topic,
            minutes=n,
        )
        for n, ((actor, topic), verdict) in enumerate(
            (figure, verdict) for figure in FIGURES for verdict in ("correct", "wrong-stance", "not-holder")
        )
    ]
    partitions = set()
    for fb in events:
        written = await kafka_bus.publish(topics.feedback.name, fb, key=fb.key)
        assert written is not None
        partitions.add(written.partition)
    await kafka_bus.publish(topics.feedback.name, b'{"not": "feedback"}', key="trump:tomahawks")
    await kafka_bus.publish(topics.feedback.name, events[0], key=events[0].key)  # redelivered
    assert len(partitions) > 1, "the test needs corrections on several partitions"

    out = tmp_path / "corrections.jsonl"
    env = clean_env(KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, STANCEWATCH_TOPIC_PREFIX=topics.prefix)
    done = await stancewatch("feedback", "export", "--out", str(out), env=env, timeout=60)
    assert done.status == 0, done.err
    rows = read_sentences(out)
    expected = {
        (fb.actor, fb.topic, fb.article_id): {"correct": "support", "wrong-stance": "oppose", "not-holder": "none"}[
            fb.verdict
        ]
        for fb in events
    }
    assert {(r["actor"], r["topic"], r["article_id"]): r["label"] for r in rows} == expected
    assert len(rows) == len(events)
    assert "1 repeated" in done.out and "1 unreadable" in done.out
    assert topics.feedback.name in done.err  # the unreadable record is named by topic, partition and offset
