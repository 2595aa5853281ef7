"""A generated news stream with a known set of shifts, for the fault suite.

Each (figure, topic) pair gets four articles from two outlets: the first stance stated, repeated
by the second outlet, then the opposite stance stated, and repeated. So each pair yields exactly
one alert (first stance -> second), confirmed by an independent source, whatever the alert
policy's confidence threshold. Sentences are plain and direct: the fault suite tests delivery
under outages, not judgement.
"""

from __future__ import annotations

import itertools

from services.demo.timeline import StoryItem

FIGURES = {
    "trump": "President Donald Trump",
    "putin": "Russian President Vladimir Putin",
    "zelenskyy": "Ukrainian President Volodymyr Zelenskyy",
    "rutte": "NATO Secretary-General Mark Rutte",
}
#: topic -> (a sentence ending that states support, one that states opposition)
POSITIONS = {
    "tomahawks": (
        "supports sending Tomahawk missiles to Ukraine",
        "opposes sending Tomahawk missiles to Ukraine",
    ),
    "ukraine-aid": (
        "supports more military aid to Ukraine",
        "opposes any further military aid to Ukraine",
    ),
    "russia-sanctions": (
        "supports tougher sanctions on Russia",
        "opposes new sanctions on Russia",
    ),
    "ukraine-nato": (
        "supports Ukraine joining NATO",
        "opposes Ukraine joining NATO",
    ),
}
OUTLETS = ("Harbour Wire", "Upland Courier")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def shift_story(pairs: int, spacing_s: float) -> tuple[list[StoryItem], set[tuple[str, str, str, str]]]:
    """``pairs`` (figure, topic) pairs, four items each, one every ``spacing_s`` seconds; and the shifts."""
    combos = list(itertools.product(FIGURES, POSITIONS))[:pairs]
    if len(combos) < pairs:
        raise ValueError(f"at most {len(combos)} pairs")
    items: list[StoryItem] = []
    shifts: set[tuple[str, str, str, str]] = set()
    # Pairs interleave (round r of every pair before round r+1), so shifts happen all through the stream.
    for step in range(4):
        for n, (actor, topic) in enumerate(combos):
            first = "support" if n % 2 == 0 else "oppose"
            stance = first if step < 2 else ("oppose" if first == "support" else "support")
            phrase = POSITIONS[topic][0 if stance == "support" else 1]
            outlet = OUTLETS[step % 2]
            day = DAYS[(step + n) % len(DAYS)]
            slug = f"{actor}-{topic}-{step}"
            title = f"{FIGURES[actor].split()[-1]} speaks to reporters, part {step + 1}"  # no stance in the title
            items.append(
                StoryItem(
                    slug,
                    outlet,
                    title,
                    (
                        f"{FIGURES[actor]} said on {day} that he {phrase}.",
                        "Officials from several governments declined to comment on the remarks.",
                    ),
                    at_s=len(items) * spacing_s,
                )
            )
            shifts.add((actor, topic, first, stance))
    return items, {s for s in shifts if s[2] != s[3]}
