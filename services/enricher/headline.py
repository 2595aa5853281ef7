"""Headlines as stance statements: turn a title into clauses the sentence rules can read.

Headline grammar differs from body prose: a present tense reports a past event ("Trump rules out …" = he ruled
it out), "X to meet Y" is a plan, a label opens it ("LIVE:", "Analysis -"), clauses are glued with ";" or " - ",
and a question commits nobody. ``headline_clauses`` rewrites a title into plain sentences; ``explicit_verb`` says
whether a clause carries a stance verb, the only case where a headline alone is trusted enough to alert on.
"""

from __future__ import annotations

import re

#: Desk labels that open a headline and say nothing about the story ("LIVE:", "ANALYSIS-", "Morning Brief:").
_LABEL = re.compile(
    r"^\s*(?:live(?:\s+updates?)?|analysis|transcript(?:\s+excerpt)?|opinion|comment|morning\s+brief|explainer|"
    r"breaking|exclusive|factbox|update\s*\d*|watch|video|q\s*&\s*a|interview|editorial)\s*[:\-–—|]\s*",
    re.IGNORECASE,
)
#: Where one headline holds several stories: "; ", " - ", " — ", " | ".
_SPLIT = re.compile(r"\s*;\s+|\s+[-–—|]\s+")
#: A questions's clause ends with "?"; a clause that continues after it ("Stop first? Where …") is split there.
_QUESTION = re.compile(r"(?<=\?)\s+")
#: "Trump to meet Putin": a plan, read as "Trump will meet Putin". Only a short capitalised subject qualifies.
_PLAN = re.compile(r"^((?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’.-]*)\s+to\s+(?=[a-z])")
#: Stance verbs that make a headline explicit (third person present, the headline tense).
EXPLICIT_VERBS = re.compile(
    r"\b(?:rules?\s+out|calls?\s+off|calls?\s+for|renews?\s+(?:call|push|demand|plea)|presses?\s+for|pushes?\s+for|"
    r"urges?|backs?|endorses?|supports?|opposes?|rejects?|refuses?|dismisses?|welcomes?|hails?|approves?|"
    r"halts?|pauses?|resumes?|restores?|lifts?|suspends?|scraps?|shelves?|drops?|abandons?|cancels?|postpones?|"
    r"imposes?|slaps?|hits\s+.{1,60}\s+with|threatens?|warns?|vows?|pledges?|insists?|demands?|agrees?\s+to|"
    r"accepts?|offers?\s+to|will\s+(?:meet|send|hold)|(?:is|are)\s+ready|says?\s+no\b)",
    re.IGNORECASE,
)


def headline_clauses(title: str) -> list[str]:
    """The statement clauses of a headline, each ending with a full stop; questions are dropped."""
    text = " ".join((title or "").split())
    while True:
        stripped = _LABEL.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    out: list[str] = []
    for part in _SPLIT.split(text):
        for clause in _QUESTION.split(part):
            clause = clause.strip(" ,:")
            if len(clause) < 8 or clause.endswith("?"):
                continue
            clause = _PLAN.sub(r"\1 will ", clause, count=1)
            if clause[-1] not in ".!\"'”’":
                clause += "."
            out.append(clause)
    return out


def explicit_verb(clause: str, cue_start: int = -1) -> bool:
    """A stance verb in the clause, before the topic cue when its position is known: only then is a headline's
    claim worth an alert on its own ("… end summit without deal, pledge to meet" pledges the meeting, not the end).
    """
    limit = len(clause) if cue_start < 0 else cue_start
    return any(m.end() <= limit for m in EXPLICIT_VERBS.finditer(clause))
