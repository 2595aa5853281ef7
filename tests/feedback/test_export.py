"""``stancewatch feedback export``: corrections become corpus lines the judge's training reads."""

from __future__ import annotations

import json
from pathlib import Path

from services.enricher.judges.corpus import read_sentences
from services.feedback.export import ExportSummary, export_lines
from tests.support import clean_env, stancewatch

from .factories import correction

SAID = "The president told the summit that the aid package must pass this month."
QUOTED = "A critic quoted by the paper said the package was money thrown away."
SECOND = "He added that he would press the senators again on Friday."


def exported(*items, tmp_path: Path) -> list[dict]:
    path = tmp_path / "out.jsonl"
    path.write_text("".join(line + "\n" for line in export_lines(items, ExportSummary())), encoding="utf-8")
    return read_sentences(path)  # exactly what training reads


def test_each_verdict_gives_its_label_to_every_evidence_sentence(tmp_path: Path) -> None:
    rows = exported(
        correction("a1", "support", "correct", sentences=(SAID, SECOND)),
        correction("a2", "support", "wrong-stance", corrected="oppose", sentences=(SAID,)),
        correction("a3", "oppose", "not-holder", sentences=(QUOTED,)),
        correction("a4", "undecided", "not-topic", sentences=(SECOND,)),
        tmp_path=tmp_path,
    )
    assert [(r["article_id"], r["sentence"], r["label"]) for r in rows] == [
        ("a1", SAID, "support"),
        ("a1", SECOND, "support"),
        ("a2", SAID, "oppose"),
        ("a3", QUOTED, "none"),
        ("a4", SECOND, "none"),
    ]
    assert {(r["actor"], r["topic"]) for r in rows} == {("zelenskyy", "ukraine-aid")}
    assert len({r["id"] for r in rows}) == len(rows)
    assert rows[2]["machine_stance"] == "support" and rows[2]["phenomenon"] == "wrong-stance"


def test_the_newest_verdict_on_an_observation_wins_and_a_repeated_one_counts_once(tmp_path: Path) -> None:
    first = correction("a1", "support", "correct", sentences=(SAID,), author="desk-ana", minutes=0)
    later = correction("a1", "support", "not-holder", sentences=(SAID,), author="desk-ben", minutes=30)
    summary = ExportSummary()
    lines = export_lines([later, first, first], summary)
    assert [json.loads(line)["label"] for line in lines] == ["none"]
    assert (summary.feedback, summary.repeated, summary.superseded, summary.rows) == (3, 1, 1, 1)


def test_what_cannot_make_a_labelled_sentence_is_skipped_and_counted() -> None:
    summary = ExportSummary()
    lines = export_lines(
        [
            correction("a1", "support", "wrong-stance", sentences=(SAID,)),  # wrong, but right label unknown
            correction("a2", "support", "correct"),  # the desk sent no evidence
        ],
        summary,
    )
    assert lines == []
    assert summary.skipped == {"wrong-stance without a corrected stance": 1, "no evidence": 1}


async def test_export_from_a_file_of_feedback_events(tmp_path: Path) -> None:
    source = tmp_path / "feedback.jsonl"
    events = [
        correction("f1", "oppose", "wrong-stance", corrected="support", sentences=(SAID,)),
        correction("f2", "support", "not-topic", sentences=(QUOTED,)),
    ]
    source.write_text("".join(e.to_json_bytes().decode() + "\n" for e in events) + "{not json\n", encoding="utf-8")
    out = tmp_path / "labelled.jsonl"
    done = await stancewatch("feedback", "export", "--bus", "file", "--in", str(source), "--out", str(out))
    assert done.status == 0, done.err
    assert [(r["article_id"], r["label"]) for r in read_sentences(out)] == [("f1", "support"), ("f2", "none")]
    assert "exported 2 sentences from 2 corrections" in done.out
    assert f"{source}:3" in done.err  # the bad line is named, and does not stop the export


async def test_export_without_a_source_file_says_what_it_needs(tmp_path: Path) -> None:
    done = await stancewatch("feedback", "export", "--bus", "file", "--out", str(tmp_path / "x.jsonl"))
    assert done.status == 2 and "--bus file needs --in FILE" in done.err
    assert (await stancewatch("feedback", "import", env=clean_env())).status == 2
