"""Whose position is a clause? Walk the dependency tree from a topic cue up to its holder.

The holder is the subject of the clause that contains the cue, unless that clause is the
complement of a higher predicate ("Rutte *said* Trump is …", "Moscow *insists* Ukraine must …"):
then the higher subject owns the proposition. A relative clause ("Putin, who in January
insisted …") belongs to the noun it modifies; an independent conjoined clause stops the walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Token

from services.enricher.lexicons import words
from services.enricher.mentions import FIRST_PERSON, THIRD_PERSON

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass"})
#: Edges through which the higher predicate's subject takes ownership of the lower clause.
COMPLEMENT_DEPS = frozenset({"ccomp", "xcomp", "parataxis"})
# The vocabularies are data: services/enricher/lexicons/attribution.yaml.
STANCE_NOUNS = words("stance-nouns")
DUMMY_SUBJECTS = words("dummy-subjects")
CIRCUMSTANCE_MARKS = words("circumstance-marks")
SPEECH_VERBS = words("speech-verbs")
SCENE_PREPS = words("scene-preps")
AT_VERBS = words("at-verbs")
REPORT_VERBS = words("report-verbs")
WISH_VERBS = words("wish-verbs")
OTHER_PARTY = words("other-party")
BARGAIN_NOUNS = words("bargain-nouns")
#: They resolve to the nearest figure whose role or titles contain the word.
ROLE_NOUNS = words("role-nouns")
PEOPLE_NOUNS = words("people-nouns")


@dataclass(frozen=True)
class HolderRef:
    """Who holds the clause: a figure, a pronoun to resolve, a first-person quote, or someone else."""

    kind: str  # figure | pronoun | first-person | other
    figure: str | None = None
    token: int | None = None
    #: For a bare role title used like a pronoun ("the secretary-general"): the role word to match.
    role: str | None = None


@dataclass
class Climb:
    path: list[Token] = field(default_factory=list)
    holder: HolderRef | None = None
    #: The verb whose subject is the holder (its tense and adverbs say past or current).
    holder_verb: Token | None = None
    #: The cue is an agent-less passive subject ("a meeting between Trump and Putin was cancelled").
    passive_subject_of: Token | None = None
    interrogative: bool = False
    #: The cue sits in a scene-setting clause or is the price of a bargain: no stance on it.
    circumstantial: bool = False
    #: A third person whose wish the higher speaker reports ('"He asks for Tomahawks," Trump said').
    wisher: HolderRef | None = None
    #: The subject of a parenthetical speech verb ("Sanctions, he said, must stay"): the claimant.
    aside: Token | None = None


def figure_at(token: Token, figure_of_token: dict[int, str]) -> str | None:
    return figure_of_token.get(token.i)


def classify(subject: Token, figure_of_token: dict[int, str]) -> HolderRef | None:
    """What kind of holder a subject token is; None for dummies ("there", "it")."""
    fig = figure_at(subject, figure_of_token)
    if fig:
        return HolderRef("figure", fig, subject.i)
    low = subject.lower_
    if low in DUMMY_SUBJECTS and subject.pos_ in ("PRON", "DET", "ADV"):
        return None
    if low in THIRD_PERSON:
        return HolderRef("pronoun", None, subject.i)
    if low in FIRST_PERSON:
        return HolderRef("first-person", None, subject.i)
    role = bare_role(subject)
    if role is not None:
        return HolderRef("pronoun", None, subject.i, role)  # "the president" refers back like "he"
    if low in ("who", "that") and subject.head.dep_ == "relcl":
        head = subject.head.head
        if figure_at(head, figure_of_token) is None and head.lemma_.lower() in ROLE_NOUNS:
            return HolderRef("pronoun", None, head.i, head.lemma_.lower())  # "a president who last year promised …"
        return classify(head, figure_of_token) or HolderRef("other", None, head.i)
    if subject.lemma_.lower() in STANCE_NOUNS:
        for child in subject.children:
            if child.dep_ == "poss":
                fig = figure_at(child, figure_of_token)
                if fig:
                    return HolderRef("figure", fig, child.i)
                if child.lower_ in ("his", "her"):
                    return HolderRef("pronoun", None, child.i)
    # Appositions and compounds: "Ukrainian President Volodymyr Zelenskyy" heads on the name already.
    return HolderRef("other", None, subject.i)


def bare_role(token: Token) -> str | None:
    """ "the president", "the secretary-general": a role word with "the" and no modifier that would make it
    a title of its own ("the French president", "the UN secretary-general")."""
    kids = list(token.children)
    if not kids or kids[0].dep_ != "det" or kids[0].lower_ != "the":
        return None
    rest = [k for k in kids[1:] if k.dep_ != "punct"]
    low = token.lemma_.lower()
    if low == "general" and len(rest) == 1 and rest[0].lower_ == "secretary" and rest[0].dep_ == "compound":
        return "secretary-general"
    if not rest and low in ROLE_NOUNS:
        return low
    return None


def _is_people(token: Token) -> bool:
    return token.lemma_.lower() in PEOPLE_NOUNS or token.lower_ in PEOPLE_NOUNS


def _relative_subject(verb: Token) -> bool:
    """ "Putin, who insisted …" describes the noun; "an outcome in which we give up land" does not."""
    return any(c.dep_ in SUBJECT_DEPS and c.lower_ in ("who", "that", "which") for c in verb.children)


def _subject(token: Token, exclude: set[int]) -> Token | None:
    for child in token.children:
        if child.dep_ in SUBJECT_DEPS and child.i not in exclude:
            return child
    return None


def climb(doc: Doc, cue_root: Token, cue_tokens: set[int], figure_of_token: dict[int, str]) -> Climb:
    result = Climb()
    cur = cue_root
    came_by: str | None = None
    while True:
        result.path.append(cur)
        if any(c.dep_ == "mark" and c.lower_ in ("whether", "if") for c in cur.children):
            result.interrogative = True
        subj = _subject(cur, cue_tokens | {cur.i})
        if subj is not None:
            ref = classify(subj, figure_of_token)
            if ref is not None:
                owns = (
                    result.holder is None
                    or came_by in COMPLEMENT_DEPS
                    or (result.holder.kind == "other" and ref.kind != "other")
                )
                if (
                    owns
                    and came_by == "ccomp"
                    and cur.lemma_.lower() in REPORT_VERBS
                    and result.holder is not None
                    and result.holder.kind == "other"
                    and result.holder_verb is not None
                    and (
                        result.holder_verb.tag_ == "VBD"
                        or any(a.lower_ in ("had", "has", "have") for a in result.holder_verb.children)
                    )
                ):
                    result.circumstantial = True  # an announcement of what someone else did
                    break
                if owns:
                    prev, prev_verb = result.holder, result.holder_verb
                    if (
                        prev is not None
                        and (
                            prev.kind in ("figure", "pronoun")
                            or (prev.token is not None and doc[prev.token].lower_ in OTHER_PARTY)
                        )
                        and prev_verb is not None
                        and prev_verb.lemma_.lower() in WISH_VERBS
                    ):
                        result.wisher = prev
                    result.holder = ref
                    result.holder_verb = cur
        if cur.i == cue_root.i and cur.dep_ == "nsubjpass":
            verb = cur.head
            if not any(c.dep_ == "agent" for c in verb.children):
                result.passive_subject_of = verb
        settled = result.holder is not None and result.holder.kind != "other"
        if cur.dep_ == "relcl" and settled and result.holder_verb is cur and _relative_subject(cur):
            break  # "Putin, who in January insisted …": the clause belongs to the noun it modifies
        if cur.dep_ == "conj" and subj is not None and settled:
            break  # an independent clause with its own person subject
        if (
            cur.dep_ == "conj"
            and subj is not None
            and result.holder is not None
            and result.holder.kind == "other"
            and result.holder_verb is cur
            and _is_people(subj)
            and not any(c.dep_ == "mark" for c in cur.children)
        ):
            break  # "Putin said …, and Russian officials insist …": the officials' clause is not Putin's
        if cur.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in CIRCUMSTANCE_MARKS for c in cur.children):
            passive_verb = result.passive_subject_of is not None and result.passive_subject_of.i == cur.i
            if not passive_verb and (cur.i != cue_root.i or subj is not None):
                result.circumstantial = result.holder is None or result.holder.kind == "other"
                if result.circumstantial:
                    break
        if (
            cur.dep_ in ("prep", "advmod")
            and cur.lower_ in SCENE_PREPS
            and cur.i not in cue_tokens
            and cur.head.pos_ in ("VERB", "AUX")
            and not (cur.lower_ == "at" and cur.head.lemma_.lower() in AT_VERBS)
            and (result.holder is None or result.holder.kind == "other")
            and not any(t.dep_ == "ccomp" for t in result.path)  # a misattached "that" clause is speech
        ):
            result.circumstantial = True  # "Ahead of the meeting, Zelensky spent the morning with …"
            break
        aside = next(
            (
                c
                for c in cur.children
                if c.dep_ == "parataxis" and c.lemma_.lower() in SPEECH_VERBS and _subject(c, set()) is not None
            ),
            None,
        )
        if aside is not None and (result.holder is None or result.holder.kind != "first-person"):
            result.circumstantial = True  # "Zelensky, he claimed, wanted a pause": the claimant's account
            result.aside = _subject(aside, set())
            break
        if cur.dep_ == "agent" and cur.head.dep_ == "acl" and cur.head.tag_ == "VBN":
            result.circumstantial = True  # "Ukraine, backed by European money and American weapons, …" describes
            break
        if cur.dep_ == "pobj" and cur.head.lower_ == "for" and cur.head.head.lemma_.lower() in BARGAIN_NOUNS:
            result.circumstantial = True
            break
        if cur.head.i == cur.i:
            break
        if cur.dep_ == "conj" and any(c.dep_ == "mark" and c.lower_ == "that" for c in cur.children):
            # "said he did not support X and that Y": the second "that" clause hangs on the speech verb,
            # whatever the parser attached it to; the first clause's words do not govern it.
            speech = next((a for a in cur.ancestors if a.lemma_.lower() in SPEECH_VERBS or a.dep_ == "ROOT"), None)
            if speech is not None:
                came_by = "ccomp"
                cur = speech
                continue
        # A conjoined verb without its own subject shares its head's: it is transparent.
        came_by = came_by if cur.dep_ == "conj" else cur.dep_
        cur = cur.head
    return result
