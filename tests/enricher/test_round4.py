"""Round-4 constructions of long, real-style reporting, each on short text written for these tests.

Families: background and recap clauses, evaluation of a measure, whose account a clause is,
hedged negatives and conditions. Each test names a general behaviour, not an article of any set.
"""

from __future__ import annotations

from tests.enricher.conftest import stance_of

# -- background and recap -----------------------------------------------------------------------


def test_a_clause_after_which_the_news_happens_is_background(enricher):
    text = (
        "The envoy landed in Berlin on Monday, a week after Donald Trump hinted that he might send "
        "Tomahawk missiles to Ukraine."
    )
    assert stance_of(enricher, text, "trump", "tomahawks") is None


def test_a_statement_dated_last_month_is_not_current_even_with_now_inside(enricher):
    text = "Vladimir Putin said last month that he saw no reason for a summit with Donald Trump for now."
    assert stance_of(enricher, text, "putin", "putin-summit") is None


def test_a_when_clause_recalling_an_earlier_remark_is_background(enricher):
    text = (
        "Vladimir Putin sounded warmer on Thursday than a fortnight ago, when he said a summit with "
        "Donald Trump would be pointless."
    )
    assert stance_of(enricher, text, "putin", "putin-summit") is None


def test_a_possessed_proposal_dated_last_week_is_background(enricher):
    text = (
        "Donald Trump's appeal last week for both armies to freeze the war at the current front line "
        "drew a cautious welcome in Berlin."
    )
    assert stance_of(enricher, text, "trump", "ukraine-territory") is None


def test_a_scene_setting_phrase_is_not_a_stance_on_its_object(enricher):
    text = (
        "Ahead of the planned summit between Donald Trump and Vladimir Putin, Volodymyr Zelenskyy toured "
        "a drone workshop outside Lviv."
    )
    assert stance_of(enricher, text, "zelenskyy", "putin-summit") is None


# -- evaluating a measure -----------------------------------------------------------------------


def test_describing_sanctions_as_a_provocation_is_oppose(enricher):
    text = "Vladimir Putin described the fresh sanctions on Russian oil exporters as a reckless provocation."
    assert stance_of(enricher, text, "putin", "russia-sanctions") == "oppose"


def test_a_rhetorical_why_would_question_asserts_the_opposite(enricher):
    text = 'Donald Trump was asked about Russia. "Why would I ease the sanctions on Moscow now?" Trump said.'
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "support"


def test_rejecting_a_plan_does_not_reach_what_the_participle_insists_on(enricher):
    text = (
        "Vladimir Putin dismissed the plan on Friday, insisting that Ukrainian forces first withdraw from "
        "the Donbas region."
    )
    assert stance_of(enricher, text, "putin", "ukraine-territory") == "oppose"


def test_a_condition_introduced_by_only_when_is_demanded(enricher):
    text = "Vladimir Putin said the war would end only when Ukrainian troops withdrew from the Donbas."
    assert stance_of(enricher, text, "putin", "ukraine-territory") == "oppose"


def test_refusing_an_outcome_in_which_land_is_given_up_is_support(enricher):
    text = '"I cannot see an honest peace in which we give up our land," Volodymyr Zelenskyy said on Sunday.'
    assert stance_of(enricher, text, "zelenskyy", "ukraine-territory") == "support"


# -- whose account ------------------------------------------------------------------------------


def test_a_parenthetical_claimant_owns_the_claim_about_another_figure(enricher):
    text = "Volodymyr Zelenskyy, Vladimir Putin claimed, wanted a truce only to rearm his army."
    assert stance_of(enricher, text, "zelenskyy", "ceasefire-now") is None


def test_a_third_person_inside_a_quote_is_the_speakers_account(enricher):
    text = (
        "Volodymyr Zelenskyy left the White House on Friday. "
        '"He keeps asking for Tomahawks, he asks for everything," Donald Trump said later.'
    )
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") is None
    assert stance_of(enricher, text, "trump", "tomahawks") is None


def test_announcing_what_other_countries_agreed_is_not_the_announcers_stance(enricher):
    text = (
        "Mark Rutte announced that Norway and Sweden had agreed to pay for another package of air defence "
        "interceptors for Ukraine."
    )
    assert stance_of(enricher, text, "rutte", "ukraine-aid") is None


def test_a_figure_inside_another_speakers_statement_is_not_observed(enricher):
    text = "Donald Trump said he would not see Vladimir Putin while the Russian leader refused a ceasefire in Ukraine."
    assert stance_of(enricher, text, "putin", "ceasefire-now") is None


def test_another_partys_offer_on_the_path_is_not_the_speakers_stance(enricher):
    text = "Donald Trump said the talks had moved forward, helped by Kyiv's offer to drop its NATO membership bid."
    assert stance_of(enricher, text, "trump", "ukraine-nato") is None


def test_a_topic_named_only_in_the_reporters_question_is_no_stance(enricher):
    text = 'Asked about NATO membership for Ukraine, Mark Rutte said only: "We will see."'
    assert stance_of(enricher, text, "rutte", "ukraine-nato") is None


def test_an_interview_answer_about_another_figure_is_the_speakers_account(enricher):
    text = (
        "The interview was held in Kyiv on Sunday.\n\n"
        "Zelenskyy: President Trump told me that he needs the Tomahawk missiles for America."
    )
    assert stance_of(enricher, text, "trump", "tomahawks") is None


def test_a_title_for_the_party_resolves_to_its_figure(enricher):
    text = (
        "Donald Trump spoke at a rally on Tuesday.\n\n"
        "The Republican president said he would impose tougher sanctions on Russian oil."
    )
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "support"


# -- hedged negatives ---------------------------------------------------------------------------


def test_not_having_received_an_answer_is_no_opposition(enricher):
    text = "Volodymyr Zelenskyy said Ukraine had not yet received an answer on the Tomahawk missiles."
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") != "oppose"


def test_a_negated_verb_limited_by_only_is_no_stance(enricher):
    text = '"We cannot keep fighting only on our own soil," Volodymyr Zelenskyy told reporters in Kyiv.'
    assert stance_of(enricher, text, "zelenskyy", "ceasefire-now") is None
