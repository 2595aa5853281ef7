"""A blind set is scored once per judge version, and the score is written down every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from services.evaluate import __main__ as evaluate

ARTICLES = [
    {
        "id": "b1",
        "source": "Test Wire",
        "url": "https://example.test/b1",
        "published": "2026-03-01T10:00:00Z",
        "title": "Trump on missiles",
        "text": "Donald Trump said on Monday he would not send Tomahawk missiles to Ukraine.",
    }
]
GOLD = {
    "observations": [{"article_id": "b1", "actor": "trump", "topic": "tomahawks", "stance": "oppose"}],
    "alerts": [],
}


@pytest.fixture
def blind_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    (tmp_path / "gold.json").write_text(json.dumps(GOLD), encoding="utf-8")
    sets = [
        {"id": "blind-t", "level": "article", "use": "blind", "articles": str(tmp_path / "articles.jsonl"),
         "gold": str(tmp_path / "gold.json")},
        {"id": "dev-t", "level": "article", "use": "development", "articles": str(tmp_path / "articles.jsonl"),
         "gold": str(tmp_path / "gold.json")},
    ]  # fmt: skip
    monkeypatch.setattr(evaluate, "_sets", lambda: sets)
    monkeypatch.setattr(evaluate, "SCORES", tmp_path / "blind-scores.yaml")
    return tmp_path / "blind-scores.yaml"


def test_a_blind_score_is_recorded_with_its_judge_and_a_second_scoring_is_refused(blind_set: Path, capsys) -> None:
    assert evaluate.main(["--blind", "blind-t", "--judge", "rules"]) == 0
    (record,) = yaml.safe_load(blind_set.read_text(encoding="utf-8"))
    assert record["set"] == "blind-t" and record["judge"].startswith("rules-")
    assert record["report"]["observations"]["f1"] == 1.0
    assert evaluate.main(["--blind", "blind-t", "--judge", "rules"]) == 1
    assert "already scored" in capsys.readouterr().err
    assert len(yaml.safe_load(blind_set.read_text(encoding="utf-8"))) == 1


def test_a_blind_set_cannot_be_scored_as_a_development_set(blind_set: Path) -> None:
    with pytest.raises(SystemExit, match="is blind"):
        evaluate.main(["--set", "blind-t", "--judge", "rules"])
    assert not blind_set.exists()


def test_a_development_set_is_not_recorded_as_blind(blind_set: Path) -> None:
    with pytest.raises(SystemExit, match="not a blind set"):
        evaluate.main(["--blind", "dev-t", "--judge", "rules"])
