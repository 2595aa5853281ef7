"""Round-6 constructions behind false alerts on independently written reporting, on text written for these tests.

Families: a pause exploited by the other side, another party's wish inside a quote, subjects taken up without a
position ("did not address"), declining to commit, conditions of a settlement, "X, not Y" contrasts, "meet" with
a thing as its object, a bare "no" versus "no plans", a figure only described inside a relative clause.
Each test names a general behaviour, not an article of any set.
"""

from __future__ import annotations

from tests.enricher.conftest import stance_of

# -- a pause the other side would exploit -------------------------------------------------------


def test_weapons_an_adversary_would_receive_during_a_pause_are_no_aid_stance(enricher):
    text = (
        "Vladimir Putin told officials in Moscow that Kyiv would treat any pause as a chance to regroup and "
        "receive fresh Western weapons for Ukraine."
    )
    assert stance_of(enricher, text, "putin", "ukraine-aid") is None


def test_a_figure_still_wanting_to_receive_weapons_keeps_the_aid_stance(enricher):
    text = "Volodymyr Zelenskyy said Ukraine still wants to receive more weapons from its partners this winter."
    assert stance_of(enricher, text, "zelenskyy", "ukraine-aid") == "support"


def test_a_truce_set_against_a_lasting_peace_with_not_is_opposed(enricher):
    text = 'Vladimir Putin said Moscow was seeking "a durable peace for Ukraine, not a truce" with its neighbour.'
    assert stance_of(enricher, text, "putin", "ceasefire-now") == "oppose"


# -- another party inside a quote -----------------------------------------------------------------


def test_what_they_want_inside_a_figures_quote_is_not_the_speakers_wish(enricher):
    text = 'Vladimir Putin spoke about the war in Ukraine on Monday. "They want a truce only to buy time," Putin said.'
    assert stance_of(enricher, text, "putin", "ceasefire-now") != "support"


def test_everybody_wanting_the_missiles_is_not_the_speakers_stance(enricher):
    text = 'Asked about Ukraine, Donald Trump said: "Everybody wants Tomahawks. Everybody is asking."'
    assert stance_of(enricher, text, "trump", "tomahawks") is None


# -- a subject taken up without a position ------------------------------------------------------


def test_not_addressing_the_planned_summit_is_no_stance_on_it(enricher):
    text = "Vladimir Putin spoke for an hour on Thursday but did not mention the planned summit with Donald Trump."
    assert stance_of(enricher, text, "putin", "putin-summit") is None


def test_declining_to_commit_to_the_missiles_is_undecided(enricher):
    text = "Donald Trump declined on Monday to commit to sending Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks") == "undecided"


def test_refusing_the_missiles_outright_is_still_opposition(enricher):
    text = "Donald Trump refused on Monday to send Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


# -- conditions of a settlement -----------------------------------------------------------------


def test_sanctions_lifted_once_a_deal_is_reached_is_no_stance_now(enricher):
    text = "Donald Trump said the sanctions on Russian oil would be eased once a peace agreement was signed."
    assert stance_of(enricher, text, "trump", "russia-sanctions") is None


def test_a_threat_conditioned_on_a_refused_deal_is_a_stance(enricher):
    text = "Donald Trump said he could send Tomahawk missiles to Ukraine if Russia refused a deal."
    assert stance_of(enricher, text, "trump", "tomahawks") == "support"


def test_holding_back_until_a_deal_is_signed_is_a_stance_now(enricher):
    text = "Donald Trump said he would halt weapons deliveries to Ukraine until Kyiv signed a peace agreement."
    assert stance_of(enricher, text, "trump", "ukraine-aid") == "oppose"


# -- other senses and answers -------------------------------------------------------------------


def test_meeting_a_spending_target_is_not_a_summit(enricher):
    text = (
        "Donald Trump, who has spoken of Vladimir Putin often this month, praised allies that meet the "
        "spending target of the alliance."
    )
    assert stance_of(enricher, text, "trump", "putin-summit") is None


def test_no_plans_is_not_a_plain_no_answer(enricher):
    text = 'Asked whether he would meet Vladimir Putin soon, Donald Trump said he had "no plans I can share."'
    assert stance_of(enricher, text, "trump", "putin-summit") is None


def test_a_plain_no_answer_still_opposes(enricher):
    text = 'Asked whether he would meet Vladimir Putin this month, Donald Trump said: "No. Not now."'
    assert stance_of(enricher, text, "trump", "putin-summit") == "oppose"


def test_a_figure_described_in_a_relative_clause_is_not_the_quotes_speaker(enricher):
    text = 'Sanctions on Russian oil, which Donald Trump discussed in spring, must be "tightened again, and soon."'
    assert stance_of(enricher, text, "trump", "russia-sanctions") is None
