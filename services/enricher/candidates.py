"""The cheap first pass: one Aho-Corasick scan over figure names, titles and topic anchors.

Most articles in a firehose never name a tracked figure; for them this pass is all the work there
is (plus topic listing), and the parser never runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ahocorasick

from services.enricher.watchlist import Watchlist


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    #: ``name`` (case-sensitive alias), ``title`` (case-insensitive) or ``anchor`` (topic keyword).
    kind: str
    key: str


@dataclass
class Scan:
    figures: list[Hit] = field(default_factory=list)
    anchors: list[Hit] = field(default_factory=list)

    @property
    def has_figure(self) -> bool:
        return bool(self.figures)


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two; keep offsets aligned by leaving those as they are.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


class CandidateScanner:
    """Finds figure names/titles and topic anchors in one pass over the lower-cased text."""

    def __init__(self, watchlist: Watchlist) -> None:
        entries: dict[str, list[tuple[str, str, str]]] = {}
        for fig in watchlist.figures:
            for alias in fig.aliases:
                entries.setdefault(alias.lower(), []).append(("name", fig.id, alias))
            for title in fig.titles:
                entries.setdefault(title.lower(), []).append(("title", fig.id, title))
        for topic in watchlist.topics:
            for anchor in topic.anchors:
                entries.setdefault(anchor, []).append(("anchor", topic.id, anchor))
        self._automaton = ahocorasick.Automaton()
        for word, payload in entries.items():
            self._automaton.add_word(word, (len(word), tuple(payload)))
        self._automaton.make_automaton()

    def scan(self, text: str) -> Scan:
        scan = Scan()
        low = _lower_same_length(text)
        n = len(text)
        for end_index, (length, payload) in self._automaton.iter(low):
            start, end = end_index - length + 1, end_index + 1
            if start > 0 and _word_char(text[start - 1]):
                continue  # anchors may be prefixes ("sanction" in "sanctions"), never suffixes
            for kind, key, original in payload:
                if kind == "anchor":
                    scan.anchors.append(Hit(start, end, kind, key))
                    continue
                if end < n and _word_char(text[end]):
                    continue  # names and titles end on a word boundary
                if kind == "name" and text[start:end] != original:
                    continue  # "Trump" the person, not "trump" the verb
                scan.figures.append(Hit(start, end, kind, key))
        scan.figures = _longest_leftmost(scan.figures)
        return scan


def _longest_leftmost(hits: list[Hit]) -> list[Hit]:
    """Drop hits nested in a longer one ("Putin" inside "Vladimir Putin")."""
    ordered = sorted(hits, key=lambda h: (h.start, -(h.end - h.start)))
    out: list[Hit] = []
    last_end = -1
    for h in ordered:
        if h.start >= last_end:
            out.append(h)
            last_end = h.end
    return out
