"""Rules r11: headlines read in body grammar, and stance nouns whose possessor is a pronoun."""

from __future__ import annotations

from services.enricher.headline import full_name_subject, is_title_case, sentence_case
from tests.enricher.conftest import stances, titled


def test_bare_surname_headline_ruling_out_missiles_is_read_as_a_sentence(enricher):
    obs = titled(enricher, "Trump rules out Tomahawks for Ukraine")[("trump", "tomahawks")]
    assert obs.stance == "oppose" and obs.confidence >= 0.5


def test_bare_surname_headline_backing_penalties_gives_sanctions_support(enricher):
    assert (
        titled(enricher, "Trump backs tougher sanctions on Russia")[("trump", "russia-sanctions")].stance == "support"
    )


def test_title_case_headline_pausing_shipments_gives_aid_opposition(enricher):
    obs = titled(enricher, "Trump Pauses Weapons Shipments To Ukraine")[("trump", "ukraine-aid")]
    assert obs.stance == "oppose"


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


def test_his_call_in_a_sentence_without_a_figure_goes_to_the_last_figure_subject(enricher):
    text = (
        "Donald Trump addressed a rally in Pennsylvania on Saturday. "
        "Diplomats in Brussels welcomed his call for tougher sanctions on Russian oil buyers."
    )
    assert stances(enricher, text)[("trump", "russia-sanctions")].stance == "support"


def test_his_refusal_flips_the_complement_for_the_resolved_figure(enricher):
    text = (
        "Vladimir Putin received the envoy at the Kremlin on Thursday. "
        "Western officials criticised his refusal to accept a ceasefire along the current line."
    )
    assert stances(enricher, text)[("putin", "ceasefire-now")].stance == "oppose"


def test_his_after_another_person_subject_is_not_given_to_a_figure(enricher):
    text = (
        "Donald Trump spoke on Monday. Senator Jane Holloway later took questions from reporters. "
        "Allies welcomed his call for tougher sanctions on Russian oil buyers."
    )
    assert ("trump", "russia-sanctions") not in stances(enricher, text)
