"""Corrections as labelled sentences, in the training corpus's line format (``data/corpus/README.md``).

Each evidence sentence of a judged observation becomes one line ``{id, context, sentence, actor, topic,
label, style, phenomenon, note}`` that :func:`services.enricher.judges.corpus.read_sentences` reads:

* ``correct`` confirms the machine: the label is the stance it reported;
* ``wrong-stance`` with ``corrected_stance``: that stance; without one the right label is unknown (skipped);
* ``not-holder`` / ``not-topic``: ``none`` (no stance of this figure on this topic is attributed).

When several people judged the same observation, the newest verdict wins; a redelivered feedback (same id)
counts once. Feedback without evidence (a desk that did not send it) cannot make a sentence: skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.contracts import Feedback

STYLE = "desk-correction"


@dataclass
class ExportSummary:
    feedback: int = 0
    rows: int = 0
    #: Same feedback id seen again (at-least-once delivery).
    repeated: int = 0
    #: An older verdict on an observation someone judged again later.
    superseded: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def label_of(fb: Feedback) -> str | None:
    """The label a verdict gives the observation's sentences; None when it says only what is wrong."""
    if fb.verdict == "correct":
        return fb.stance
    if fb.verdict == "wrong-stance":
        return fb.corrected_stance
    return "none"


def latest_verdicts(items: Iterable[Feedback], summary: ExportSummary) -> list[Feedback]:
    """One verdict per observation (actor, topic, article): the newest; ties keep the later record."""
    seen: set[str] = set()
    newest: dict[tuple[str, str, str], Feedback] = {}
    for fb in items:
        summary.feedback += 1
        if fb.feedback_id in seen:
            summary.repeated += 1
            continue
        seen.add(fb.feedback_id)
        key = (fb.actor, fb.topic, fb.article_id)
        known = newest.get(key)
        if known is not None:
            summary.superseded += 1
            if known.created_at > fb.created_at:
                continue
        newest[key] = fb
    return list(newest.values())


def rows_of(fb: Feedback, summary: ExportSummary) -> list[dict[str, Any]]:
    label = label_of(fb)
    if label is None:
        summary.skip("wrong-stance without a corrected stance")
        return []
    sentences = [e.text.strip() for e in fb.evidence if e.text.strip()]
    if not sentences:
        summary.skip("no evidence")
        return []
    note = fb.note or f"desk: {fb.verdict} (machine said {fb.stance})"
    return [
        {
            "id": f"{fb.feedback_id}-{n}",
            "context": "",
            "sentence": sentence,
            "actor": fb.actor,
            "topic": fb.topic,
            "label": label,
            "style": STYLE,
            "phenomenon": fb.verdict,
            "note": note,
            "article_id": fb.article_id,
            "machine_stance": fb.stance,
            "feedback_id": fb.feedback_id,
        }
        for n, sentence in enumerate(sentences, 1)
    ]


def export_lines(items: Iterable[Feedback], summary: ExportSummary) -> list[str]:
    """The JSON lines for ``items`` (in the order the observations were first judged)."""
    lines = []
    for fb in latest_verdicts(items, summary):
        for row in rows_of(fb, summary):
            lines.append(json.dumps(row, ensure_ascii=False))
            summary.rows += 1
    return lines
