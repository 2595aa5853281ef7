"""Each linguistic case the enricher must get right, on short articles written for these tests."""

from __future__ import annotations

from tests.enricher.conftest import enrich, observation, stance_of, stances

# -- attribution: quotes and reported speech ---------------------------------------------------


def test_quote_after_speaker_belongs_to_speaker(enricher):
    text = 'Vladimir Putin said, "We will never accept a ceasefire before a full peace deal is signed."'
    assert stance_of(enricher, text, "putin", "ceasefire-now") == "oppose"


def test_quote_before_speaker_belongs_to_speaker(enricher):
    text = '"Ukraine will join the alliance one day, and nobody in Moscow gets a veto over that," Rutte said.'
    assert stance_of(enricher, text, "rutte", "ukraine-nato") == "support"


def test_quote_introduced_by_stating_belongs_to_the_main_subject(enricher):
    text = (
        "Volodymyr Zelenskyy visited a power plant hit by drones, stating, "
        "\u201cWe need Tomahawk missiles to reach the airfields these drones come from.\u201d"
    )
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") == "support"


def test_multi_sentence_quote_keeps_its_speaker(enricher):
    text = (
        "Donald Trump spoke at length in the Oval Office, saying, \u201cI have thought about it a lot. "
        "We are going to impose very heavy sanctions on Russia's oil companies.\u201d"
    )
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "support"


def test_reported_speech_belongs_to_its_speaker(enricher):
    text = "Donald Trump told reporters on Monday that he would impose new sanctions on Russian banks."
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "support"


def test_what_one_figure_says_about_another_is_the_speakers_stance(enricher):
    text = "Mark Rutte said Donald Trump wants to stop the fighting right away and hold talks afterwards."
    found = stances(enricher, text)
    assert found[("rutte", "ceasefire-now")].stance == "support"
    assert ("trump", "ceasefire-now") not in found


def test_a_claim_by_an_unnamed_official_is_not_the_figures_stance(enricher):
    text = "A senior official claimed that Donald Trump had privately promised Tomahawk missiles to Kyiv."
    assert stances(enricher, text) == {}


# -- persons versus institutions ----------------------------------------------------------------


def test_institutions_are_not_the_person(enricher):
    text = (
        "Moscow insists that Ukraine must never join NATO. The Kremlin also rejected any ceasefire along "
        "the front. Vladimir Putin made no public appearance on Tuesday."
    )
    found = stances(enricher, text)
    assert ("putin", "ukraine-nato") not in found
    assert ("putin", "ceasefire-now") not in found


# -- mentions: titles and pronouns --------------------------------------------------------------


def test_title_the_nato_chief_is_rutte(enricher):
    text = "The NATO chief said allies should keep sending air defence systems to Ukraine through the winter."
    assert stance_of(enricher, text, "rutte", "ukraine-aid") == "support"


def test_title_the_russian_president_is_putin(enricher):
    text = "The Russian president said the occupied regions would remain part of Russia under any deal."
    assert stance_of(enricher, text, "putin", "ukraine-territory") == "oppose"


def test_title_the_ukrainian_leader_is_zelenskyy(enricher):
    text = "The Ukrainian leader called for an immediate ceasefire along the current front line."
    assert stance_of(enricher, text, "zelenskyy", "ceasefire-now") == "support"


def test_title_the_us_president_is_trump(enricher):
    text = "The U.S. president said he was ready to meet Vladimir Putin in Budapest within weeks."
    assert stance_of(enricher, text, "trump", "putin-summit") == "support"


def test_pronoun_after_figure_as_subject_resolves_to_that_figure(enricher):
    text = (
        "Vladimir Putin spoke to his security council on Monday about the economy. "
        "He said a summit with Donald Trump would be premature at this stage."
    )
    assert stance_of(enricher, text, "putin", "putin-summit") == "oppose"


def test_pronoun_after_another_persons_quote_is_not_guessed(enricher):
    text = (
        "Vladimir Putin chaired a meeting of ministers on Monday. "
        "Spokesperson Anna Petrova said the discussion had been useful. "
        "She said a summit with Donald Trump was premature."
    )
    assert ("putin", "putin-summit") not in stances(enricher, text)


def test_mentions_are_counted_per_figure(enricher):
    text = "Trump spoke first. Donald Trump then left. Zelenskyy stayed behind to talk about the weather."
    result = enrich(enricher, text)
    assert {m.actor: m.count for m in result.mentions} == {"trump": 2, "zelenskyy": 1}


def test_lower_case_trump_the_verb_is_not_a_mention(enricher):
    result = enrich(enricher, "Good design will trump clever tricks every time, the architect said.")
    assert result.mentions == []


# -- negation and hedging -----------------------------------------------------------------------


def test_does_not_support_is_oppose(enricher):
    text = "Donald Trump said he does not support sending long-range missiles to Kyiv."
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


def test_never_with_an_oppose_phrase_is_support(enricher):
    text = "Volodymyr Zelenskyy said Ukraine would never cede its land to the invader."
    assert stance_of(enricher, text, "zelenskyy", "ukraine-territory") == "support"


def test_must_never_join_is_oppose(enricher):
    text = "Vladimir Putin said Ukraine must never join NATO."
    assert stance_of(enricher, text, "putin", "ukraine-nato") == "oppose"


def test_rather_they_not_need_them_is_oppose(enricher):
    text = 'Donald Trump said, "I would much rather have them not need Tomahawks at all."'
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


def test_considering_counts_as_support(enricher):
    text = "Donald Trump said on Friday that he is considering sending Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks") == "support"


