"""The scorer: observation and alert metrics, polarity on found pairs, sentence-level reports."""

from __future__ import annotations

from services.evaluate.score import prf, score_run, score_sentences

GOLD = {
    "observations": [
        {"article_id": "a1", "actor": "trump", "topic": "tomahawks", "stance": "support"},
        {"article_id": "a2", "actor": "trump", "topic": "tomahawks", "stance": "oppose"},
        {"article_id": "a2", "actor": "putin", "topic": "putin-summit", "stance": "support"},
        {"article_id": "a3", "actor": "rutte", "topic": "ukraine-aid", "stance": "support"},
    ],
    "alerts": [{"actor": "trump", "topic": "tomahawks", "from": "support", "to": "oppose", "article_id": "a2"}],
    "ignore": [{"article_id": "a3", "actor": "rutte", "topic": "ukraine-aid"}],
}


def obs(article: str, actor: str, topic: str, stance: str, confidence: float = 0.8) -> dict:
    return {"article_id": article, "actor": actor, "topic": topic, "stance": stance, "confidence": confidence}


def test_the_most_confident_prediction_counts_and_ignored_pairs_are_left_out() -> None:
    run = [
        obs("a1", "trump", "tomahawks", "support"),
        obs("a2", "trump", "tomahawks", "support", 0.4),
        obs("a2", "trump", "tomahawks", "oppose", 0.9),
        obs("a3", "rutte", "ukraine-aid", "oppose"),  # ignored pair: neither right nor wrong
    ]
    report = score_run(GOLD, run, [])
    assert report["observations"] == {"gold": 3, "predicted": 2, "precision": 1.0, "recall": 0.667, "f1": 0.8}


def test_polarity_accuracy_is_measured_on_pairs_both_sides_found() -> None:
    run = [
        obs("a1", "trump", "tomahawks", "oppose"),
        obs("a2", "trump", "tomahawks", "oppose"),
        obs("a9", "zelenskyy", "ukraine-nato", "support"),
    ]
    report = score_run(GOLD, run, [])
    assert report["polarity"] == {"found_polar_pairs": 2, "accuracy": 0.5}


def test_alerts_are_scored_strictly_and_leniently_and_only_reversals_count() -> None:
    alerts = [
        {"actor": "trump", "topic": "tomahawks", "from": "support", "to": "oppose", "article_id": "a3"},
        {"actor": "trump", "topic": "tomahawks", "from": "support", "to": "undecided", "article_id": "a2"},
    ]
    report = score_run(GOLD, [], alerts)
    assert report["alerts_strict"]["precision"] == 0.0 and report["alerts_strict"]["predicted"] == 1
    assert report["alerts_lenient"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert report["missed_alerts"] == [("trump", "tomahawks", "support", "oppose", "a2")]


def test_sentence_report_separates_detection_from_polarity() -> None:
    gold = ["support", "oppose", "none", "undecided", "support"]
    pred = ["support", "support", "oppose", "none", "none"]
    report = score_sentences(gold, pred)
    assert report["accuracy"] == 0.2
    assert report["stance"] == {"precision": 0.333, "recall": 0.25, "f1": 0.286}
    assert report["polarity"] == {"pairs": 2, "accuracy": 0.5}


def test_pooled_scores_add_the_sets_counts_rather_than_average_their_scores() -> None:
    from services.evaluate.__main__ import pooled_line

    def report(tp: int, predicted: int, gold: int, pairs: int, right: int) -> dict:
        p, r, f = prf(tp, predicted - tp, gold - tp)
        return {
            "observations": {"gold": gold, "predicted": predicted, "precision": p, "recall": r, "f1": f},
            "polarity": {"found_polar_pairs": pairs, "accuracy": round(right / pairs, 3)},
        }

    line = pooled_line("j", [report(9, 10, 10, 9, 9), report(1, 10, 90, 4, 2)])
    # 10 right of 20 predicted and 100 gold; 11 of 13 polar pairs the right way round.
    assert "obs_p=0.5 obs_r=0.1 obs_f1=0.167" in line and "polarity_acc=0.846" in line
    assert "(tp=10 predicted=20 gold=100)" in line
