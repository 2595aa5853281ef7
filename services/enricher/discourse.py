"""Stage 2c, discourse: the figure who is still speaking when a sentence names no one.

News prose attributes once and then goes on: a quotation runs over several sentences and names its speaker in
the last ("... now," Trump said), an answer follows its question, a paragraph opens with the figure as subject
and the next sentences carry on his view without naming him. The sentence rules (``holders``) attribute a
clause only from inside its own sentence (plus a pronoun's antecedent); when they find no holder at all, this
stage looks back over the paragraph (and the one before) for the *current speaker*:

* the clause is inside a quotation: the quotation's speaker, or the speaker of the paragraph's previous quote;
* otherwise: walking back sentence by sentence, the first figure that is a sentence's subject or a quotation's
  speaker, or the labelled speaker of a transcript paragraph;
* the walk stops (no one is carried) at another person or an institution speaking ("Officials said",
  "The Kremlin said"), at a host's question, and after ``REACH`` sentences or one paragraph back.

What is carried is only a *candidate* holder: the judge decides whether the sentence gives that figure's view
(the combined judge asks the trained model and keeps it only above a floor chosen on the development sets).
"""

from __future__ import annotations

from spacy.tokens import Doc

from services.enricher.attribution import OTHER_PARTY, PEOPLE_NOUNS, SPEECH_VERBS, Climb, classify
from services.enricher.context import ArticleContext, CueMatch
from services.enricher.holders import is_person, quote_speaker, resolve_pronoun, subject_of_sentence
from services.enricher.sentences import inside

#: How many sentences back the current speaker is looked for.
REACH = 3


def open_clause(c: Climb, doc: Doc) -> bool:
    """The rules found no holder for the clause, and nothing says it is someone else's: no subject, a dummy
    or a thing as subject ("Sanctions can wait"), a first-person quote or a pronoun they could not resolve."""
    ref = c.holder
    if ref is None or ref.kind in ("first-person", "pronoun"):
        return True
    if ref.kind != "other" or ref.token is None:
        return False
    tok = doc[ref.token]
    return not is_person(tok) and tok.lower_ not in OTHER_PARTY and tok.lemma_.lower() not in PEOPLE_NOUNS


def aside_holder(ctx: ArticleContext, i: int, doc: Doc, c: Climb, fig_of_tok: dict[int, str]) -> str | None:
    """ "Ukraine, he said, would not join", "There would be, he said, swaps of land": a clause whose own subject is
    no person, with a parenthetical speech verb, is the claim of that verb's subject (a figure or his pronoun)."""
    if c.aside is None or (c.holder is not None and c.holder.kind != "other"):
        return None
    if c.holder is not None and c.holder.token is not None and not open_clause(c, doc):
        return None  # "Zelensky, he claimed, wanted a pause" or "Officials, he said, ...": someone else's view
    ref = classify(c.aside, fig_of_tok)
    if ref is None or inside(ctx.quotes, ctx.sentences[i].start + c.aside.idx) is not None:
        return None
    if ref.kind == "figure":
        return ref.figure
    if ref.kind == "pronoun":
        return resolve_pronoun(ctx, i, doc, c.aside.i, role=ref.role)
    return None


def carried_holder(ctx: ArticleContext, i: int, doc: Doc, cue: CueMatch, fig_of_tok: dict[int, str]) -> str | None:
    """The figure still speaking at sentence ``i`` (whose rules found no holder for ``cue``), or None."""
    sent = ctx.sentences[i]
    if sent.paragraph in ctx.other_speakers:
        return None
    named = set(fig_of_tok.values())
    quote = inside(ctx.quotes, sent.start + cue.start)
    if quote is not None:
        speaker = quote_speaker(ctx, quote) or _previous_quote_speaker(ctx, i, quote)
        return speaker if speaker is not None and named <= {speaker} else None
    if named:
        return None  # a sentence that names a figure and does not make him the holder is about him
    if _voice(ctx, i, doc):
        return None
    for j in range(i - 1, max(-1, i - REACH - 1), -1):
        prev = ctx.sentences[j]
        if prev.paragraph < sent.paragraph - 1:
            break
        if prev.paragraph in ctx.other_speakers:
            return None
        labelled = ctx.speakers.get(prev.paragraph)
        if labelled is not None:
            return labelled
        found = _speaker_of(ctx, j)
        if found is not None:
            return found or None
    return None


