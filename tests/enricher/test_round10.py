"""Rules r10: stances carried by the headline, and stance nouns whose possessor holds the stance."""

from __future__ import annotations

from services.enricher.headline import explicit_verb, headline_clauses
from tests.enricher.conftest import NEUTRAL_BODY, stances, titled


def test_headline_ruling_out_gives_an_alertable_opposition_with_body_evidence(enricher):
    got = titled(enricher, "Trump rules out NATO membership for Kyiv")
    obs = got[("trump", "ukraine-nato")]
    assert obs.stance == "oppose" and obs.confidence >= 0.5
    assert obs.evidence[0].text == NEUTRAL_BODY[obs.evidence[0].start : obs.evidence[0].end]
    assert obs.evidence[0].start == 0  # no body sentence restates it: the first one naming the figure


def test_question_headline_states_no_stance(enricher):
    assert ("trump", "ukraine-nato") not in titled(enricher, "Will Trump rule out NATO membership for Kyiv?")


def test_body_stance_wins_over_a_contradicting_headline(enricher):
    text = "Donald Trump said on Monday that Ukraine should be able to join NATO one day."
    got = titled(enricher, "Trump rules out NATO membership for Kyiv", text)
    assert got[("trump", "ukraine-nato")].stance == "support"


def test_headline_figure_absent_from_the_body_gets_no_observation(enricher):
    text = "Air raid sirens sounded across Kyiv overnight as drones struck power stations in the east."
    assert not titled(enricher, "Zelensky renews call for Tomahawks", text)


def test_headline_labels_and_questions_are_stripped_into_clauses():
    clauses = headline_clauses("LIVE: Strikes hit Kyiv - Zelensky renews call for Tomahawks; Will Trump act?")
    assert clauses == ["Strikes hit Kyiv.", "Zelensky renews call for Tomahawks."]


def test_headline_plan_with_to_reads_as_a_future_meeting():
    assert headline_clauses("Trump to meet Putin in Budapest") == ["Trump will meet Putin in Budapest."]


def test_stance_verb_after_the_cue_does_not_make_the_headline_explicit():
    clause = "Trump and Putin end summit without deal, pledge to meet again."
    assert not explicit_verb(clause, clause.index("summit"))
    assert explicit_verb("Trump calls off the summit.", 20)


def test_possessor_of_reluctance_opposes_what_follows(enricher):
    got = stances(enricher, "Kyiv officials openly criticised Donald Trump's reluctance to send Tomahawks.")
    assert got[("trump", "tomahawks")].stance == "oppose"


def test_critic_of_a_possessed_reluctance_is_not_given_the_possessors_stance(enricher):
    got = stances(enricher, "Volodymyr Zelenskyy criticised Donald Trump's reluctance to send Tomahawks.")
    assert ("zelenskyy", "tomahawks") not in got or got[("zelenskyy", "tomahawks")].stance != "oppose"


def test_possessor_of_backing_supports_sending(enricher):
    got = stances(enricher, "Diplomats noted Mark Rutte's backing for sending Tomahawks to Ukraine.")
    assert got[("rutte", "tomahawks")].stance == "support"


def test_refusal_to_accept_a_ceasefire_is_opposition(enricher):
    got = stances(enricher, "Vladimir Putin's refusal to accept a ceasefire was condemned in several capitals.")
    assert got[("putin", "ceasefire-now")].stance == "oppose"


def test_insistence_on_a_deal_before_a_ceasefire_is_not_read_as_wanting_the_ceasefire(enricher):
    got = stances(enricher, "Observers in Berlin noted Vladimir Putin's insistence on a deal before any ceasefire.")
    assert got.get(("putin", "ceasefire-now")) is None or got[("putin", "ceasefire-now")].stance != "support"
