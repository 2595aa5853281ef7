"""``stancewatch replay``: articles file in, observations.jsonl and alerts.jsonl out, no broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.alerter.detect import record_of
from services.replay import __main__ as replay_cli
from shared.contracts import PositionChange, StanceObservation, alert_id_for

ARTICLES = [
    {
        "id": "r1",
        "source": "Test Wire",
        "url": "https://example.test/r1",
        "published": "2026-02-01T10:00:00Z",
        "title": "Putin keen on summit",
        "text": "Vladimir Putin said on Sunday he was ready to meet Donald Trump in Vienna within weeks.",
    },
    {
        "id": "r2",
        "source": "Test Wire",
        "url": "https://example.test/r2",
        "published": "2026-02-09T10:00:00Z",
        "title": "Putin cools on summit",
        "text": "Vladimir Putin said on Monday that a summit with Donald Trump would be premature.",
    },
]


class FlipStep:
    """A stand-in alert step: reports every change of stance per (actor, topic), in stream order."""

    def __init__(self) -> None:
        self.last: dict[str, StanceObservation] = {}

    def observe(self, obs: StanceObservation) -> list[PositionChange]:
        before = self.last.get(obs.key)
        self.last[obs.key] = obs
        if before is None or before.stance == obs.stance:
            return []

        return [
            PositionChange(
                alert_id=alert_id_for(obs.actor, obs.topic, before.stance, obs.stance, obs.article_id),
                actor=obs.actor,
                topic=obs.topic,
                from_stance=before.stance,
                to_stance=obs.stance,
                severity="reversal",
                kind="cross-article",
                article_id=obs.article_id,
                before=record_of(before),
                after=record_of(obs),
                extractor=obs.extractor,
                created_at=datetime(2026, 2, 9, tzinfo=UTC),
            )
        ]


def write_articles(path, rows, extra_lines=()):
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_replay_writes_observations_in_article_order(tmp_path):
    src, out = tmp_path / "articles.jsonl", tmp_path / "out"
    write_articles(src, ARTICLES)
    assert replay_cli.main([str(src), "--out", str(out)], alert_step=FlipStep()) == 0
    rows = read_jsonl(out / "observations.jsonl")
    assert [(r["article_id"], r["actor"], r["topic"], r["stance"]) for r in rows] == [
        ("r1", "putin", "putin-summit", "support"),
        ("r2", "putin", "putin-summit", "oppose"),
    ]
    ev = rows[1]["evidence"][0]
    assert ev["text"] == ARTICLES[1]["text"][ev["start"] : ev["end"]]
    assert 0 <= rows[0]["confidence"] <= 1


def test_replay_writes_alerts_from_the_injected_step(tmp_path):
    src, out = tmp_path / "articles.jsonl", tmp_path / "out"
    write_articles(src, ARTICLES)
    replay_cli.main([str(src), "--out", str(out)], alert_step=FlipStep())
    (alert,) = read_jsonl(out / "alerts.jsonl")
    assert {k: alert[k] for k in ("actor", "topic", "from", "to", "article_id", "severity", "kind")} == {
        "actor": "putin",
        "topic": "putin-summit",
        "from": "support",
        "to": "oppose",
        "article_id": "r2",
        "severity": "reversal",
        "kind": "cross-article",
    }
    assert "premature" in alert["evidence"]["after"][0]["text"]


def test_without_an_alert_step_alerts_file_is_empty_and_says_so(tmp_path, monkeypatch, capsys):
    src, out = tmp_path / "articles.jsonl", tmp_path / "out"
    write_articles(src, ARTICLES)
    monkeypatch.setattr(replay_cli, "default_alert_step", lambda: None)
    assert replay_cli.main([str(src), "--out", str(out)]) == 0
    assert (out / "alerts.jsonl").read_text() == ""
    assert "alert detection is unavailable" in capsys.readouterr().out


def test_bad_lines_are_reported_and_skipped(tmp_path, capsys):
    src, out = tmp_path / "articles.jsonl", tmp_path / "out"
    write_articles(src, ARTICLES[:1], extra_lines=['{"id": "x"}', "not json at all"])
    assert replay_cli.main([str(src), "--out", str(out)], alert_step=FlipStep()) == 0
    assert len(read_jsonl(out / "observations.jsonl")) == 1
    err = capsys.readouterr().err
    assert err.count("skipped") == 2


def test_a_user_watchlist_replaces_the_default(tmp_path):
    src, out, wl = tmp_path / "articles.jsonl", tmp_path / "out", tmp_path / "wl.yaml"
    write_articles(src, ARTICLES)
    wl.write_text(
        "figures:\n  - {id: putin, name: Vladimir Putin, aliases: [Putin]}\n"
        "topics:\n  - id: vienna\n    anchors: [vienna]\n    cues: [{pattern: '\\bvienna\\b', polarity: neutral}]\n",
        encoding="utf-8",
    )
    assert replay_cli.main([str(src), "--out", str(out), "--watchlist", str(wl)], alert_step=FlipStep()) == 0
    rows = read_jsonl(out / "observations.jsonl")
    assert [(r["article_id"], r["actor"], r["topic"], r["stance"]) for r in rows] == [
        ("r1", "putin", "vienna", "support")
    ]


def test_missing_input_file_is_exit_status_2(tmp_path):
    assert replay_cli.main([str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]) == 2
