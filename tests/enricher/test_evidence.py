"""Evidence and confidence: which sentence an observation cites, and how sure it is."""

from __future__ import annotations

from tests.enricher.conftest import observation, stances


def test_a_pronoun_far_from_any_object_cue_is_not_a_topic(enricher):
    text = (
        "Volodymyr Zelenskyy asked allies for more air defence for Ukraine.\n\n"
        "Weeks later the weather turned cold across the region. Farmers worried about their harvest. "
        "Zelenskyy thanked them for their patience and said he would send them greetings."
    )
    obs = stances(enricher, text)
    assert all(o.evidence[0].text.startswith("Volodymyr") for o in obs.values())


def test_the_position_a_departure_is_from_is_the_past_one(enricher):
    text = (
        "Donald Trump said on Tuesday that Ukraine could win back all of its territory, a sharp departure from "
        "his talk of land swaps."
    )
    obs = observation(enricher, text, "trump", "ukraine-territory")
    assert obs is not None and obs.stance == "support"
    assert obs.confidence >= 0.6  # the abandoned position does not weigh against the new one
