"""The stance judge seam: one protocol that decides polarity, whatever decides it.

The extractor finds *who* holds a view on *which* topic in *which* sentence (attribution) and
*when* (past or current); a judge only answers "what stance does this sentence give this figure on
this topic?", as a verdict with a probability. Every judge implements :class:`StanceJudge`:
``RuleJudge`` (the hand-written rules), ``ModelJudge`` (the fine-tuned cross-encoder) and
``CombinedJudge`` (the model for polarity, abstaining when the rules disagree strongly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the seam itself needs no parser: training and the model judge run without spaCy
    from spacy.tokens import Doc

STANCES = ("support", "oppose", "undecided")


@dataclass(frozen=True)
class RuleReading:
    """What the rules read from the clause: the stance (or None), and which rule path produced it."""

    stance: str | None
    explicit: bool
    path: str  # clause | possessor | answer | rhetorical


@dataclass(frozen=True)
class Query:
    """One (figure, topic, sentence) to judge; the holder is already attributed by the extractor."""

    figure_id: str
    figure_name: str
    topic_id: str
    topic_label: str
    topic_support: str
    topic_oppose: str
    sentence: str
    context: str = ""
    #: The topic cue's offsets in the sentence, and the parsed sentence, when the rules parsed it.
    cue: tuple[int, int] | None = None
    doc: Doc | None = field(default=None, compare=False, repr=False)
    rules: RuleReading | None = None
    #: The rules placed the cue in a reported earlier view ("who once said …"): timing is decided outside.
    past: bool = False


@dataclass(frozen=True)
class Verdict:
    """A stance, or ``None`` to abstain, with its calibrated probability and why."""

    stance: str | None
    probability: float
    judge: str
    reasons: tuple[str, ...] = ()


class StanceJudge(Protocol):
    """Decides polarity for a batch of queries, one verdict per query in the same order.

    A judge may set ``reads_open_holders = True`` to be asked also about figures present in a sentence
    that the rules did not attribute the clause to (with ``Query.rules`` None); the default is not to.
    """

    @property
    def id(self) -> str: ...

    def judge(self, queries: Sequence[Query]) -> list[Verdict]: ...
