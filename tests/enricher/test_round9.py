"""Round-9 constructions on text written for these tests.

Families: a measure argued against by the harm it would do ("would wreck ties", "would cause damage to relations",
"would mark a new stage of escalation"), including when the measure sits inside a longer subject ("a decision to
hand over the missiles would …"); a phrasal "warn … against" counted once; weapons kept at home ("we need them
ourselves") as opposition to sending them, for the sender only.
"""

from __future__ import annotations

from tests.enricher.conftest import stance_of

# -- harm to relations or escalation as the named consequence ------------------------------------------------


def test_missiles_said_to_wreck_relations_are_opposed(enricher):
    text = "Vladimir Putin said that giving Kyiv Tomahawk missiles would ruin relations between Moscow and Washington."
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


def test_a_decision_to_send_missiles_that_would_harm_the_thaw_is_opposed_even_if_it_also_pushes_something(enricher):
    text = (
        "Vladimir Putin said an American decision to hand Tomahawk missiles to Ukraine would push the war to a more "
        "dangerous level and would seriously harm the new thaw with Washington."
    )
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


def test_a_delivery_said_to_mark_a_new_stage_of_escalation_is_opposed(enricher):
    text = "Vladimir Putin warned that any delivery of Tomahawk missiles to Kyiv would mark a new stage of escalation."
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


def test_sanctions_that_would_hurt_russias_economy_are_not_read_as_harm_to_relations(enricher):
    text = "Donald Trump said new sanctions on Russian oil would damage the Russian economy badly."
    assert stance_of(enricher, text, "trump", "russia-sanctions") != "oppose"


def test_missiles_that_would_not_change_the_battlefield_but_damage_ties_are_opposed(enricher):
    text = (
        "Vladimir Putin said the supply of Tomahawks to Ukraine would not change anything at the front, but it "
        "would do lasting damage to relations with America."
    )
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


# -- warn against, counted once ------------------------------------------------------------------------------


def test_warning_a_country_against_supplying_missiles_is_opposition(enricher):
    text = "Vladimir Putin warned Washington on Monday against supplying Tomahawk missiles to Ukraine."
    assert stance_of(enricher, text, "putin", "tomahawks") == "oppose"


# -- weapons kept at home ------------------------------------------------------------------------------------


def test_needing_the_missiles_for_itself_is_opposition_to_sending_them(enricher):
    text = "Donald Trump said the United States needed its Tomahawk missiles for itself."
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


def test_needing_the_missiles_ourselves_in_a_quote_is_opposition_to_sending_them(enricher):
    text = 'Donald Trump spoke about the Tomahawk missiles on Sunday. "We need them ourselves," he told reporters.'
    assert stance_of(enricher, text, "trump", "tomahawks") == "oppose"


def test_needing_missiles_without_keeping_them_for_oneself_stays_support(enricher):
    text = "Volodymyr Zelenskyy said Ukraine needs Tomahawk missiles to stop the strikes on its cities."
    assert stance_of(enricher, text, "zelenskyy", "tomahawks") == "support"
