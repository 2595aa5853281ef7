"""Round-8 constructions behind missed reversals on independently written reporting, on text written for these tests.

Families: winning back land named by a pronoun ("win it all back"), the alternative set aside ("rather than a
truce", "instead of a ceasefire"), a measure that "helps nobody" or "achieves nothing", a change of position named
by a noun ("a departure from …"), a speaker quoting their own earlier belief ("I thought they could …"), and a repeated
statement in the simple past ("kept saying"). Each test names a general behaviour, not an article of any set.
"""

from __future__ import annotations

from tests.enricher.conftest import observation

# -- winning back land named by a pronoun -------------------------------------------------------------------


def test_winning_it_all_back_is_support_for_recovering_territory_when_land_is_the_subject(enricher):
    text = "The talks were about Ukraine's occupied territory. Mark Rutte said Ukraine can win it all back."
    obs = observation(enricher, text, "rutte", "ukraine-territory")
    assert obs is not None and obs.stance == "support"


def test_taking_back_what_was_taken_is_support_for_recovering_territory(enricher):
    text = "Asked about the occupied regions, Donald Trump said Kyiv could take back what was seized."
    obs = observation(enricher, text, "trump", "ukraine-territory")
    assert obs is not None and obs.stance == "support"


def test_winning_it_back_without_any_land_in_view_is_not_a_territory_stance(enricher):
    text = "Donald Trump lost the vote in the county last time. He said he would win it back next year."
    assert observation(enricher, text, "trump", "ukraine-territory") is None


# -- the alternative set aside ----------------------------------------------------------------------------


def test_a_truce_named_as_the_alternative_passed_over_with_rather_than_is_opposed(enricher):
    text = "Donald Trump said the fighting in Ukraine must end with a lasting settlement rather than a truce."
    obs = observation(enricher, text, "trump", "ceasefire-now")
    assert obs is not None and obs.stance == "oppose"


def test_a_ceasefire_passed_over_with_instead_of_is_opposed(enricher):
    text = "Vladimir Putin said he wants a complete agreement with Kyiv instead of a ceasefire in Ukraine."
    obs = observation(enricher, text, "putin", "ceasefire-now")
    assert obs is not None and obs.stance == "oppose"


def test_a_ceasefire_preferred_over_something_else_stays_supported(enricher):
    text = "Volodymyr Zelenskyy said he wants a ceasefire rather than another winter of fighting in Ukraine."
    obs = observation(enricher, text, "zelenskyy", "ceasefire-now")
    assert obs is not None and obs.stance == "support"


# -- a measure that helps nobody ------------------------------------------------------------------------------


def test_sanctions_said_to_achieve_nothing_are_opposed(enricher):
    text = "Donald Trump said that more sanctions on Russia would achieve nothing."
    obs = observation(enricher, text, "trump", "russia-sanctions")
    assert obs is not None and obs.stance == "oppose"


def test_a_ceasefire_said_to_help_nobody_is_opposed(enricher):
    text = "Vladimir Putin said a ceasefire in Ukraine helps nobody."
    obs = observation(enricher, text, "putin", "ceasefire-now")
    assert obs is not None and obs.stance == "oppose"


def test_a_proposal_that_means_nothing_without_a_law_keeps_its_own_sense(enricher):
    text = "Vladimir Putin said a promise from Kyiv to drop its NATO bid would mean nothing unless written into law."
    obs = observation(enricher, text, "putin", "ukraine-nato")
    assert obs is None or obs.stance == "oppose"


# -- earlier positions named by a change or by the speaker -----------------------------------------------------


def test_the_position_a_departure_is_from_is_the_past_one(enricher):
    text = (
        "Donald Trump said on Tuesday that Ukraine could win back all of its territory, a sharp departure from "
        "his talk of land swaps."
    )
    obs = observation(enricher, text, "trump", "ukraine-territory")
    assert obs is not None and obs.stance == "support"
    assert obs.confidence >= 0.6  # the abandoned position does not weigh against the new one


def test_a_speakers_own_earlier_belief_in_a_quote_is_the_past(enricher):
    text = (
        'Donald Trump spoke on Thursday. "I thought Ukraine could win back its territory. '
        'That is not where we are now. Now it is about freezing the war where it stands," he said.'
    )
    obs = observation(enricher, text, "trump", "ukraine-territory")
    assert obs is not None and obs.stance == "oppose"


def test_a_repeated_statement_in_the_simple_past_is_a_past_stance(enricher):
    text = "Hold the fire in Ukraine first, Donald Trump kept saying, then negotiate. That message has changed."
    assert observation(enricher, text, "trump", "ceasefire-now") is None


def test_a_statement_still_repeated_stays_current(enricher):
    text = "Donald Trump keeps saying that Russia should face new sanctions."
    obs = observation(enricher, text, "trump", "russia-sanctions")
    assert obs is not None and obs.stance == "support"


def test_i_said_restating_a_position_keeps_it_current(enricher):
    text = (
        'Donald Trump spoke on Thursday. "Talks can come later. But I said freeze the war at the front line," he said.'
    )
    obs = observation(enricher, text, "trump", "ukraine-territory")
    assert obs is not None and obs.stance == "oppose"
