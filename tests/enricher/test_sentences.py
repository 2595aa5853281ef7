"""The cheap splitter: abbreviations, initials, datelines and quotes."""

from __future__ import annotations

from services.enricher.sentences import mask_markup, quote_spans, split_sentences


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Donald J. Trump met U.S. officials on Jan. 5 in Washington. They talked for an hour."
    assert [s.text for s in split_sentences(text)] == [
        "Donald J. Trump met U.S. officials on Jan. 5 in Washington.",
        "They talked for an hour.",
    ]


def test_dateline_is_not_part_of_the_first_sentence():
    text = "KYIV, Feb 2 (Example Wire) — The president spoke. He left."
    first = split_sentences(text)[0]
    assert first.text == "The president spoke."
    assert text[first.start : first.end] == first.text


def test_paragraphs_always_end_a_sentence():
    sents = split_sentences("A headline without a stop\n\nThe body starts here.")
    assert [s.paragraph for s in sents] == [0, 1]


def test_a_long_run_without_punctuation_is_cut_into_bounded_pieces():
    sents = split_sentences("word " * 1000, max_chars=300)
    assert len(sents) > 10 and all(len(s.text) <= 300 for s in sents)


def test_quotes_are_found_across_sentences():
    text = "He said, \u201cFirst point. Second point.\u201d Then he left."
    (span,) = quote_spans(text)
    assert text[span[0] : span[1]] == "\u201cFirst point. Second point.\u201d"


def test_markup_masking_keeps_length():
    text = "<b>Bold</b> move"
    assert mask_markup(text) == "   Bold     move" and len(mask_markup(text)) == len(text)
