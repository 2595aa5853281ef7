"""A sentence-level labelled line read as a tiny article, so every judge is measured through the same extractor.

The article is the context sentence then the sentence; the prediction for (actor, topic) is the stance of
the observation whose evidence is the labelled sentence, ``none`` when there is none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.contracts import RawArticle

PUBLISHED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def judge_lines(enricher: Any, lines: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    cache: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
    for n, row in enumerate(lines):
        context = (row.get("context") or "").strip()
        key = (context, row["sentence"])
        if key not in cache:
            text = f"{context} {row['sentence']}" if context else row["sentence"]
            start = len(context) + 1 if context else 0
            article = RawArticle(
                id=f"s{n}",
                source="evaluation",
                url=f"https://example.com/s/{n}",
                published=PUBLISHED,
                title="",
                text=text,
            )
            found: dict[tuple[str, str], str] = {}
            for obs in enricher.enrich(article).observations:
                if any(e.end > start for e in obs.evidence):
                    found[(obs.actor, obs.topic)] = obs.stance
            cache[key] = found
        out.append(cache[key].get((row["actor"], row["topic"]), "none"))
    return out
