"""Mentions of tracked figures in one sentence: names, titles and pronouns.

Institutions ("Moscow", "the Kremlin") are not in the watchlist, so they are never mentions;
pronouns are resolved by :mod:`services.enricher.attribution` from the preceding subjects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.enricher.candidates import Hit
from services.enricher.lexicons import pattern, words

PRONOUN = re.compile(rf"\b(?:{pattern('pronouns')})\b", re.IGNORECASE)
THIRD_PERSON = words("third-person")
FIRST_PERSON = words("first-person")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    figure: str
    kind: str  # name | title


def mentions_in(hits: list[Hit], start: int, end: int) -> list[Mention]:
    """Figure hits inside ``[start, end)`` as mentions with offsets relative to the sentence."""
    return [Mention(h.start - start, h.end - start, h.key, h.kind) for h in hits if start <= h.start and h.end <= end]


def count_mentions(hits: list[Hit]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for h in hits:
        counts[h.key] = counts.get(h.key, 0) + 1
    return counts


def has_pronoun(text: str) -> bool:
    return PRONOUN.search(text) is not None
