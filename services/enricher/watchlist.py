"""The watchlist: tracked figures and topics, from YAML, compiled once into matchers.

Users extend it without code: a figure is an id, a name, aliases and titles; a topic is an id,
what *support* means, cheap anchors and cue patterns (see ``watchlist.yaml``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.enricher.errors import WatchlistError

Polarity = Literal["support", "oppose", "neutral"]
POLARITY_SIGN: dict[str, int] = {"support": 1, "oppose": -1, "neutral": 0}


class FigureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    role: str = ""
    aliases: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)


class CueSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str
    polarity: Polarity = "neutral"
    #: Must also match in the sentence or the two before it.
    context: str | None = None
    #: Only counts once the topic was named by a non-anaphoric cue earlier ("the missiles").
    anaphoric: bool = False
    #: The cue names the *target* of the measures (a neutral object such as "the shadow fleet"): acting
    #: against it ("stop the shadow fleet", "action against it") is support for the topic, so the sign flips.
    target: bool = False

    @field_validator("pattern", "context")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r}: {exc}") from exc
        return value


class VerbSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    support: list[str] = Field(default_factory=list)
    oppose: list[str] = Field(default_factory=list)


class TopicSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    label: str = ""
    description: str = ""
    support: str = ""
    oppose: str = ""
    anchors: list[str] = Field(min_length=1)
    cues: list[CueSpec] = Field(min_length=1)
    context: str | None = None
    context_figures: list[str] = Field(default_factory=list)
    verbs: VerbSpec = Field(default_factory=VerbSpec)


class WatchlistSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    figures: list[FigureSpec] = Field(min_length=1)
    topics: list[TopicSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Cue:
    regex: re.Pattern[str]
    sign: int
    context: re.Pattern[str] | None
    anaphoric: bool
    target: bool = False


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    anchors: tuple[str, ...]
    cues: tuple[Cue, ...]
    context: re.Pattern[str] | None
    context_figures: frozenset[str]
    lexicon: dict[str, int]
    #: What "support" and "oppose" mean, in words: the trained judge reads them with the sentence.
    support: str = ""
    oppose: str = ""


@dataclass(frozen=True)
class Figure:
    id: str
    name: str
    role: str
    aliases: tuple[str, ...]
    titles: tuple[str, ...]


@dataclass(frozen=True)
class Watchlist:
    figures: tuple[Figure, ...]
    topics: tuple[Topic, ...]
    #: Short hash of the file content, part of the extractor's ``config_hash``.
    digest: str
    by_figure: dict[str, Figure] = field(default_factory=dict)
    by_topic: dict[str, Topic] = field(default_factory=dict)


def _compile_topic(spec: TopicSpec) -> Topic:
    flags = re.IGNORECASE
    cues = tuple(
        Cue(
            regex=re.compile(c.pattern, flags),
            sign=POLARITY_SIGN[c.polarity],
            context=re.compile(c.context, flags) if c.context else None,
            anaphoric=c.anaphoric,
            target=c.target,
        )
        for c in spec.cues
    )
    lexicon = {w.lower(): 1 for w in spec.verbs.support}
    lexicon.update({w.lower(): -1 for w in spec.verbs.oppose})
    return Topic(
        id=spec.id,
        label=spec.label or spec.id,
        anchors=tuple(a.lower() for a in spec.anchors),
        cues=cues,
        context=re.compile(spec.context, flags) if spec.context else None,
        context_figures=frozenset(spec.context_figures),
        lexicon=lexicon,
        support=spec.support,
        oppose=spec.oppose,
    )


def parse_watchlist(text: str, origin: str = "watchlist") -> Watchlist:
    """Validate and compile a watchlist; every problem names the file and the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WatchlistError(f"watchlist: {origin} is not valid YAML: {exc}") from exc
    try:
        spec = WatchlistSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise WatchlistError(f"watchlist: {origin}: {where}: {first.get('msg')}") from exc
    ids = [f.id for f in spec.figures]
    if len(set(ids)) != len(ids):
        raise WatchlistError(f"watchlist: {origin}: duplicate figure id")
    tids = [t.id for t in spec.topics]
    if len(set(tids)) != len(tids):
        raise WatchlistError(f"watchlist: {origin}: duplicate topic id")
    for t in spec.topics:
        unknown = set(t.context_figures) - set(ids)
        if unknown:
            raise WatchlistError(f"watchlist: {origin}: topic {t.id}: unknown context_figures {sorted(unknown)}")
    figures = tuple(
        Figure(f.id, f.name, f.role, tuple(dict.fromkeys([f.name, *f.aliases])), tuple(f.titles)) for f in spec.figures
    )
    topics = tuple(_compile_topic(t) for t in spec.topics)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Watchlist(
        figures=figures,
        topics=topics,
        digest=digest,
        by_figure={f.id: f for f in figures},
        by_topic={t.id: t for t in topics},
    )


def default_watchlist_text() -> str:
    return resources.files("services.enricher").joinpath("watchlist.yaml").read_text(encoding="utf-8")


def load_watchlist(path: str | Path | None = None) -> Watchlist:
    """The shipped default, or the user's file."""
    if path is None:
        return parse_watchlist(default_watchlist_text(), "default watchlist")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise WatchlistError(f"watchlist: cannot read {p}: {exc.strerror or exc}") from exc
    return parse_watchlist(text, str(p))
