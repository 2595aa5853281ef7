"""Assemble an :class:`Enricher` from settings: watchlist + spaCy pipeline, loaded once per process."""

from __future__ import annotations

from services.enricher.extract import Enricher
from services.enricher.judges import make_judge
from services.enricher.nlp import load_pipeline
from services.enricher.settings import EnricherSettings
from services.enricher.watchlist import load_watchlist


def build_enricher(settings: EnricherSettings, watchlist_path: str | None = None) -> Enricher:
    """Fails fast with a named error (bad watchlist, model not installed); never downloads anything."""
    watchlist = load_watchlist(watchlist_path or settings.watchlist or None)
    nlp = load_pipeline(settings.spacy_model)
    ner = load_pipeline(settings.spacy_model, with_ner=True) if settings.full_ner else None
    return Enricher(
        watchlist,
        nlp,
        full_ner=settings.full_ner,
        ner_nlp=ner,
        max_text_chars=settings.max_text_chars,
        max_sentence_chars=settings.max_sentence_chars,
        max_parsed_sentences=settings.max_parsed_sentences,
        judge=make_judge(settings.judge, min_probability=settings.judge_min_probability, int8=settings.judge_int8),
    )
