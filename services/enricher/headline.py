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


#: A word of a title-case headline: capitalised, not an acronym ("NATO", "US").
_TITLE_WORD = re.compile(r"\b[A-Z][a-z][\w'’-]*")


def is_title_case(clause: str) -> bool:
    """Most words capitalised ("Trump Pauses Weapons Shipments to Ukraine"): the parser reads each as a name."""
    words = re.findall(r"\b[A-Za-z][\w'’-]*", clause)
    if len(words) < 4:
        return False
    long_words = [w for w in words if len(w) > 3]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.8 * len(long_words)


def sentence_case(clause: str, body: str, keep: tuple[tuple[int, int], ...] = ()) -> str:
    """A title-case clause in sentence case, so common words parse as verbs and nouns again.

    Which capitals are names is read from the body: a word keeps its capital when the body writes it so in the
    middle of a sentence ("… aid to Ukraine"); spans in ``keep`` (figure names) and the first word keep theirs.
    """

    def lower(m: re.Match[str]) -> str:
        word = m.group(0)
        if m.start() == 0 or any(s <= m.start() < e for s, e in keep):
            return word
        if re.search(rf"[a-z,;]\s+{re.escape(word)}\b", body):
            return word
        return word.lower()

    return _TITLE_WORD.sub(lower, clause)


def full_name_subject(clause: str, start: int, end: int, name: str) -> str:
    """The figure's full name in place of a bare surname opening a clause.

    A verbless-looking headline "Trump rules out X" parses "Trump rules" as a noun phrase (trump is also a verb,
    rules also a noun); "Donald Trump rules out X" parses as subject and verb, as in body prose.
    """
    if start != 0 or clause[start:end] == name:
        return clause
    return name + clause[end:]
