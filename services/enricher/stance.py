"""From a cue and its path to the holder: support / oppose / undecided, and past or current.

Polarity is compositional along the dependency path: an attitude word that favours its object
("back", "ready to", "considering") keeps the sign, one that rejects it ("rule out", "call off",
"hold off") flips it, and so does each negation ("not", "never", "no longer", "no meeting").
Topic vocabularies add their own words ("lift" sanctions flips). Undecided is explicit weighing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from spacy.tokens import Token

from services.enricher.attribution import SPEECH_VERBS, STANCE_NOUNS, Climb
from services.enricher.lexicons import ordered, pattern, signs, values, words

# The vocabularies are data (services/enricher/lexicons/*.yaml: each list with its id, why and examples).
SUPPORT_WORDS = words("support-words")
OPPOSE_WORDS = words("oppose-words")
#: "lemma particle" or "preposition noun" -> sign, checked before the single words.
PHRASAL = signs("phrasal-oppose", "phrasal-support")
REFLEXIVES = words("reflexives")
EFFICACY_VERBS = words("efficacy-verbs")
HARM_VERBS = words("harm-verbs")
HARM_NOUNS = words("harm-nouns")
RELATION_NOUNS = words("relation-nouns")
ESCALATION_WORDS = words("escalation-words")
EFFECT_VERBS = EFFICACY_VERBS | words("effect-verbs")
BELITTLING_ADVERBS = words("belittling-adverbs")
TOPICAL_PREPS = words("topical-preps")
MESSAGE_NOUNS = words("message-nouns")
QUESTION_VERBS = words("question-verbs")
NEGATORS = words("negators")
UNDECIDED_WORDS = words("undecided-words")
DECISION_WORDS = words("decision-words")
FRAME_NOUNS = words("frame-nouns")
CHANGE_VERBS = words("change-verbs")
PERSIST_ADVERBS = words("persist-adverbs")
SCHEDULE_WORDS = words("schedule-words")
PAST_MODIFIERS = words("past-modifiers")
BACKGROUND_MARKS = words("background-marks")
AS_VERBS = words("as-verbs")
OUTCOME_VERBS = words("outcome-verbs")
REGROUP_WORDS = words("regroup-words")
SILENT_VERBS = words("silent-verbs")
COMMIT_WORDS = words("commit-words")
DEAL_NOUNS = words("deal-nouns")
CONDITION_MARKS = words("condition-marks")
ABSTAIN_VERBS = words("abstain-verbs")
ABSTAIN_OBJECTS = words("abstain-objects")
NAMING_VERBS = words("naming-verbs")
ADJECTIVE_ONLY = words("adjective-only")
SET_ASIDE = frozenset(tuple(w.split()) for w in words("set-aside"))
OCCASION_VERBS = words("occasion-verbs")
TRAJECTORY_VERBS = words("trajectory-verbs")
TRAJECTORY_NOUNS = words("trajectory-nouns")
OWN_EARLIER_VERBS = words("own-earlier-verbs")

MONTHS = {m: i + 1 for i, m in enumerate(ordered("months"))}
MONTH_ABBREVIATIONS = values("month-abbreviations")
PAST_MARKERS = re.compile(
    rf"\b(?:{pattern('past-markers')}|last\s+(?:{pattern('last-periods')})|"
    rf"(?:at|since)\s+the\s+(?:{pattern('period-openings')})\s+of\s+(?:the|this)\s+(?:{pattern('opened-periods')}))\b",
    re.IGNORECASE,
)
CURRENT_MARKERS = re.compile(rf"\b(?:{pattern('current-markers')})\b", re.IGNORECASE)
YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
MONTH = re.compile(
    rf"\b(?i:{pattern('month-preps')})\s+(?i:early\s+|late\s+|mid-|the\s+middle\s+of\s+)?"
    r"([A-Z][a-z]+)\.?(?:\s+(\d{1,2})\b)?"
)
#: A dated statement this many days or more before publication is a recap, not the news.
RECAP_DAYS = 3


@dataclass(frozen=True)
class Judgement:
    stance: str | None  # support | oppose | undecided | None (no stance expressed)
    explicit: bool  # an attitude word (not just the cue's own meaning) decided it
    past: bool


def _phrasal_keys(token: Token) -> list[str]:
    keys = []
    for c in token.children:
        if c.dep_ == "prep":
            keys.extend(f"{c.lower_} {g.lemma_.lower()}" for g in c.children if g.dep_ == "pobj")
    return keys


def _phrasal_sign(token: Token) -> int:
    for key in _phrasal_keys(token):
        if key in PHRASAL:
            return PHRASAL[key]
    return 0


def _kept_for_self(token: Token) -> bool:
    """ "we need them ourselves", "needs them for itself", "for our own country": kept at home, so not sent."""
    for c in token.children:
        if c.dep_ in ("npadvmod", "advmod", "dobj", "appos") and c.lower_ in REFLEXIVES:
            return True
        if c.dep_ == "prep" and c.lower_ == "for":
            for g in c.children:
                if g.dep_ != "pobj":
                    continue
                if g.lower_ in REFLEXIVES:
                    return True
                if g.lemma_.lower() == "country" and any(x.lower_ in ("our", "own") for x in g.children):
                    return True
    return False


def _word_sign(token: Token, lexicon: dict[str, int]) -> int:
    lemma = token.lemma_.lower()
    text = token.lower_
    if lemma == "need" and _kept_for_self(token):
        return -1
    if lemma in ADJECTIVE_ONLY and token.pos_ != "ADJ":
        return 0
    if lemma in NAMING_VERBS and any(c.dep_ == "oprd" for c in token.children):
        return 0  # "called them an unfriendly act": naming, the predicate noun decides
    keys = []
    for c in token.children:
        if c.dep_ in ("prt", "prep"):
            keys.append(f"{lemma} {c.lower_}")
            if c.dep_ == "prep":
                keys.extend(f"{c.lower_} {g.lemma_.lower()}" for g in c.children if g.dep_ == "pobj")
        elif c.dep_ in ("amod", "compound"):
            keys.append(f"{c.lemma_.lower()} {lemma}")
    for key in keys:
        if key in PHRASAL:
            return PHRASAL[key]
    if any(c.dep_ == "dobj" and c.lower_ in REFLEXIVES for c in token.children):
        return -1 if (lemma in lexicon or lemma in OPPOSE_WORDS) else 0  # "hurting themselves"
    for w in (lemma, text):
        if w in lexicon:
            return lexicon[w]
    if lemma in SUPPORT_WORDS or text in SUPPORT_WORDS:
        return 1
    if lemma in OPPOSE_WORDS or text in OPPOSE_WORDS:
        return -1
    return 0


def _governing_path(climb: Climb) -> list[Token]:
    """The part of the path whose words speak for the holder.

    Above the holder's verb, a verb with a subject of its own is someone else's clause ("Trump would not
    meet Putin while the Russian leader rejected a truce": "not meet" is not Putin's attitude to a truce).
    Above a participial adverbial ("rejected the plan, insisting that …") the main verb governs the plan,
    not what the participle asserts.
    """
    path = climb.path
    hv = climb.holder_verb
    top = next((k for k, t in enumerate(path) if t is hv), None)
    for k, tok in enumerate(path):
        if k > 0:
            below = path[k - 1]
            if below.dep_ == "advcl" and any(c.lower_ == "only" for c in below.subtree if c.i < below.i):
                return path[:k]  # "would end only when Ukrainian forces pulled out": the condition is demanded
            if (
                below.dep_ == "advcl"
                and below.tag_ in ("VBG", "VBN")
                and not any(c.dep_ in ("mark", "advmod") and c.tag_ in ("IN", "WRB") for c in below.children)
            ):
                return path[:k]
        if top is not None and k > top and tok.pos_ in ("VERB", "AUX"):
            if any(c.dep_ in ("nsubj", "nsubjpass") and c.i not in {t.i for t in path} for c in tok.children):
                return path[:k]
    return path


def _belittled(verb: Token) -> bool:
    """An adverbial "only"/"merely"/"just" on the verb: "would only allow Kyiv to rearm"."""
    return any(c.dep_ == "advmod" and c.lower_ in BELITTLING_ADVERBS for c in verb.children)


def _consequence_verb(path: list[Token], cue_tokens: set[int]) -> Token | None:
    """The verb whose subject holds the cue ("sending the missiles would wreck ties", "a decision to send them …")."""
    for k, tok in enumerate(path[:5]):
        if tok.dep_ in ("nsubj", "nsubjpass", "csubj") and k + 1 < len(path) and tok.head.i == path[k + 1].i:
            return tok.head if tok.head.pos_ in ("VERB", "AUX") else None
        nested = tok.dep_ in ("xcomp", "acl", "relcl", "pcomp")
        if tok.pos_ in ("VERB", "AUX") and tok.i not in cue_tokens and not nested:
            return None  # the cue hangs on a clause of its own: whatever it leads to is not said of the cue
    return None


def _harmful(verb: Token) -> bool:
    """The verb, or one coordinated with it, names harm to relations or escalation as the result."""
    for v in (verb, *(c for c in verb.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX"))):
        if _negated(v):
            continue
        objects = [c for c in v.children if c.dep_ in ("dobj", "attr")]
        if v.lemma_.lower() in ESCALATION_WORDS:
            return True
        for o in objects:
            lemmas = {t.lemma_.lower() for t in o.subtree}
            if v.lemma_.lower() in HARM_VERBS and lemmas & RELATION_NOUNS:
                return True
            if lemmas & ESCALATION_WORDS:
                return True
            if o.lemma_.lower() in HARM_NOUNS and lemmas & RELATION_NOUNS:
                return True
    return False


def _negated(token: Token) -> bool:
    """A negation before the word ("did not back", "no meeting"); "membership, not a replacement" is a contrast."""
    for c in token.children:
        if c.i > token.i and token.pos_ in ("NOUN", "PROPN"):
            continue
        if c.dep_ == "neg":
            return True
        if c.dep_ in ("advmod", "det", "npadvmod") and c.lower_ in ("never", "no"):
            return True
        if c.dep_ == "advmod" and c.lower_ == "longer" and any(g.lower_ == "no" for g in c.children):
            return True
        if c.dep_ == "dobj" and c.lower_ in ("nobody", "nothing") and token.lemma_.lower() in EFFECT_VERBS:
            return True  # "a truce that collapses helps nobody", "the sanctions changed nothing"
    return False


def judge(climb: Climb, cue_sign: int, cue_tokens: set[int], lexicon: dict[str, int], published: datetime) -> Judgement:
    """The stance one cue expresses for its holder, and whether the clause reports the past."""
    if any(t.lemma_.lower() in FRAME_NOUNS and t.i not in cue_tokens for t in climb.path[1:4]):
        cue_sign = 0  # the phrase names the topic; only an attitude word can make it a stance
    sign = cue_sign if cue_sign else 1
    explicit = False
    undecided = False
    abstain = False  # "declined to say": no position taken
    on_path = {t.i for t in climb.path}
    #: The cue is the subject of the first verb up the path ("the weapons would make Russia negotiate").
    efficacy = bool(climb.path) and climb.path[0].i in cue_tokens and climb.path[0].dep_ in ("nsubj", "nsubjpass")
    consequence = _consequence_verb(climb.path, cue_tokens)
    #: The verb the cue's noun phrase is the subject of ("the supply of the missiles would not change …").
    effect_i = climb.path[1].i if efficacy and len(climb.path) > 1 else (consequence.i if consequence else -1)
    belittled = False
    topical = False
    words: list[tuple[Token, bool]] = []  # (token, negation applies)
    carriers: set[int] = set()  # verbs a "without" phrase hangs on: their own sense is not applied to the cue
    #: Verbs whose subject is the cue itself ("the aid has to continue").
    cue_heads = {t.head.i for t in climb.path[:1] if t.i in cue_tokens and t.dep_ in ("nsubj", "nsubjpass")}
    for k, tok in enumerate(_governing_path(climb)):
        if k > 0 and _scheduled(tok, climb.path[k - 1]):
            return Judgement(None, False, _is_past(climb, published))
        if (
            tok.dep_ == "prep"
            and tok.lower_ in TOPICAL_PREPS
            and (
                (tok.head.pos_ in ("NOUN", "PROPN") and not _word_sign(tok.head, lexicon))
                or any(c.dep_ == "dobj" and c.lemma_.lower() in MESSAGE_NOUNS for c in tok.head.children)
            )
        ):
            topical = True
            break  # "messages on Ukraine's membership": the topic of a message, not an attitude to it
        if k > 0 and climb.path[k - 1].dep_ in ("conj", "dep"):
            continue  # a conjoined predicate's head is its sibling, not its governor
        if tok.dep_ == "prep" and tok.lower_ == "without" and tok.i not in cue_tokens:
            sign = -sign  # "end the war without thinking about the missiles": the hope is to do without them
            carriers.add(tok.head.i)  # "could end without X": "end" frames the absence, it does not end X
        if tok.i not in cue_tokens:
            words.append((tok, True))
        for c in tok.children:
            if c.i in on_path or c.i in cue_tokens:
                continue
            if c.dep_ in ("acomp", "attr", "oprd", "dobj", "amod", "npadvmod", "advmod"):
                words.append((c, c.pos_ in ("NOUN", "PROPN")))
                words.extend((g, False) for g in c.children if g.dep_ in ("amod", "compound", "relcl", "acl"))
            elif c.dep_ == "xcomp" and tok.lemma_.lower() == "have" and tok.i in cue_heads:
                words.append((c, True))  # "aid has to continue": the modal "have to" carries its verb
            elif c.dep_ == "prep" and c.lower_ == "as" and tok.lemma_.lower() in NAMING_VERBS | AS_VERBS:
                for g in c.children:  # "described the sanctions as an unfriendly act": the predicate judges
                    if g.dep_ == "pobj":
                        words.append((g, True))
                        words.extend((x, False) for x in g.children if x.dep_ in ("amod", "compound"))
    seen: set[int] = set()
    described: set[int] = set()  # objects already given a sign by one of their modifiers
    for tok, negatable in words:
        if tok.i in seen:
            continue
        seen.add(tok.i)
        modifier = not negatable and tok.dep_ in ("amod", "compound", "relcl", "acl") and tok.head.i not in on_path
        if modifier and tok.head.i in described:
            continue  # "an unfriendly act that would wreck relations" is one judgement, not two
        lemma = tok.lemma_.lower()
        if negatable and lemma in OUTCOME_VERBS and _regrouping(tok):
            return Judgement(None, False, _is_past(climb, published))  # "a pause to regroup and receive weapons"
        if negatable and lemma in SILENT_VERBS and _negated(tok):
            return Judgement(None, False, _is_past(climb, published))  # "did not address the planned summit"
        if negatable and cue_sign == 0 and tok.pos_ in ("VERB", "AUX") and _deal_condition(tok):
            return Judgement(None, False, _is_past(climb, published))  # "sanctions would be lifted if we get a deal"
        if (
            negatable
            and lemma in COMMIT_WORDS
            and (_negated(tok) or (tok.dep_ in ("xcomp", "advcl") and tok.head.lemma_.lower() in ABSTAIN_VERBS))
        ):
            undecided = True  # "declined to commit to sending them": not decided
            continue
        if lemma in OUTCOME_VERBS and _negated(tok):
            return Judgement(None, False, _is_past(climb, published))  # "has not received a yes on the missiles"
        if negatable and _negated(tok) and any(x.lower_ == "only" and x.i > tok.i for x in tok.subtree):
            return Judgement(None, False, _is_past(climb, published))  # "cannot keep fighting only over …"
        if (
            lemma in ABSTAIN_OBJECTS
            and _negated(tok)
            and any(c.dep_ == "ccomp" and any(m.lower_ in ("whether", "if") for m in c.children) for c in tok.children)
        ):
            abstain = True  # "would not say whether it would go ahead": like "declined to say"
        if lemma in UNDECIDED_WORDS or tok.lower_ in UNDECIDED_WORDS:
            undecided = True
        if lemma in DECISION_WORDS and (_negated(tok) or _negated(tok.head)):
            undecided = True
            continue
        if lemma in ABSTAIN_VERBS and any(
            c.dep_ == "xcomp" and c.lemma_.lower() in ABSTAIN_OBJECTS and c.i not in cue_tokens for c in tok.children
        ):  # "declined to give a view", but "refused to give up land" is a position
            abstain = True
        s = 0 if tok.i in carriers else _word_sign(tok, lexicon)
        if tok.dep_ == "prep" and tok.head.i in on_path and f"{tok.head.lemma_.lower()} {tok.lower_}" in PHRASAL:
            s = 0  # "warned them against sending": the phrasal verb carries the sign once, not twice
        if lemma in QUESTION_VERBS and tok.tag_ == "VBN" and not any(c.dep_.startswith("nsubj") for c in tok.children):
            s = 0  # "Asked about the missiles, Trump said ...": the reporter's question, not an attitude
        if tok.i == effect_i:
            if _belittled(tok):
                belittled = True  # "a truce would only let Kyiv rearm": decided below, whatever the rest says
                continue
            if lemma in EFFICACY_VERBS:
                s = 1  # "the missiles would change Putin's calculation": the object works
        if s:
            explicit = True
            sign *= s
            described.add(tok.head.i if modifier else tok.i)
        if lemma == "go" and any(c.lower_ in PERSIST_ADVERBS for c in tok.children):
            continue  # "has not gone anywhere": still stands
        if negatable and _negated(tok) and (lemma not in CHANGE_VERBS or tok.i == effect_i):
            sign = -sign
    if climb.path and climb.path[0].i in cue_tokens:
        phrasal = _phrasal_sign(climb.path[0])  # "a summit … on ice"
        if phrasal:
            sign *= phrasal
            explicit = True
    if climb.path and climb.path[0].i in cue_tokens and _negated(climb.path[0]):
        head = climb.path[0]
        if any(x.lower_ == "only" and x.i > head.i for x in head.subtree):
            return Judgement(None, False, _is_past(climb, published))  # "cannot keep fighting only over …"
        sign = -sign  # "no meeting", "never join": denying the thing itself is a position on it
        explicit = True
    elif climb.path and climb.path[0].i in cue_tokens and _set_aside(climb.path[0]):
        sign, explicit = -1, True  # what is preferred governs the words above; the alternative is turned down
    elif climb.path and climb.path[0].i in cue_tokens and _contrasted(climb.path[0]):
        sign, explicit = -sign, True
    if belittled:
        sign, explicit = -(cue_sign or 1), True
    if consequence is not None and consequence.i in on_path and _harmful(consequence):
        sign, explicit = -(cue_sign or 1), True  # "handing over the missiles would wreck ties": argued against
    past = _is_past(climb, published)
    if any(
        t.lemma_.lower() in QUESTION_VERBS and t.tag_ in ("VBN", "VBD") and t.dep_ == "advcl" and t.i not in cue_tokens
        for t in climb.path[1:]
    ) and not explicit_below_question(climb, cue_tokens, lexicon):
        return Judgement(None, False, past)  # "Asked about membership, Rutte said …": the topic is the question's
    if abstain:
        return Judgement(None, False, past)
    if undecided:  # "has not decided whether to …" is a stance (undecided), not a question
        return Judgement("undecided", True, past)
    if climb.interrogative:  # "asked whether …", "did not say whether …"
        return Judgement(None, False, past)
    if (cue_sign == 0 or topical) and not explicit:
        return Judgement(None, False, past)
    return Judgement("support" if sign > 0 else "oppose", explicit, past)


def _regrouping(tok: Token) -> bool:
    """ "time to regroup and receive new weapons": an outcome verb listed with what an adversary gains from a pause."""
    family = [tok.head] if tok.dep_ == "conj" else []
    family += [c for c in tok.children if c.dep_ == "conj"]
    if tok.dep_ == "conj":
        family += [c for c in tok.head.children if c.dep_ == "conj" and c.i != tok.i]
    for t in family:
        if t.lemma_.lower() in REGROUP_WORDS:
            return True
        if any(c.dep_ == "dobj" and c.lemma_.lower() == "breath" for c in t.children):
            return True
    return False


def _deal_condition(tok: Token) -> bool:
    """ "would be lifted if we get a deal": the predicate holds only at the settlement."""
    for c in tok.children:
        if c.dep_ != "advcl":
            continue
        if not any(m.dep_ in ("mark", "advmod") and m.lower_ in CONDITION_MARKS for m in c.children):
            continue
        words = list(c.subtree)
        if any(t.lower_ in NEGATORS or t.dep_ == "neg" or t.lemma_.lower() in OPPOSE_WORDS for t in words):
            continue  # "if Russia refuses a deal", "if he doesn't make a deal": a threat, which is a position
        if any(t.lemma_.lower() in DEAL_NOUNS for t in words):
            return True
    return False


def _set_aside(cue: Token) -> bool:
    """ "a full agreement rather than a truce", "a deal instead of a ceasefire": the cue is what is passed over."""
    left = cue.left_edge.i
    if cue.dep_ not in ("pobj", "conj") or left < 2:
        return False
    return (cue.doc[left - 2].lower_, cue.doc[left - 1].lower_) in SET_ASIDE


def _contrasted(cue: Token) -> bool:
    """ "a lasting peace, not a pause": a cue set against another noun with "not" is what is rejected."""
    if cue.dep_ not in ("appos", "conj") or cue.head.i >= cue.i:
        return False
    between = cue.doc[cue.head.i + 1 : cue.i]
    return any(t.lower_ == "not" for t in between) and not any(t.lower_ == "but" for t in between)


def _scheduled(tok: Token, below: Token) -> bool:
    """ "X is expected / due / scheduled to meet Y": the plan is reported as a fact or forecast, not X's wish."""
    if below.dep_ != "xcomp" or tok.lemma_.lower() not in SCHEDULE_WORDS or _negated(tok):
        return False
    passive = any(c.dep_ == "auxpass" for c in tok.children) or tok.lower_ == "due"
    return passive and tok.pos_ in ("VERB", "ADJ", "AUX")


def explicit_below_question(climb: Climb, cue_tokens: set[int], lexicon: dict[str, int]) -> bool:
    """Whether an attitude word sits between the cue and the reporter's question ("asked to back sanctions")."""
    for tok in climb.path[1:]:
        if tok.lemma_.lower() in QUESTION_VERBS:
            return False
        if tok.i not in cue_tokens and _word_sign(tok, lexicon):
            return True
    return False


def _own_words(tok: Token) -> str:
    """A phrase without the clauses embedded in it ("at the summit he attended last year" -> "at the summit")."""
    skip = {t.i for c in tok.subtree if c.dep_ in ("relcl", "acl", "ccomp", "advcl") for t in c.subtree}
    return " ".join(t.text for t in tok.subtree if t.i not in skip)


def _marker_text(tok: Token, on_path: set[int] | frozenset[int] = frozenset()) -> str:
    """Time adverbials on a verb, leaving out the branch that holds the cue ("a meeting for now")."""
    parts = []
    for c in tok.children:
        if c.i in on_path:
            continue
        if c.dep_ in ("advmod", "npadvmod", "prep", "tmod"):
            parts.append(" ".join(t.text for t in c.subtree))
        elif c.dep_ == "advcl" and c.lemma_.lower() in OCCASION_VERBS and c.tag_ == "VBG" and c.i < tok.i:
            # "Speaking at a conference in February, he said …": the participle dates the statement.
            parts.extend(_own_words(g) for g in c.children if g.dep_ in ("prep", "npadvmod", "tmod"))
    return " ".join(parts)


def _time_of(text: str, published: datetime) -> bool | None:
    """True past, False explicitly current, None when the text says nothing about time."""
    if CURRENT_MARKERS.search(text):
        return False
    if PAST_MARKERS.search(text):
        return True
    for m in YEAR.finditer(text):
        if int(m.group(1)) < published.year:
            return True
    for m in MONTH.finditer(text):
        name = m.group(1).lower()
        month = MONTHS.get(name) or MONTH_ABBREVIATIONS.get(name)
        if not month:
            continue
        if month < published.month:
            return True  # "in early February" in a March story
        day = int(m.group(2)) if m.group(2) else None
        if month == published.month and day is not None and day <= published.day - RECAP_DAYS:
            return True  # "on March 3" in a story of March 20
    return None


def _background(tok: Token, on_path: set[int], published: datetime) -> bool:
    """A clause or proposal on the path that the article places before the news, whatever it says inside."""
    if tok.pos_ == "NOUN" and tok.lemma_.lower() in STANCE_NOUNS and any(c.dep_ == "poss" for c in tok.children):
        if _time_of(_marker_text(tok, on_path), published) is True:
            return True  # "Trump's call last week for both sides to stop"
    if tok.dep_ == "advcl" and tok.pos_ in ("VERB", "AUX") and any(c.dep_ == "nsubj" for c in tok.children):
        # A person's earlier words or acts; an event ("after the meeting was cancelled") may be the news itself.
        if {c.lower_ for c in tok.children if c.dep_ == "mark"} & BACKGROUND_MARKS:
            return True  # "the visit comes a week after Trump suggested …"
    if (
        tok.dep_ in ("advcl", "relcl")
        and tok.tag_ == "VBD"
        and any(c.lower_ == "when" and c.dep_ == "advmod" for c in tok.children)
        and (tok.lemma_.lower() in SPEECH_VERBS or any(c.lower_ == "had" for c in tok.head.children))
    ):
        return True  # "ten days ago, when he said …", "what he had hoped for when he flew to Washington"
    return False


def _habitual_past(tok: Token) -> bool:
    """ "Stop the shooting first, Trump kept saying": a repeated act in the simple past is a stretch that is over."""
    if tok.tag_ == "VBG" and tok.lemma_.lower() in SPEECH_VERBS:
        return any(c.dep_ == "aux" and c.lower_ == "kept" for c in tok.children)  # parsed as an auxiliary
    return (
        tok.lemma_.lower() == "keep"
        and tok.tag_ == "VBD"
        and any(c.dep_ == "xcomp" and c.tag_ == "VBG" and c.lemma_.lower() in SPEECH_VERBS for c in tok.children)
    )


def _own_earlier_words(tok: Token) -> bool:
    """ "I thought they could win it back. I don't think that's where we are": first person, simple past."""
    return (
        tok.pos_ in ("VERB", "AUX")
        and tok.tag_ == "VBD"
        and tok.lemma_.lower() in OWN_EARLIER_VERBS
        and any(c.dep_ == "nsubj" and c.lower_ in ("i", "we") for c in tok.children)
        and not any(c.dep_ in ("neg", "aux") for c in tok.children)
        and not any(c.dep_ == "mark" and c.lower_ == "as" for c in tok.children)  # "as I said" restates
    )


def _trajectory_start(tok: Token) -> bool:
    """The cue's clause hangs on the "from" of a change ("gone from planning a summit to scrapping it")."""
    prep = tok.head
    if tok.dep_ not in ("pcomp", "pobj") or prep.lower_ != "from":
        return False
    if prep.head.lemma_.lower() in TRAJECTORY_NOUNS:
        return True  # "a sharp departure from the land-swap talk"
    gov = prep.head
    for _ in range(6):  # "from A to B, from C to D, and from E to F": later "from"s hang on earlier ones
        if gov.lemma_.lower() in TRAJECTORY_VERBS:
            return True
        if gov.head.i == gov.i:
            return False
        gov = gov.head
    return False


def _is_past(climb: Climb, published: datetime) -> bool:
    """The nearest time marker on the way up decides; else a past perfect on the holder's verb.

    Background clauses are past whatever they hold: "a week after Trump suggested …", "ten days ago,
    when he said …", "Trump's call last week for …", and a statement itself dated in the past
    ("Putin said last week he saw no point in a meeting for now").
    """
    on_path = {t.i for t in climb.path}
    hv = climb.holder_verb
    if hv is not None and _time_of(_marker_text(hv, on_path), published) is True:
        return True
    if hv is not None and hv.dep_ == "conj" and any(c.dep_ == "mark" and c.lower_ == "that" for c in hv.children):
        # "had said in March that …, and that he did not want …": the second clause shares the speech's date.
        speech = next((a for a in hv.ancestors if a.lemma_.lower() in SPEECH_VERBS), None)
        if speech is not None and _time_of(_marker_text(speech, on_path), published) is True:
            return True
    if any(_background(tok, on_path, published) for tok in climb.path):
        return True
    if any(_trajectory_start(tok) or _own_earlier_words(tok) or _habitual_past(tok) for tok in climb.path):
        return True
    for tok in climb.path:
        if tok.pos_ in ("NOUN", "PROPN") and any(c.dep_ == "amod" and c.lower_ in PAST_MODIFIERS for c in tok.children):
            return True  # "reversing his earlier insistence that …"
        if tok.pos_ not in ("VERB", "AUX") and tok.dep_ not in ("ROOT", "relcl", "advcl"):
            continue
        when = _time_of(_marker_text(tok, on_path), published)
        if when is not None:
            return when
        if tok is climb.holder_verb:
            break
    hv = climb.holder_verb
    if (
        hv is not None
        and hv.tag_ == "VBN"
        and hv.lemma_.lower() not in CHANGE_VERBS
        and any(c.lower_ == "had" and c.dep_ == "aux" for c in hv.children)
    ):
        return True
    return False