def _speaker_of(ctx: ArticleContext, j: int) -> str | None:
    """Who speaks in sentence ``j``: a figure id; "" when someone else does (the walk stops); None if no one."""
    ref = subject_of_sentence(ctx, j)
    if ref is not None and ref.kind == "figure" and ref.figure:
        return ref.figure
    sent = ctx.sentences[j]
    for qs, qe in ctx.quotes:
        if qs < sent.end and sent.start < qe:
            speaker = quote_speaker(ctx, (qs, qe))
            if speaker is not None:
                return speaker
    doc = ctx.docs.get(j)
    if doc is not None and _voice(ctx, j, doc):
        return ""
    if ref is not None and ref.kind == "other":
        return ""  # another person was the subject
    return None


def _voice(ctx: ArticleContext, i: int, doc: Doc) -> bool:
    """Someone other than a tracked figure speaks in sentence ``i`` (outside its quotations): people or another
    party as a subject ("Officials said", "Critics argue"), or any named person or institution as the subject
    of a speech verb ("The Kremlin said", "Peskov told reporters")."""
    base = ctx.sentences[i].start
    fig_of_tok = ctx.figure_tokens(i, doc)
    for tok in doc:
        if tok.dep_ not in ("nsubj", "nsubjpass") or tok.i in fig_of_tok or inside(ctx.quotes, base + tok.idx):
            continue
        if tok.lower_ in OTHER_PARTY or tok.lemma_.lower() in PEOPLE_NOUNS:
            return True
        ref = classify(tok, fig_of_tok)
        if tok.head.lemma_.lower() in SPEECH_VERBS and ref is not None and ref.kind == "other":
            return True
    return False


def _previous_quote_speaker(ctx: ArticleContext, i: int, quote: tuple[int, int]) -> str | None:
    """A quotation with no attribution of its own continues the paragraph's previous quotation (or the
    previous paragraph's last one, when this quotation opens its paragraph)."""
    sent = ctx.sentences[i]
    para_start = next(s.start for s in ctx.sentences if s.paragraph == sent.paragraph)
    earlier = [q for q in ctx.quotes if q[1] <= quote[0]]
    for q in reversed(earlier[-3:]):
        j = next((s.index for s in ctx.sentences if s.start <= q[0] < s.end), None)
        if j is None or ctx.sentences[j].paragraph < sent.paragraph - 1:
            break
        if ctx.sentences[j].paragraph != sent.paragraph and quote[0] > para_start + 1:
            break  # only a quotation that opens its paragraph may continue the one before
        if ctx.sentences[j].paragraph in ctx.other_speakers:
            return None
        speaker = quote_speaker(ctx, q)
        if speaker is not None:
            return speaker
        between = [s for s in ctx.sentences if q[1] <= s.start and s.end <= quote[0]]
        if any(_speaker_of(ctx, s.index) == "" for s in between):
            return None
    return None


def continues(ctx: ArticleContext, n: int, figure: str) -> bool:
    """Sentence ``n`` may go on with ``figure``'s view: it names no other figure, and no one else speaks in it
    (outside its quotations); a quotation in it must be the figure's or have no speaker of its own."""
    sent = ctx.sentences[n]
    if any(h.key != figure for h in ctx.scan.figures if sent.start <= h.start < sent.end):
        return False
    ctx.parse([n])
    doc = ctx.docs.get(n)
    if doc is None or _voice(ctx, n, doc):
        return False
    ref = subject_of_sentence(ctx, n)
    quoted = ref is not None and ref.token is not None and inside(ctx.quotes, sent.start + doc[ref.token].idx)
    if ref is not None and not quoted and (ref.kind == "other" or (ref.kind == "figure" and ref.figure != figure)):
        return False  # another person is the subject; inside a quotation the subject is the speaker's words
    for qs, qe in ctx.quotes:
        if qs < sent.end and sent.start < qe:
            speaker = quote_speaker(ctx, (qs, qe))
            if speaker is not None and speaker != figure:
                return False
    return True
