"""The rules' vocabularies as data: ``lexicons/*.yaml``, one file per concern (polarity, negation, timing, …).

Each file holds ``lexicons``, a list of entries. An entry has an ``id`` (what the code asks for), a one-line
``why``, at least one ``examples`` sentence that shows one of its words at work, and either ``words`` (lowercase
words or phrases, no repeats) or ``values`` (a word -> number table). An entry with a ``sign`` (support | oppose)
lists words that carry that polarity themselves; its examples are sentences the rule judge reads with that sign,
and ``tests/enricher/test_lexicons.py`` holds every one of them to it.

The shipped files are read and validated once, at import. An unknown key, a bad id, an empty list, a repeated word,
example or id, or a value that is not what its field says is a :class:`LexiconError` naming the file and the entry.
The code refers to a list only by its id (``words("support-words")``); an id no file defines is an error too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from services.enricher.errors import LexiconError

ID_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
#: A word or a phrase: lowercase, single spaces, the characters English tokens carry ("n't", "u.s", "u-turn").
_WORD = re.compile(r"^[a-z0-9'][a-z0-9.'_-]*(?: [a-z0-9.'_-]+)*$")
SIGNS: dict[str, int] = {"support": 1, "oppose": -1}


class LexiconSpec(BaseModel):
    """One entry of a lexicon file, as written."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=ID_PATTERN)
    why: str = Field(min_length=1, max_length=240)
    examples: list[str] = Field(min_length=1)
    sign: Literal["support", "oppose"] | None = None
    words: list[str] | None = Field(default=None, min_length=1)
    values: dict[str, StrictInt] | None = Field(default=None, min_length=1)

    @field_validator("why")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or value != value.strip():
            raise ValueError("must be one line without surrounding spaces")
        return value

    @field_validator("examples")
    @classmethod
    def _sentences(cls, value: list[str]) -> list[str]:
        for example in value:
            if "\n" in example or example != example.strip() or not example:
                raise ValueError(f"example {example!r} must be one non-empty line without surrounding spaces")
            if example[-1] not in '.!?"”’':
                raise ValueError(f"example {example!r} must be a sentence (end with . ! ? or a closing quote)")
        _refuse_repeats(value, "example")
        return value

    @field_validator("words")
    @classmethod
    def _words(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        _check_words(value)
        _refuse_repeats(value, "word")
        return value

    @field_validator("values")
    @classmethod
    def _keys(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is not None:
            _check_words(list(value))
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> LexiconSpec:
        if (self.words is None) == (self.values is None):
            raise ValueError("exactly one of 'words' or 'values' is required")
        if self.sign is not None and self.words is None:
            raise ValueError("'sign' goes with 'words', not with 'values'")
        return self


class LexiconFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: Literal[1] = 1
    lexicons: list[LexiconSpec] = Field(min_length=1)


def _repeated(items: list[str]) -> list[str]:
    """The items that occur more than once, each named once, in order."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item in seen and item not in out:
            out.append(item)
        seen.add(item)
    return out


def _refuse_repeats(items: list[str], what: str) -> None:
    repeated = _repeated(items)
    if repeated:
        raise ValueError(f"duplicate {what}{'s' if len(repeated) > 1 else ''} {', '.join(map(repr, repeated))}")


def _check_words(words: list[str]) -> None:
    bad = [w for w in words if not isinstance(w, str) or not _WORD.match(w)]
    if bad:
        raise ValueError(f"not a lowercase word or phrase: {', '.join(map(repr, bad))}")


@dataclass(frozen=True)
class Lexicon:
    """A validated entry: ``words`` keeps the file's order (it matters for ordered lists such as the months)."""

    id: str
    file: str
    why: str
    examples: tuple[str, ...]
    sign: int = 0
    words: tuple[str, ...] = ()
    values: Mapping[str, int] = field(default_factory=dict)

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """The words of the entry, or the keys of its table."""
        return self.words or tuple(self.values)


class _Loader(yaml.SafeLoader):
    """YAML whose plain scalars are words ("no", "on" and "null" included), with repeated keys refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


#: The 1.1 booleans and the nulls are left out, so "no", "on" or "null" stay the words they are.
_PLAIN = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _PLAIN]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _where(origin: str, raw: Any, loc: tuple[int | str, ...]) -> str:
    """ "polarity.yaml: support-words: words" for an error at ``lexicons[3].words``."""
    if len(loc) >= 2 and loc[0] == "lexicons" and isinstance(loc[1], int):
        entries = raw.get("lexicons") if isinstance(raw, dict) else None
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        name = entry.get("id") if isinstance(entry, dict) and isinstance(entry.get("id"), str) else f"#{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{origin}: {name}" + (f": {rest}" if rest else "")
    return f"{origin}: {'.'.join(str(p) for p in loc)}" if loc else origin


def parse_lexicon_file(text: str, origin: str) -> list[Lexicon]:
    """The entries of one lexicon file; every problem is a LexiconError that names the file and the entry."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise LexiconError(f"lexicons: {origin} is not valid YAML: {exc}") from exc
    try:
        spec = LexiconFileSpec.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a misspelt key first
        loc = tuple(first["loc"])
        if first["type"] == "extra_forbidden":
            loc, msg = loc[:-1], f"unknown key {loc[-1]!r}"
        elif first["type"] == "value_error":
            msg = str(first.get("ctx", {}).get("error", first["msg"]))
        else:
            msg = first["msg"]
        raise LexiconError(f"lexicons: {_where(origin, raw, loc)}: {msg}") from exc
    ids = [e.id for e in spec.lexicons]
    repeated = _repeated(ids)
    if repeated:
        raise LexiconError(f"lexicons: {origin}: {repeated[0]}: the id is used twice")
    return [
        Lexicon(
            id=e.id,
            file=origin,
            why=e.why,
            examples=tuple(e.examples),
            sign=SIGNS[e.sign] if e.sign else 0,
            words=tuple(e.words or ()),
            values=dict(e.values or {}),
        )
        for e in spec.lexicons
    ]


def load_lexicons(files: Iterable[tuple[str, str]]) -> dict[str, Lexicon]:
    """Every entry of the (name, text) files by id; an id defined in two files is an error naming both."""
    out: dict[str, Lexicon] = {}
    for origin, text in files:
        for lex in parse_lexicon_file(text, origin):
            if lex.id in out:
                raise LexiconError(f"lexicons: {origin}: {lex.id}: the id is already defined in {out[lex.id].file}")
            out[lex.id] = lex
    if not out:
        raise LexiconError("lexicons: no lexicon files found")
    return out


def shipped_files() -> list[tuple[str, str]]:
    """The lexicon files that ship with the package, by name, in name order."""
    root = resources.files(__name__)
    found = sorted((p for p in root.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)
    return [(p.name, p.read_text(encoding="utf-8")) for p in found]


class Lexicons:
    """Lexicons by id, and the shapes the rules read them in."""

    def __init__(self, entries: Mapping[str, Lexicon]) -> None:
        self.entries = dict(entries)

    def __iter__(self) -> Iterator[Lexicon]:
        return iter(self.entries.values())

    def get(self, lexicon_id: str) -> Lexicon:
        try:
            return self.entries[lexicon_id]
        except KeyError:
            files = sorted({x.file for x in self.entries.values()})
            raise LexiconError(f"lexicons: no lexicon {lexicon_id!r} in {', '.join(files)}") from None

    def words(self, lexicon_id: str) -> frozenset[str]:
        """The words of a ``words`` lexicon."""
        return frozenset(self.ordered(lexicon_id))

    def ordered(self, lexicon_id: str) -> tuple[str, ...]:
        """The words of a ``words`` lexicon in the file's order."""
        lex = self.get(lexicon_id)
        if not lex.words:
            raise LexiconError(f"lexicons: {lex.file}: {lexicon_id}: is a table of values, not a list of words")
        return lex.words

    def values(self, lexicon_id: str) -> dict[str, int]:
        """The word -> number table of a ``values`` lexicon."""
        lex = self.get(lexicon_id)
        if not lex.values:
            raise LexiconError(f"lexicons: {lex.file}: {lexicon_id}: is a list of words, not a table of values")
        return dict(lex.values)

    def signs(self, *lexicon_ids: str) -> dict[str, int]:
        """Word -> +1 / -1 from signed lexicons; a word listed with both signs is an error naming both lists."""
        out: dict[str, int] = {}
        origin: dict[str, str] = {}
        for lexicon_id in lexicon_ids:
            lex = self.get(lexicon_id)
            if not lex.sign:
                raise LexiconError(f"lexicons: {lex.file}: {lexicon_id}: has no sign")
            for w in lex.words:
                if w in out and out[w] != lex.sign:
                    raise LexiconError(
                        f"lexicons: {lex.file}: {lexicon_id}: {w!r} is also in {origin[w]}, with the other sign"
                    )
                out[w], origin[w] = lex.sign, lexicon_id
        return out

    def pattern(self, lexicon_id: str) -> str:
        """A regular-expression alternation of the lexicon's phrases, any run of spaces between their words."""
        return "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in self.ordered(lexicon_id))


#: Every shipped lexicon, loaded and validated once, at import.
SHIPPED = Lexicons(load_lexicons(shipped_files()))
lexicon = SHIPPED.get
words = SHIPPED.words
ordered = SHIPPED.ordered
values = SHIPPED.values
signs = SHIPPED.signs
pattern = SHIPPED.pattern