def test_not_decided_is_undecided(enricher):
    text = "Donald Trump said he had not decided whether to send Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks") == "undecided"


def test_declining_to_answer_is_no_stance(enricher):
    text = "Asked whether Ukraine should join NATO, Mark Rutte declined to give a view."
    assert ("rutte", "ukraine-nato") not in stances(enricher, text)


def test_calling_a_meeting_off_is_oppose(enricher):
    text = "Donald Trump called off the planned summit with Vladimir Putin, saying it would be a waste of time."
    assert stance_of(enricher, text, "trump", "putin-summit") == "oppose"


def test_lifting_sanctions_is_oppose(enricher):
    text = "Donald Trump said he would lift sanctions on Russian fertilizer exports as a goodwill gesture."
    assert stance_of(enricher, text, "trump", "russia-sanctions") == "oppose"


def test_halting_weapons_deliveries_is_oppose(enricher):
    text = "Donald Trump said he would halt weapons deliveries to Ukraine until a peace deal is signed."
    assert stance_of(enricher, text, "trump", "ukraine-aid") == "oppose"


# -- past versus current ------------------------------------------------------------------------


def test_reported_past_stance_is_recorded_apart_from_the_current_one(enricher):
    text = (
        "Volodymyr Zelenskyy once vowed to win back every occupied region. "
        "Now he says Ukraine may have to accept a freeze at the current battle line."
    )
    obs = stances(enricher, text)[("zelenskyy", "ukraine-territory")]
    assert obs.stance == "oppose"
    assert obs.past is not None and obs.past.stance == "support"
    assert "once vowed" in obs.past.evidence[0].text


def test_only_a_past_stance_yields_no_observation(enricher):
    text = "Last year Vladimir Putin had proposed a summit with Donald Trump in Vienna."
    assert ("putin", "putin-summit") not in stances(enricher, text)


def test_relative_clause_with_an_earlier_stance_is_past(enricher):
    text = (
        "Vladimir Putin, who had ruled out any truce before a final settlement at the start of the year, "
        "said an immediate pause along the front was now the right step."
    )
    obs = stances(enricher, text)[("putin", "ceasefire-now")]
    assert obs.stance == "support"
    assert obs.past is not None and obs.past.stance == "oppose"


# -- contract of the output ---------------------------------------------------------------------


def test_evidence_offsets_index_the_article_text(enricher):
    text = (
        "BRUSSELS (Wire) — Allies met on Tuesday.\n\n"
        "Mark Rutte said the alliance must keep supplying Ukraine with weapons."
    )
    result = enrich(enricher, text)
    (obs,) = result.observations
    for ev in obs.evidence:
        assert text[ev.start : ev.end] == ev.text
    assert 0.5 <= obs.confidence <= 1.0


def test_at_most_one_observation_per_figure_and_topic(enricher):
    text = (
        "Vladimir Putin said a meeting with Donald Trump would be premature. "
        "He added that he saw no point in a summit now. He said he would not travel to Vienna for one."
    )
    result = enrich(enricher, text)
    keys = [(o.actor, o.topic) for o in result.observations]
    assert len(keys) == len(set(keys))
    assert ("putin", "putin-summit") in keys


def test_topics_are_listed_even_without_a_tracked_figure(enricher):
    result = enrich(enricher, "Germany's finance minister announced new sanctions on Russian oil exports.")
    assert result.topics == ["russia-sanctions"]
    assert result.observations == []


def test_same_article_gives_the_same_output(enricher):
    text = "Donald Trump said he would meet Vladimir Putin soon. He said new sanctions on Russia were possible."
    first = enrich(enricher, text).model_dump()
    second = enrich(enricher, text).model_dump()
    assert first == second


# -- several figures or readings checked on one text -----------------------------------------------


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


def test_a_wartime_epithet_names_the_ukrainian_president(enricher):
    text = (
        "Volodymyr Zelenskyy spoke in Kyiv. The wartime president told lawmakers that Ukraine must be able to "
        "join NATO."
    )
    obs = stances(enricher, text)
    assert obs[("zelenskyy", "ukraine-nato")].stance == "support"
    assert ("trump", "ukraine-nato") not in obs


def test_a_third_person_inside_a_quote_is_the_speakers_account(enricher):
    text = (
        "Volodymyr Zelenskyy left the White House on Friday. "
        '"He keeps asking for Tomahawks, he asks for everything," Donald Trump said later.'
    )
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") is None
    assert stance_of(enricher, text, "trump", "tomahawks") is None


def test_an_institution_reporting_a_cancelled_meeting_is_not_the_participants(enricher):
    text = 'The White House said a meeting between Donald Trump and Vladimir Putin was "not being planned".'
    obs = stances(enricher, text)
    assert ("trump", "putin-summit") not in obs and ("putin", "putin-summit") not in obs


def test_a_message_about_membership_is_not_a_stance_on_it(enricher):
    text = "Donald Trump and Mark Rutte offered different messages on Ukraine's NATO membership on Monday."
    obs = stances(enricher, text)
    assert ("trump", "ukraine-nato") not in obs and ("rutte", "ukraine-nato") not in obs


def test_a_proposal_that_means_nothing_without_a_law_keeps_its_own_sense(enricher):
    text = "Vladimir Putin said a promise from Kyiv to drop its NATO bid would mean nothing unless written into law."
    obs = observation(enricher, text, "putin", "ukraine-nato")
    assert obs is None or obs.stance == "oppose"
