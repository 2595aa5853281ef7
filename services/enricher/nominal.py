"""Stance nouns with a possessor: "Trump's reluctance to send Tomahawks", "Putin's insistence on a full deal".

The possessor holds the stance even when the sentence's subject is someone else ("Kyiv criticised Trump's
reluctance …"). The noun's polarity combines with what it governs: refusal to send = oppose sending; a
negation or an opposing verb on the way to the cue flips it again.
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.tokens import Token

from services.enricher.lexicons import signs, words
from services.enricher.stance import OPPOSE_WORDS

#: Stance nouns and their own polarity (services/enricher/lexicons/polarity.yaml).
NOUN_POLARITY = signs("support-nouns", "oppose-nouns")
#: Edges a complement of the noun may follow down to the cue ("reluctance to send them", "call for a halt").
_DOWN = frozenset({"prep", "pobj", "acl", "xcomp", "dobj", "pcomp", "compound", "amod", "nmod", "conj", "cc"})
_PRONOUNS = words("possessive-pronouns")
_NEGATIONS = words("noun-negations")
#: Prepositions that order or exclude rather than name the wish ("a deal before any ceasefire"): abstain.
_ORDERING = words("ordering-preps")


def possessor_stance(
    cue_root: Token,
    cue_sign: int,
    fig_of_tok: dict[int, str],
    resolve: Callable[[Token], str | None] | None = None,
) -> tuple[str, str] | None:
    """(figure, stance) for a cue inside the complement of a tracked figure's stance noun, or None.

    Only the nearest stance noun above the cue counts, and only when every edge between them is a complement
    edge (so a noun in another clause of the sentence never captures the cue). A pronoun possessor ("his call
    for …") is handed to ``resolve``, which names the figure it refers to, if any.
    """
    sign = cue_sign or 1
    cur = cue_root
    for _ in range(6):
        if cur.i != cue_root.i and cur.pos_ == "NOUN" and cur.lemma_.lower() in NOUN_POLARITY:
            owner = next((c for c in cur.children if c.dep_ == "poss"), None)
            if owner is None:
                return None
            holder = fig_of_tok.get(owner.i)
            if holder is None and resolve is not None and owner.lower_ in _PRONOUNS:
                holder = resolve(owner)
            if holder is None:
                return None
            if _dated(cur):
                return None  # "Trump's appeal last week …": background, left to the sentence rules
            sign *= NOUN_POLARITY[cur.lemma_.lower()]
            return holder, "support" if sign > 0 else "oppose"
        if cur.dep_ == "prep" and cur.lower_ in _ORDERING:
            return None
        if cur.i != cue_root.i:
            if cur.lemma_.lower() in OPPOSE_WORDS:
                sign = -sign
            if any(c.dep_ == "neg" or c.lower_ in _NEGATIONS for c in cur.children if c.dep_ in ("neg", "det")):
                sign = -sign
        if cur.dep_ not in _DOWN or cur.head.i == cur.i:
            return None
        cur = cur.head
    return None


_PAST_MARKS = words("noun-past-marks")


def _dated(noun: Token) -> bool:
    """The stance noun is placed in the past ("his appeal last week", "his earlier call")."""
    for child in noun.children:
        if child.dep_ in ("npadvmod", "advmod", "amod") and any(t.lower_ in _PAST_MARKS for t in child.subtree):
            return True
    return False
