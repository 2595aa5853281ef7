"""Round-5 constructions behind false alerts on independently written reporting, on text written for these tests.

Families: dated recaps, transcripts with untracked speakers, whose meeting a meeting is, schedules and
forecasts, a ceasefire made to wait for a settlement, the target of sanctions, who "he" is after an
untracked person, epithets. Each test names a general behaviour, not an article of any set.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.enricher.conftest import stance_of, stances

MAY = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


# -- dated recaps -------------------------------------------------------------------------------


def test_a_statement_dated_with_an_abbreviated_earlier_month_is_a_recap(enricher):
    text = "On Feb. 9, speaking to reporters in Florida, Donald Trump said he could send Tomahawk missiles to Kyiv."
    assert stance_of(enricher, text, "trump", "tomahawks", published=MAY) is None


def test_a_capitalised_in_early_month_opener_is_a_recap(enricher):
    text = "In early March, Donald Trump said he was ready to send Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks", published=MAY) is None


def test_a_date_weeks_earlier_in_the_same_month_is_a_recap(enricher):
    text = "On May 2, Donald Trump said he was ready to send Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks", published=MAY) is None


def test_a_statement_made_yesterday_is_still_news(enricher):
    text = "On May 19, Donald Trump said he was ready to send Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "trump", "tomahawks", published=MAY) == "support"


def test_a_second_that_clause_shares_the_date_of_the_speech(enricher):
    text = (
        'Vladimir Putin had said in January that a summit was "premature", and that he did not want to meet '
        "Donald Trump for the sake of a photograph."
    )
    assert stance_of(enricher, text, "putin", "putin-summit", published=MAY) is None


def test_the_starting_point_of_a_change_of_position_is_the_past(enricher):
    text = "Within a month Donald Trump has gone from planning a summit with Vladimir Putin to mocking the idea."
    assert stance_of(enricher, text, "trump", "putin-summit", published=MAY) is None


# -- transcripts with untracked speakers --------------------------------------------------------


def test_a_hosts_summary_of_a_figure_in_a_transcript_is_not_the_figures_stance(enricher):
    text = (
        "JANE ORTIZ, HOST: Good evening. Our guest tonight is the NATO secretary-general.\n\n"
        "ORTIZ: People say Zelenskyy still wants Tomahawk missiles from Washington.\n\n"
        "RUTTE: That is for the Americans to settle, not for me."
    )
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") is None


def test_a_capitalised_speaker_label_makes_the_answer_the_figures(enricher):
    text = (
        "SAM PRICE, PRESENTER: Welcome. With me is the NATO chief.\n\n"
        "PRICE: Should the help for Ukraine keep coming?\n\n"
        "MARK RUTTE, NATO SECRETARY-GENERAL: Absolutely. Military aid to Ukraine has to continue and it has to grow."
    )
    assert stance_of(enricher, text, "rutte", "ukraine-aid") == "support"


def test_a_single_capitalised_opener_is_not_a_transcript(enricher):
    text = "BRUSSELS: Mark Rutte said on Tuesday that military aid to Ukraine must continue."
    assert stance_of(enricher, text, "rutte", "ukraine-aid") == "support"


# -- whose meeting ------------------------------------------------------------------------------


def test_a_meeting_with_a_third_figure_is_not_the_trump_putin_summit(enricher):
    text = "Donald Trump said he wants to meet Volodymyr Zelenskyy in Washington next week, and Putin was not invited."
    assert stance_of(enricher, text, "trump", "putin-summit") is None


def test_a_figure_ready_to_meet_one_summit_party_himself_is_not_backing_the_summit(enricher):
    text = "Volodymyr Zelenskyy said he was willing to meet Vladimir Putin face to face at any time."
    assert stance_of(enricher, text, "zelenskyy", "putin-summit") is None


def test_urging_one_party_not_to_meet_the_other_is_a_stance_on_the_summit(enricher):
    text = "Volodymyr Zelenskyy urged Donald Trump not to meet Vladimir Putin while Russian missiles hit Kyiv."
    assert stance_of(enricher, text, "zelenskyy", "putin-summit") == "oppose"


def test_welcoming_a_meeting_between_both_parties_is_a_stance_on_the_summit(enricher):
    text = "Mark Rutte said he would welcome a meeting between Donald Trump and Vladimir Putin this summer."
    assert stance_of(enricher, text, "rutte", "putin-summit") == "support"


# -- schedules and forecasts --------------------------------------------------------------------


def test_being_expected_to_meet_is_a_forecast_not_a_stance(enricher):
    text = "Donald Trump is expected to meet Vladimir Putin in Hungary later this month, officials said."
    assert stance_of(enricher, text, "trump", "putin-summit") is None


def test_being_due_to_sit_down_is_a_schedule_not_a_stance(enricher):
    text = "Vladimir Putin and Donald Trump are due to meet in Budapest in June, although no date is fixed."
    assert stance_of(enricher, text, "putin", "putin-summit") is None


def test_expecting_to_meet_in_the_active_voice_is_still_a_stance(enricher):
    text = "Donald Trump said he expects to meet Vladimir Putin very soon and is looking forward to it."
    assert stance_of(enricher, text, "trump", "putin-summit") == "support"


def test_a_summit_that_is_only_the_venue_of_a_remark_is_not_a_stance(enricher):
    text = (
        '"We are ready to stop shooting along the present line," Vladimir Putin told reporters at the close of '
        "a summit of Central Asian leaders."
    )
    assert stance_of(enricher, text, "putin", "putin-summit") is None


# -- a ceasefire made to wait -------------------------------------------------------------------


def test_fighting_that_stops_only_after_a_withdrawal_is_no_ceasefire_now(enricher):
    text = (
        "Vladimir Putin said the fighting in Ukraine would stop only after Kyiv's troops had left the regions "
        "Russia claims."
    )
    assert stance_of(enricher, text, "putin", "ceasefire-now") == "oppose"


def test_settlement_first_then_silence_is_no_ceasefire_now(enricher):
    text = 'Vladimir Putin told the forum on Ukraine: "First a full agreement, then we stop firing."'
    assert stance_of(enricher, text, "putin", "ceasefire-now") == "oppose"


def test_an_unconditional_halt_on_the_line_stays_support(enricher):
    text = "Volodymyr Zelenskyy said the fighting in Ukraine should stop right now along the current line."
    assert stance_of(enricher, text, "zelenskyy", "ceasefire-now") == "support"


# -- the target of sanctions --------------------------------------------------------------------


def test_demanding_action_against_the_shadow_fleet_backs_sanctions(enricher):
    text = "Volodymyr Zelenskyy demanded firm action against Russia's shadow fleet of oil tankers."
    assert stance_of(enricher, text, "zelenskyy", "russia-sanctions") == "support"


def test_targeting_the_shadow_fleet_backs_sanctions(enricher):
    text = "Volodymyr Zelenskyy asked Europe to target the shadow fleet carrying Russian oil."
    assert stance_of(enricher, text, "zelenskyy", "russia-sanctions") == "support"


def test_a_request_that_has_not_gone_anywhere_still_stands(enricher):
    text = "Volodymyr Zelenskyy said his request for Tomahawk missiles has not gone away."
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") == "support"


# -- who "he" is --------------------------------------------------------------------------------


def test_he_after_an_untracked_envoy_with_a_long_description_is_the_envoy(enricher):
    text = (
        "Oleg Marin, who runs a state fund and often deals with the Trump administration, arrived in Miami. "
        'He said Vladimir Putin remained "open to a meeting" with Donald Trump.'
    )
    assert stance_of(enricher, text, "trump", "putin-summit") is None


def test_an_untracked_officials_clause_after_a_figures_speech_is_theirs(enricher):
    text = (
        "Vladimir Putin has said that a pause along the front would only help Kyiv regroup, and Russian "
        "officials insist that talks must end before the fighting stops."
    )
    assert stance_of(enricher, text, "putin", "ceasefire-now") != "support"


def test_a_wartime_epithet_names_the_ukrainian_president(enricher):
    text = (
        "Volodymyr Zelenskyy spoke in Kyiv. The wartime president told lawmakers that Ukraine must be able to "
        "join NATO."
    )
    obs = stances(enricher, text)
    assert obs[("zelenskyy", "ukraine-nato")].stance == "support"
    assert ("trump", "ukraine-nato") not in obs


def test_every_starting_point_in_a_list_of_changes_is_the_past(enricher):
    text = (
        "Over the spring Donald Trump has gone from praising a summit with Vladimir Putin to mocking it, and "
        "from holding off on sanctions on Russia to imposing a few."
    )
    assert stance_of(enricher, text, "trump", "russia-sanctions", published=MAY) != "oppose"
