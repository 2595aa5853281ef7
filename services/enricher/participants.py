"""Stage 2b, participants: a topic that is an event between given figures (the Trump–Putin summit) is not any
meeting, so a holder counts only when the meeting a cue names is between the topic's figures."""

from __future__ import annotations

from services.enricher.holders import is_person
from services.enricher.lexicons import words
from services.enricher.mentions import THIRD_PERSON

#: Verbs of a meeting whose object must be a person: "meet the target", "meet demands" is another sense.
_MEETING_VERBS = words("meeting-verbs")
_COUNTERPART_NOUNS = words("counterpart-nouns")


#: Edges from a meeting word to the people it is with: "meet Putin", "talks with Trump", "a Trump-Putin summit".
_PARTNER_DEPS = frozenset({"dobj", "pobj", "conj", "compound", "appos", "nmod", "poss", "amod"})
_PARTNER_PREPS = words("partner-preps")


def partners(root, fig_of_tok: dict[int, str]) -> set[str]:
    """Tracked figures named as the other side of the meeting a cue names."""
    out: set[str] = set()
    todo = list(root.children)
    while todo:
        tok = todo.pop()
        if tok.dep_ == "prep" and tok.lower_ not in _PARTNER_PREPS:
            continue
        if tok.dep_ != "prep" and tok.dep_ not in _PARTNER_DEPS:
            continue
        if tok.i in fig_of_tok:
            out.add(fig_of_tok[tok.i])
        todo.extend(tok.children)
    return out


def agent(root, fig_of_tok: dict[int, str]) -> str | None:
    """Who holds the meeting a cue names: a figure id, "" when it is the holder (no subject of its own, or "he"),
    None when it is someone else not tracked ("the president's effort to meet Putin")."""
    cur = root
    if cur.pos_ in ("NOUN", "PROPN"):
        owner = next((c for c in cur.children if c.dep_ == "poss"), None)
        if owner is not None:
            return _side(owner, fig_of_tok)
        if cur.dep_ == "pobj" and cur.head.dep_ == "prep":
            cur = cur.head.head  # "travelling for talks with Trump"
        elif cur.dep_ in ("dobj", "attr"):
            cur = cur.head  # "hold a summit with Putin"
    for _ in range(4):
        subj = next((c for c in cur.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is not None:
            return _side(subj, fig_of_tok)
        if cur.dep_ not in ("xcomp", "acl", "advcl", "acomp") or cur.head.i == cur.i:
            return ""
        head = cur.head
        controller = next((c for c in head.children if c.dep_ in ("dobj", "poss")), None)
        if cur.dep_ in ("xcomp", "acl") and controller is not None:
            return _side(controller, fig_of_tok)  # "urged Trump not to meet Putin", "his effort to meet"
        cur = head
    return ""


def met_thing(root, fig_of_tok: dict[int, str]) -> bool:
    """ "meet the 5% target", "meet their demands": the meeting verb with a thing, not a person, as its object."""
    if root.lemma_.lower() not in _MEETING_VERBS:
        return False
    obj = next((c for c in root.children if c.dep_ == "dobj"), None)
    if obj is None or obj.i in fig_of_tok or obj.pos_ in ("PROPN", "PRON"):
        return False
    return not (is_person(obj) or obj.lemma_.lower() in _COUNTERPART_NOUNS)


def _side(tok, fig_of_tok: dict[int, str]) -> str | None:
    if tok.i in fig_of_tok:
        return fig_of_tok[tok.i]
    if tok.lower_ in THIRD_PERSON or tok.lower_ in ("i", "we", "my", "our"):
        return ""
    return None


def participant_holders(
    holders: list[tuple[str, float]], participants: frozenset[str], partners: set[str], agent: str | None
) -> list[tuple[str, float]]:
    """A topic that is an event between given figures (the Trump–Putin summit) is not any meeting.

    "Trump will meet Zelenskyy" or "Zelenskyy is ready to meet Putin" name another meeting; a meeting held by
    someone else ("urged Trump not to meet Putin", "the president's effort to meet Putin") can be the summit.
    """
    if not partners:
        return holders
    kept = []
    for figure, penalty in holders:
        sides = set(partners)
        if agent is not None and len(partners) < 2:  # "a meeting between Trump and Putin" names both sides
            sides.add(agent or figure)
        if not sides <= participants:
            continue
        kept.append((figure, penalty))
    return kept
