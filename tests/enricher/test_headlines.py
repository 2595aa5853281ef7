"""Headlines: what a headline adds to the body, and the helpers that read a headline as a sentence.

Single-pair headline readings are data in cases/rules/headlines.yaml; these check confidence, evidence and helpers.
"""

from __future__ import annotations

from services.enricher.headline import explicit_verb, full_name_subject, headline_clauses, is_title_case, sentence_case
from tests.enricher.conftest import NEUTRAL_BODY, titled

# -- a headline stance on the article ----------------------------------------------------------


def test_headline_ruling_out_gives_an_alertable_opposition_with_body_evidence(enricher):
    got = titled(enricher, "Trump rules out NATO membership for Kyiv")
    obs = got[("trump", "ukraine-nato")]
    assert obs.stance == "oppose" and obs.confidence >= 0.5
    assert obs.evidence[0].text == NEUTRAL_BODY[obs.evidence[0].start : obs.evidence[0].end]
    assert obs.evidence[0].start == 0  # no body sentence restates it: the first one naming the figure


def test_bare_surname_headline_ruling_out_missiles_is_read_as_a_sentence(enricher):
    obs = titled(enricher, "Trump rules out Tomahawks for Ukraine")[("trump", "tomahawks")]
    assert obs.stance == "oppose" and obs.confidence >= 0.5


def test_headline_figure_absent_from_the_body_gets_no_observation(enricher):
    text = "Air raid sirens sounded across Kyiv overnight as drones struck power stations in the east."
    assert not titled(enricher, "Zelensky renews call for Tomahawks", text)


# -- reading a headline as a sentence ----------------------------------------------------------


def test_headline_labels_and_questions_are_stripped_into_clauses():
    clauses = headline_clauses("LIVE: Strikes hit Kyiv - Zelensky renews call for Tomahawks; Will Trump act?")
    assert clauses == ["Strikes hit Kyiv.", "Zelensky renews call for Tomahawks."]


def test_headline_plan_with_to_reads_as_a_future_meeting():
    assert headline_clauses("Trump to meet Putin in Budapest") == ["Trump will meet Putin in Budapest."]


def test_stance_verb_after_the_cue_does_not_make_the_headline_explicit():
    clause = "Trump and Putin end summit without deal, pledge to meet again."
    assert not explicit_verb(clause, clause.index("summit"))
    assert explicit_verb("Trump calls off the summit.", 20)


def test_title_case_is_told_apart_from_a_sentence_case_headline():
    assert is_title_case("Trump Pauses Weapons Shipments to Ukraine")
    assert not is_title_case("Trump pauses weapons shipments to Ukraine")


def test_sentence_case_keeps_names_the_body_capitalises_mid_sentence():
    body = "Officials said aid to Ukraine would resume. The shipments were paused."
    got = sentence_case("Trump Pauses Weapons Shipments To Ukraine", body, keep=((0, 5),))
    assert got == "Trump pauses weapons shipments to Ukraine"


def test_opening_surname_is_replaced_by_the_full_name_only_at_the_start():
    assert full_name_subject("Trump rules out X.", 0, 5, "Donald Trump") == "Donald Trump rules out X."
    assert full_name_subject("Aides say Trump rules out X.", 10, 15, "Donald Trump") == "Aides say Trump rules out X."
