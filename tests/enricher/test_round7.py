"""Round-7 constructions behind missed reversals on independently written reporting, on text written for these tests.

Families: a statement dated by the occasion it was made at ("Speaking in Vilnius in January, …"), "at the time",
"without" the topic as the hoped-for outcome, and sanctions announced with action words ("unveiled heavy
sanctions"). Each test names a general behaviour, not an article of any set.
"""

from __future__ import annotations

from tests.enricher.conftest import observation

# -- the occasion dates the statement -----------------------------------------------------------------


def test_a_statement_made_at_an_earlier_dated_occasion_is_recorded_as_the_past_stance(enricher):
    text = (
        "Mark Rutte said on Monday that Kyiv must accept it cannot take back all of its occupied land. "
        "Addressing a conference in Vilnius in January, Rutte said Ukraine should win back all of its territory."
    )
    obs = observation(enricher, text, "rutte", "ukraine-territory")
    assert obs is not None and obs.stance == "oppose"
    assert obs.past is not None and obs.past.stance == "support"


def test_a_statement_made_at_an_occasion_this_week_stays_current(enricher):
    text = "Speaking in Vilnius on Monday, Mark Rutte said Ukraine should win back all of its territory."
    obs = observation(enricher, text, "rutte", "ukraine-territory")
    assert obs is not None and obs.stance == "support" and obs.past is None


def test_what_a_figure_said_at_the_time_is_the_past_stance(enricher):
    text = (
        "Donald Trump said on Monday he would not send Tomahawk missiles to Ukraine. "
        "At the time, he said he wanted to send Tomahawk missiles to Kyiv."
    )
    obs = observation(enricher, text, "trump", "tomahawks")
    assert obs is not None and obs.stance == "oppose"
    assert obs.past is not None and obs.past.stance == "support"


# -- "without" the topic ------------------------------------------------------------------------------


def test_hoping_to_finish_the_war_without_the_missiles_opposes_sending_them(enricher):
    text = 'Donald Trump told reporters: "I hope we get this war done without ever thinking about Tomahawks."'
    obs = observation(enricher, text, "trump", "tomahawks")
    assert obs is not None and obs.stance == "oppose"


def test_a_war_that_should_end_without_the_missiles_being_needed_opposes_sending_them(enricher):
    text = "Donald Trump said the war should end without Tomahawks being needed."
    obs = observation(enricher, text, "trump", "tomahawks")
    assert obs is not None and obs.stance == "oppose"


# -- sanctions announced with action words -------------------------------------------------------------


def test_unveiling_heavy_sanctions_on_russian_oil_firms_supports_sanctions(enricher):
    text = "Donald Trump on Tuesday unveiled the heaviest sanctions yet on two Russian oil producers."
    obs = observation(enricher, text, "trump", "russia-sanctions")
    assert obs is not None and obs.stance == "support"


def test_announcing_the_lifting_of_sanctions_on_russia_is_still_opposed(enricher):
    text = "Donald Trump announced that sanctions on Russian oil would be lifted next month."
    obs = observation(enricher, text, "trump", "russia-sanctions")
    assert obs is not None and obs.stance == "oppose"
