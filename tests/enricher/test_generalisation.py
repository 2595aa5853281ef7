"""Linguistic cases found by the held-out set, each on short sentences written for these tests.

Every test names the general behaviour (a construction or a vocabulary family), not an article.
"""

from __future__ import annotations

from tests.enricher.conftest import enrich, stance_of, stances

# -- layout: live blogs, datelines, headlines ---------------------------------------------------


def test_live_blog_time_stamps_do_not_hide_the_speaker(enricher):
    text = (
        "09:14 — Shelling continued overnight near the river.\n\n"
        "09:40 — Donald Trump, speaking in the Oval Office, says he will impose new sanctions on Russian banks."
    )
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "support"


def test_two_city_dateline_is_not_the_subject(enricher):
    text = "LONDON/KYIV (Example Wire) — Mark Rutte on Monday called for an immediate truce along the front line."
    assert stance_of(enricher, text, "rutte", "ceasefire-now") == "support"


def test_dateline_place_counts_as_topic_context(enricher):
    text = "KYIV — Volodymyr Zelenskyy said guarantees could only ever be a stepping stone to NATO membership."
    assert stance_of(enricher, text, "zelenskyy", "ukraine-nato") == "support"


def test_offsets_index_the_text_when_it_starts_with_the_headline(enricher):
    text = (
        "Rutte wants more weapons for Ukraine\n"
        "Mark Rutte said on Friday that allies must send more weapons to Ukraine before the winter."
    )
    (obs,) = enrich(enricher, text).observations
    assert all(text[ev.start : ev.end] == ev.text for ev in obs.evidence)


# -- attribution --------------------------------------------------------------------------------


def test_a_claim_inside_a_quote_belongs_to_the_speaker_named_after_it(enricher):
    text = (
        "The speech drew long applause. \u201cOur country's future lies inside NATO. We will get there,\u201d "
        "the Ukrainian president said."
    )
    assert stance_of(enricher, text, "zelenskyy", "ukraine-nato") == "support"


def test_a_quote_from_an_untracked_speaker_gives_no_stance(enricher):
    text = (
        "Donald Trump left Washington on Friday. \u201cSanctions on Russian oil must be tightened now,\u201d "
        "said Jana Novak, a senator who travelled with him."
    )
    assert ("trump", "russia-sanctions") not in stances(enricher, text)


def test_the_president_refers_back_to_the_figure_named_before(enricher):
    text = (
        "Donald Trump spent the weekend at his golf club in Florida. "
        "The president told reporters that US weapons would keep flowing to Ukraine."
    )
    assert stance_of(enricher, text, "trump", "ukraine-aid") == "support"


def test_a_relative_clause_on_a_role_noun_is_the_figures_past_stance(enricher):
    text = (
        "Donald Trump said he would suspend arms shipments to Ukraine, a sharp turn for a president "
        "who last spring promised to keep the weapons coming."
    )
    obs = stances(enricher, text)[("trump", "ukraine-aid")]
    assert obs.stance == "oppose"
    assert obs.past is not None and obs.past.stance == "support"


def test_a_second_that_clause_hangs_on_the_speech_verb_not_on_the_negated_one(enricher):
    text = (
        "Donald Trump said he did not back sending Tomahawks and that Ukraine's biggest need was air defence instead."
    )
    found = stances(enricher, text)
    assert found[("trump", "tomahawks")].stance == "oppose"
    assert found.get(("trump", "ukraine-aid")) is None or found[("trump", "ukraine-aid")].stance != "oppose"


# -- scope: circumstances, bargains, contrasts ---------------------------------------------------


def test_a_cue_in_a_while_clause_is_not_the_object_of_the_attitude(enricher):
    text = "Mark Rutte said allies should keep sending weapons to Ukraine while talks on a ceasefire go on."
    found = stances(enricher, text)
    assert found[("rutte", "ukraine-aid")].stance == "support"
    assert ("rutte", "ceasefire-now") not in found


def test_the_price_of_a_bargain_is_not_the_stance(enricher):
    text = "Volodymyr Zelenskyy refused to give up land in exchange for a ceasefire."
    found = stances(enricher, text)
    assert found[("zelenskyy", "ukraine-territory")].stance == "support"
    assert ("zelenskyy", "ceasefire-now") not in found


