"""The per-article context every extraction stage reads and fills.

It holds the article's text, sentences, quotations and cheap scan, the watchlist and the parser, the parses made
so far (each sentence at most once, within the article's budget), the transcript speakers, and the subjects
already resolved; the stages (``cues``, ``holders``, ``participants``, ``polarity``, ``aggregation``) are
functions of it, and ``extract.Enricher`` runs them in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc

from services.enricher.attribution import HolderRef
from services.enricher.candidates import Scan
from services.enricher.mentions import mentions_in
from services.enricher.sentences import Sentence
from services.enricher.watchlist import Watchlist

WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class CueMatch:
    sentence: int
    topic: str
    start: int  # relative to the sentence
    end: int
    sign: int
    anaphoric: bool
    #: The cue names the target of the measures ("the shadow fleet"): the judged sign flips.
    target: bool = False


@dataclass
class Finding:
    figure: str
    topic: str
    stance: str
    past: bool
    confidence: float
    sentence: int
    #: Where the topic cue starts in its sentence (headline clauses check the verb before it).
    cue_start: int = -1


@dataclass
class ArticleContext:
    """Per-article state every stage reads: parsed sentences are cached so context is parsed at most once."""

    text: str
    title: str
    sentences: list[Sentence]
    scan: Scan
    quotes: list[tuple[int, int]]
    watchlist: Watchlist
    nlp: Language
    #: At most this many sentences of the article are ever parsed.
    max_parsed_sentences: int
    docs: dict[int, Doc] = field(default_factory=dict)
    #: Interview transcripts: paragraph -> figure for paragraphs that open with "Rutte: …".
    speakers: dict[int, str] = field(default_factory=dict)
    #: Transcript paragraphs spoken by someone untracked (a host, "Q:"): what they say about a figure is theirs.
    other_speakers: set[int] = field(default_factory=set)
    subject_cache: dict[int, HolderRef | None] = field(default_factory=dict)

    def parse(self, indices: list[int]) -> None:
        """Parse these sentences, once each, while the article's budget lasts."""
        missing = [i for i in indices if i not in self.docs]
        if not missing:
            return
        budget = self.max_parsed_sentences - len(self.docs)
        missing = missing[: max(0, budget)]
        for i, doc in zip(missing, self.nlp.pipe(self.sentences[i].text for i in missing), strict=True):
            self.docs[i] = doc

    def figure_tokens(self, i: int, doc: Doc) -> dict[int, str]:
        """Token index -> figure id for the tracked names in parsed sentence ``i``."""
        sent = self.sentences[i]
        out: dict[int, str] = {}
        for m in mentions_in(self.scan.figures, sent.start, sent.end):
            span = doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is not None:
                for t in span:
                    out[t.i] = m.figure
        return out
