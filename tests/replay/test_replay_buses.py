"""Replay through the real broker gives exactly what the in-memory replay gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.replay.__main__ import main as replay_main

ROOT = Path(__file__).resolve().parents[2]
DEV_ARTICLES = ROOT / "data" / "dev" / "dev_articles.jsonl"


@pytest.fixture
def dev_articles() -> Path:
    if not DEV_ARTICLES.is_file():
        pytest.fail(f"the development set is missing: {DEV_ARTICLES} (it is carried in data/dev/)")
    return DEV_ARTICLES


def test_kafka_and_memory_replays_write_identical_files_on_the_development_set(
    dev_articles: Path, kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    for var in ("STANCEWATCH_WEBHOOK_URL", "STANCEWATCH_SLACK_WEBHOOK_URL", "STANCEWATCH_ROUTING"):
        monkeypatch.delenv(var, raising=False)
    assert replay_main([str(dev_articles), "--out", str(tmp_path / "memory")]) == 0
    assert replay_main([str(dev_articles), "--out", str(tmp_path / "kafka"), "--bus", "kafka"]) == 0
    for name in ("observations.jsonl", "alerts.jsonl"):
        memory = (tmp_path / "memory" / name).read_text()
        kafka = (tmp_path / "kafka" / name).read_text()
        assert memory.strip(), f"{name} is empty: nothing was compared"
        assert kafka == memory, name
    assert len((tmp_path / "kafka" / "alerts.jsonl").read_text().splitlines()) >= 5


def test_replay_deliver_sends_signed_alerts_and_a_second_replay_repeats_their_ids(
    dev_articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.demo.__main__ import new_secret
    from services.demo.receiver import WebhookReceiver

    secret = new_secret()
    receiver = WebhookReceiver(secret).start()
    try:
        monkeypatch.setenv("STANCEWATCH_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("STANCEWATCH_WEBHOOK_SECRET", secret)
        monkeypatch.delenv("STANCEWATCH_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.delenv("STANCEWATCH_ROUTING", raising=False)
        assert replay_main([str(dev_articles), "--out", str(tmp_path / "a"), "--deliver"]) == 0
        first = list(receiver.stats.deliveries)
        assert replay_main([str(dev_articles), "--out", str(tmp_path / "b"), "--deliver"]) == 0
    finally:
        receiver.stop()
    written = (tmp_path / "a" / "alerts.jsonl").read_text().splitlines()
    reversals = [line for line in written if '"severity": "reversal"' in line]
    assert receiver.stats.rejected == []
    assert len(first) == len(reversals) > 0  # default minimum severity: reversals notify
    assert receiver.stats.deliveries[len(first) :] == first  # same webhook-ids again ...
    assert len(receiver.stats.accepted) == len(first)  # ... so the receiver dropped every duplicate
