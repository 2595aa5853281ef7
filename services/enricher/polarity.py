"""Stage 3, polarity: the rules' reading of a cue's clause for each holder, and whether it reports the past.

A stance noun's possessor first ("Trump's reluctance to send them"), else the governing-words judge of
``stance.judge`` over the climb to the holder; a question answered with a plain yes or no, and a rhetorical
question ("Why would I …?"), decide what the clause alone leaves open or turn it around.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc

from services.enricher.attribution import climb
from services.enricher.context import ArticleContext, CueMatch
from services.enricher.discourse import aside_holder, carried_holder, open_clause
from services.enricher.holders import clause_holders, owned_by_another, possessor_pronoun, reported_wish
from services.enricher.judges.base import RuleReading
from services.enricher.nominal import possessor_stance
from services.enricher.participants import agent, met_thing, participant_holders, partners
from services.enricher.stance import OPPOSE_WORDS, Judgement, judge
from shared.contracts import RawArticle

#: A question put to the speaker, then the answer: "Asked whether …, he said: 'No.'"
_ASKED = re.compile(r"(?:^|[,;—–-]\s*|\bwhen\s+)(?:asked|pressed|questioned)\b", re.IGNORECASE)
_ANSWER_NO = re.compile(
    r"\W*(?:no\b(?!\s+[a-z])|nope\b|never\b|not\s+(?:right\s+)?now\b|not\s+yet\b|not\s+at\s+(?:this|the\s+moment)|"
    r"absolutely\s+not\b|no\s+way\b|i\s+don.?t\s+think\s+so\b|i\s+doubt\s+it\b)",
    re.IGNORECASE,
)
_ANSWER_YES = re.compile(
    r"\W*(?:yes\b|yeah\b|sure\b|absolutely\b(?!\s+not)|of\s+course\b(?!\s+not)|definitely\b(?!\s+not))", re.IGNORECASE
)
#: A rhetorical question asserts its opposite: "Why would I hit them now?" means I would not.
#: Attribution uncertainty of a holder carried over from an earlier sentence (see ``discourse``).
CARRIED_PENALTY = 0.05
_RHETORICAL = re.compile(r"[\"“‘']?\s*why\s+(?:would|should)\b", re.IGNORECASE)


def rule_readings(
    ctx: ArticleContext,
    i: int,
    doc: Doc,
    cue: CueMatch,
    span,
    fig_of_tok: dict[int, str],
    article: RawArticle,
    *,
    carry: bool = False,
) -> tuple[list[tuple[str, float, RuleReading]], bool]:
    """Holders the rules attribute the cue's clause to, with the rules' polarity reading, and its timing.

    With ``carry``, a clause the sentence rules leave without any holder goes to the figure still speaking
    (``discourse.carried_holder``), as a reading on the ``carried`` path for the judge to confirm or drop.
    """
    sent = ctx.sentences[i]
    cue_toks = {t.i for t in span}
    if met_thing(span.root, fig_of_tok):
        return [], False  # "failing to meet the target"
    topic = ctx.watchlist.by_topic[cue.topic]
    owned = possessor_stance(
        span.root,
        cue.sign,
        fig_of_tok,
        lambda tok, i=i, doc=doc, figs=fig_of_tok: possessor_pronoun(ctx, i, doc, tok, figs),
    )
    if owned is not None:  # "Trump's reluctance to send them": the possessor holds it
        return [(owned[0], 0.0, RuleReading(owned[1], True, "possessor"))], False
    c = climb(doc, span.root, cue_toks, fig_of_tok)
    lexicon = _target_lexicon(topic.lexicon) if cue.target else topic.lexicon
    j = judge(c, cue.sign, cue_toks, lexicon, article.published)
    claimant = aside_holder(ctx, i, doc, c, fig_of_tok) if carry else None
    if claimant is not None:  # "Sanctions, he said, must stay": the claim is the speaker's, for the judge to read
        holders, path = [(claimant, CARRIED_PENALTY)], "carried"
    else:
        if c.circumstantial or reported_wish(ctx, i, doc, c):
            return [], j.past
        holders = clause_holders(ctx, i, doc, c, span, fig_of_tok)
        path = "clause"
    if not holders and carry and open_clause(c, doc) and not owned_by_another(c, c.holder, fig_of_tok):
        figure = carried_holder(ctx, i, doc, cue, fig_of_tok)
        if figure is not None:
            holders, path = [(figure, CARRIED_PENALTY)], "carried"
    if not holders:
        return [], j.past
    if j.stance is None and path == "clause":
        answered = _answer(ctx, i, cue)
        if answered is not None:
            j, path = answered, "answer"
    if j.stance is not None and _RHETORICAL.match(sent.text) and sent.text.rstrip("\"”’' ").endswith("?"):
        j = Judgement({"support": "oppose", "oppose": "support"}.get(j.stance, j.stance), True, j.past)
        path = "rhetorical"
    if topic.context_figures:
        holders = participant_holders(
            holders, topic.context_figures, partners(span.root, fig_of_tok), agent(span.root, fig_of_tok)
        )
    reading = RuleReading(j.stance, j.explicit, path)
    return [(figure, penalty, reading) for figure, penalty in holders], j.past


def _answer(ctx: ArticleContext, i: int, cue: CueMatch) -> Judgement | None:
    """ "Asked about the missiles, Trump said: 'No.'": the topic is in the question, the stance in the answer.

    The answer is the first quotation after the cue, in this sentence or the next one of the paragraph;
    only a plain yes or no at its start counts.
    """
    sent = ctx.sentences[i]
    if not _ASKED.search(sent.text[: cue.start]):
        return None
    nxt = ctx.sentences[i + 1] if i + 1 < len(ctx.sentences) else None
    limit = nxt.end if nxt is not None and nxt.paragraph == sent.paragraph else sent.end
    quote = next((q for q in ctx.quotes if sent.start + cue.end <= q[0] < limit), None)
    if quote is None:
        return None
    said = ctx.text[quote[0] + 1 : quote[1]]
    sign = cue.sign or 1
    if _ANSWER_NO.match(said):
        return Judgement("oppose" if sign > 0 else "support", True, False)
    if _ANSWER_YES.match(said):
        return Judgement("support" if sign > 0 else "oppose", True, False)
    return None


def _target_lexicon(lexicon: dict[str, int]) -> dict[str, int]:
    """For a cue that names the target of the measures ("the shadow fleet"), acting against it ("stop it",
    "action against it") backs the measures; the topic's own words ("target", "lift") keep their sense."""
    return {**dict.fromkeys(OPPOSE_WORDS, 1), **lexicon}