def test_not_after_a_noun_is_a_contrast_not_a_negation(enricher):
    text = "Mark Rutte said the guarantees were a path to NATO membership for Ukraine, not a replacement for it."
    assert stance_of(enricher, text, "rutte", "ukraine-nato") == "support"


def test_not_changing_a_view_keeps_it_current(enricher):
    text = "Volodymyr Zelenskyy said he had not changed his view that Ukraine needs Tomahawk missiles."
    obs = stances(enricher, text)[("zelenskyy", "tomahawks")]
    assert obs.stance == "support" and obs.past is None


def test_an_earlier_insistence_being_reversed_is_the_past_stance(enricher):
    text = (
        "Dropping his earlier insistence that there could be no truce before a full settlement, "
        "Vladimir Putin said Russia would accept a ceasefire along the current line."
    )
    obs = stances(enricher, text)[("putin", "ceasefire-now")]
    assert obs.stance == "support"


def test_giving_the_other_side_time_to_regroup_is_oppose(enricher):
    text = "Vladimir Putin said a pause in the fighting now would only give Ukraine time to regroup."
    assert stance_of(enricher, text, "putin", "ceasefire-now") == "oppose"


def test_only_as_an_adverb_is_not_support(enricher):
    text = "Vladimir Putin said a truce along the front would only benefit the other side."
    assert stance_of(enricher, text, "putin", "ceasefire-now") != "support"


def test_keep_fighting_for_a_goal_is_not_a_ceasefire_stance(enricher):
    text = "Volodymyr Zelenskyy said Ukrainians would keep fighting for every occupied village."
    assert ("zelenskyy", "ceasefire-now") not in stances(enricher, text)


def test_in_no_hurry_negates_the_attitude(enricher):
    text = "Donald Trump said he was in no hurry to impose more sanctions on Russia."
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "oppose"


# -- vocabulary families ------------------------------------------------------------------------


def test_take_back_territory_is_support(enricher):
    text = "Donald Trump wrote that Ukraine could take back all of its occupied land with European money."
    assert stance_of(enricher, text, "trump", "ukraine-territory") == "support"


def test_a_war_frozen_along_the_front_is_territory_oppose(enricher):
    text = "Donald Trump said the war should be frozen where the armies now stand."
    assert stance_of(enricher, text, "trump", "ukraine-territory") == "oppose"


def test_ukraine_withdrawing_is_oppose_and_russia_withdrawing_is_support(enricher):
    ukr = "Vladimir Putin said Ukraine must withdraw its troops from the Donetsk region before any deal."
    rus = "Volodymyr Zelenskyy said Russian troops must withdraw from every occupied region."
    assert stance_of(enricher, ukr, "putin", "ukraine-territory") == "oppose"
    assert stance_of(enricher, rus, "zelenskyy", "ukraine-territory") == "support"


def test_lowering_the_price_cap_is_tightening_sanctions(enricher):
    text = "Mark Rutte urged allies to lower the price cap on Russian crude oil."
    assert stance_of(enricher, text, "rutte", "russia-sanctions") == "support"


def test_the_measures_refers_back_to_sanctions(enricher):
    text = (
        "Washington imposed sanctions on two Russian oil producers on Wednesday. "
        "Donald Trump said the measures were long overdue."
    )
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "support"


def test_the_deliveries_refers_back_to_aid(enricher):
    text = (
        "European allies pay for American weapons for Ukraine through a NATO scheme. "
        "Mark Rutte said the deliveries must continue through the winter."
    )
    assert stance_of(enricher, text, "rutte", "ukraine-aid") == "support"


def test_a_harm_verb_with_the_cue_as_subject_is_oppose(enricher):
    text = "Vladimir Putin warned that supplying Tomahawks to Kyiv would wreck relations with Washington."
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


def test_calling_a_summit_useful_is_support(enricher):
    text = "Vladimir Putin said a summit with Donald Trump would be useful if well prepared."
    assert stance_of(enricher, text, "putin", "putin-summit") == "support"


def test_no_substitute_for_membership_is_support(enricher):
    text = "Volodymyr Zelenskyy said bilateral pacts were no substitute for Ukraine joining NATO."
    assert stance_of(enricher, text, "zelenskyy", "ukraine-nato") == "support"


def test_an_alternative_to_membership_is_oppose(enricher):
    text = "Vladimir Putin proposed neutrality for Ukraine as an alternative to NATO membership."
    assert stance_of(enricher, text, "putin", "ukraine-nato") == "oppose"
