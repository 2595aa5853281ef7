"""Round-3 constructions of real-style reporting, each on short text written for these tests.

Each test names a general behaviour (anaphora, role titles, question and answer, lexicon families),
not an article of any evaluation set.
"""

from __future__ import annotations

from tests.enricher.conftest import stance_of, stances

# -- pronouns standing for the topic's object ---------------------------------------------------


def test_them_after_the_missiles_carries_the_refusal(enricher):
    text = (
        "Reporters asked about Tomahawk missiles for Ukraine. "
        'Donald Trump said: "We are not going to be handing them out any time soon."'
    )
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


def test_calling_them_a_hostile_step_is_oppose(enricher):
    text = (
        "Vladimir Putin commented on the Tomahawk missiles on Friday. "
        "He called them a dangerous provocation that would poison relations with Washington."
    )
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


def test_a_pronoun_far_from_any_object_cue_is_not_a_topic(enricher):
    text = (
        "Volodymyr Zelenskyy asked allies for more air defence for Ukraine.\n\n"
        "Weeks later the weather turned cold across the region. Farmers worried about their harvest. "
        "Zelenskyy thanked them for their patience and said he would send them greetings."
    )
    obs = stances(enricher, text)
    assert all(o.evidence[0].text.startswith("Volodymyr") for o in obs.values())


# -- role titles resolve to a compatible figure -------------------------------------------------


def test_the_secretary_general_resolves_to_the_nato_figure(enricher):
    text = (
        "Mark Rutte met defence ministers in Brussels on Tuesday. "
        "The secretary-general said allies must keep weapons flowing to Ukraine."
    )
    assert stance_of(enricher, text, "rutte", "ukraine-aid") == "support"


def test_the_secretary_general_never_resolves_to_a_president(enricher):
    text = (
        "Vladimir Putin spoke by phone with Donald Trump on Monday. "
        "The secretary-general said allies must keep weapons flowing to Ukraine."
    )
    obs = stances(enricher, text)
    assert ("putin", "ukraine-aid") not in obs and ("trump", "ukraine-aid") not in obs


def test_the_president_skips_a_figure_who_is_not_a_president(enricher):
    text = (
        "Donald Trump hosted the NATO chief at the White House. Mark Rutte praised the talks. "
        "The president said new tariffs on buyers of Russian oil were coming."
    )
    obs = stances(enricher, text)
    assert obs[("trump", "russia-sanctions")].stance == "support"
    assert ("rutte", "russia-sanctions") not in obs


def test_a_figure_named_at_the_start_of_a_compound_like_post_owns_his_pronoun(enricher):
    text = 'Volodymyr Zelenskyy posts on X that he wants "a full ceasefire in the air and at sea" starting on Sunday.'
    assert stance_of(enricher, text, "zelenskyy", "ceasefire-now") == "support"


# -- questions and answers ----------------------------------------------------------------------


def test_a_plain_no_to_a_question_about_the_topic_is_oppose(enricher):
    text = 'Asked whether he would meet Vladimir Putin next month, Donald Trump said: "No. Not until they are serious."'
    assert stance_of(enricher, text, "trump", "putin-summit") == "oppose"


def test_a_plain_yes_to_a_question_about_the_topic_is_support(enricher):
    text = 'Asked about more air defence for Ukraine, Mark Rutte replied: "Yes, and quickly."'
    assert stance_of(enricher, text, "rutte", "ukraine-aid") == "support"


def test_a_question_without_a_plain_answer_gives_no_stance(enricher):
    text = 'Asked about Tomahawk missiles for Ukraine, Donald Trump said: "We are talking to a lot of people."'
    assert stance_of(enricher, text, "trump", "tomahawks") is None


def test_being_asked_is_not_asking_for(enricher):
    text = "Asked about Tomahawk missiles for Ukraine, Donald Trump talked about the stock market instead."
    assert stance_of(enricher, text, "trump", "tomahawks") is None


def test_interview_answers_labelled_with_the_speaker_belong_to_him(enricher):
    text = (
        "Q: Should the fighting stop where it is?\n\n"
        "Rutte: I think an immediate ceasefire along the current line is the right first step."
    )
    assert stance_of(enricher, text, "rutte", "ceasefire-now") == "support"


# -- lexicon families and side effects ----------------------------------------------------------


def test_sanctions_hurting_those_who_impose_them_is_oppose(enricher):
    text = "Vladimir Putin said Europe was hurting itself with the sanctions on Russian gas."
    assert stance_of(enricher, text, "putin", "russia-sanctions") == "oppose"


def test_sanctions_that_failed_is_oppose(enricher):
    text = "Vladimir Putin said the Western sanctions against Russia had failed."
    assert stance_of(enricher, text, "putin", "russia-sanctions") == "oppose"


def test_weapons_that_change_the_calculation_is_support(enricher):
    text = "Volodymyr Zelenskyy said long-range missiles would change Moscow's calculation."
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") == "support"


def test_weapons_that_would_not_change_anything_is_oppose(enricher):
    text = "Vladimir Putin said long-range missiles would not change the situation on the front."
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


def test_a_truce_that_would_only_help_the_enemy_is_oppose(enricher):
    text = "Vladimir Putin said a ceasefire in Ukraine would only help Kyiv mobilise more soldiers."
    assert stance_of(enricher, text, "putin", "ceasefire-now") == "oppose"


def test_pouring_cold_water_on_hopes_is_oppose(enricher):
    text = "Donald Trump poured cold water on Kyiv's hopes of getting Tomahawk missiles from Washington."
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


def test_signing_off_on_weapons_sales_is_support(enricher):
    text = "Donald Trump signed off on new weapons sales for Ukraine on Wednesday."
    assert stance_of(enricher, text, "trump", "ukraine-aid") == "support"


def test_longer_range_is_the_missile_topic(enricher):
    text = "Donald Trump said he was fine with allies giving Ukraine longer-range missiles."
    assert stance_of(enricher, text, "trump", "tomahawks") == "support"


def test_a_message_about_membership_is_not_a_stance_on_it(enricher):
    text = "Donald Trump and Mark Rutte offered different messages on Ukraine's NATO membership on Monday."
    obs = stances(enricher, text)
    assert ("trump", "ukraine-nato") not in obs and ("rutte", "ukraine-nato") not in obs


# -- territory paraphrase ------------------------------------------------------------------------


def test_refusing_to_order_troops_out_of_a_region_is_support(enricher):
    text = "Volodymyr Zelenskyy said he would not order his troops out of the Donbas."
    assert stance_of(enricher, text, "zelenskyy", "ukraine-territory") == "support"


def test_demanding_that_ukrainian_troops_leave_the_land_is_oppose(enricher):
    text = "Vladimir Putin said Ukrainian troops must leave the rest of Donetsk before any deal."
    assert stance_of(enricher, text, "putin", "ukraine-territory") == "oppose"


# -- institutions stay institutions ---------------------------------------------------------------


def test_an_institution_reporting_a_cancelled_meeting_is_not_the_participants(enricher):
    text = 'The White House said a meeting between Donald Trump and Vladimir Putin was "not being planned".'
    obs = stances(enricher, text)
    assert ("trump", "putin-summit") not in obs and ("putin", "putin-summit") not in obs
