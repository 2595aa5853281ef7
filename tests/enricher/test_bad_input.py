"""Bad input never crashes or hangs the enricher: it yields an enriched article with a reason."""

from __future__ import annotations

import time

import pytest

from tests.enricher.conftest import enrich

STANCE_SENTENCE = "Donald Trump said he would send Tomahawk missiles to Ukraine. "


def test_empty_text_is_skipped_with_a_reason(enricher):
    result = enrich(enricher, "   \n ")
    assert result.observations == [] and result.skipped_reason == "empty text"


def test_five_megabytes_of_text_is_skipped_quickly(enricher):
    t0 = time.perf_counter()
    result = enrich(enricher, STANCE_SENTENCE * (5_000_000 // len(STANCE_SENTENCE)))
    assert time.perf_counter() - t0 < 5
    assert result.observations == [] and result.skipped_reason.startswith("too large")


def test_binary_garbage_is_skipped(enricher):
    garbage = bytes(range(256)).decode("latin-1") * 40
    result = enrich(enricher, garbage)
    assert result.observations == [] and result.skipped_reason == "binary or undecodable content"


def test_html_leftovers_alone_yield_nothing(enricher):
    html = '<div class="nav"><a href="/x">Home</a></div><script>var trump = 1;</script>' * 50
    result = enrich(enricher, html)
    assert result.observations == []


def test_html_tags_around_a_sentence_keep_offsets_valid(enricher):
    text = "<p>Donald Trump said he would send Tomahawk missiles to Ukraine.</p><br/>"
    (obs,) = enrich(enricher, text).observations
    ev = obs.evidence[0]
    assert text[ev.start : ev.end] == ev.text and "<p>" not in ev.text


def test_non_english_text_is_skipped(enricher):
    text = (
        "Der Präsident Donald Trump sagte am Montag, er werde keine Tomahawk-Raketen in die Ukraine "
        "schicken, weil die Lage zu gefährlich sei und die NATO darüber beraten müsse. " * 5
    )
    result = enrich(enricher, text)
    assert result.observations == [] and result.skipped_reason == "not English"


def test_text_without_sentence_punctuation_is_bounded(enricher):
    words = "trump tomahawks nato sanctions meeting summit ceasefire land aid weapons ".split()
    text = " ".join(words[i % len(words)] for i in range(20_000))
    t0 = time.perf_counter()
    result = enrich(enricher, text)
    assert time.perf_counter() - t0 < 5
    assert result.observations == [] and result.skipped_reason == "no sentence punctuation"


@pytest.mark.parametrize("count", [500])
def test_many_candidate_sentences_are_capped(enricher, count):
    t0 = time.perf_counter()
    result = enrich(enricher, STANCE_SENTENCE * count)
    assert time.perf_counter() - t0 < 10
    assert [(o.actor, o.topic, o.stance) for o in result.observations] == [("trump", "tomahawks", "support")]


def test_a_title_of_a_hundred_thousand_repeated_names_is_read_only_up_to_its_bound(enricher):
    hostile = "Donald Trump rejects Tomahawks " * 100_000  # 3 MB of headline
    cut = hostile[:1_000]
    full = enrich(enricher, STANCE_SENTENCE, title=hostile)
    bounded = enrich(enricher, STANCE_SENTENCE, title=cut)
    assert full.article.title == cut
    assert [o.model_dump() for o in full.observations] == [o.model_dump() for o in bounded.observations]
    assert full.observations, "the body sentence is still read"
