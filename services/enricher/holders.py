"""Stage 2, holders: which tracked figure a cue's clause belongs to.

The clause's own holder from ``attribution.climb``, resolved: a pronoun or a bare role title to the last fitting
person subject, a first-person quote to its speaker, a transcript paragraph to its labelled speaker; and what
makes a clause no figure's own (another party's wish, another person's proposal or speech, a host's question).
"""

from __future__ import annotations

import bisect
import re

from spacy.tokens import Doc

from services.enricher.attribution import (
    COMPLEMENT_DEPS,
    OTHER_PARTY,
    ROLE_NOUNS,
    SPEECH_VERBS,
    STANCE_NOUNS,
    HolderRef,
    classify,
)
from services.enricher.context import WORD, ArticleContext, CueMatch
from services.enricher.lexicons import words
from services.enricher.mentions import THIRD_PERSON
from services.enricher.sentences import Sentence, inside

_PERSON_NOUNS = words("person-nouns")
_INSTITUTIONS = words("institutions")
#: How far back (in sentences) a pronoun or a quote may reach for its figure.
LOOKBACK = 4
#: A transcript speaker label in capitals: "RUTTE:", "BRETT CALLOWAY, HOST:", "PRESIDENT X (VIA INTERPRETER):", "Q:".
_CAPS_LABEL = re.compile(r"([A-Z][A-Z.'’ -]*[A-Z]|[QA])(?:\s*\([^()\n]{0,40}\))?(?:,\s*[A-Z][^:\n]{0,60})?:\s")


def speaker_labels(ctx: ArticleContext) -> tuple[dict[int, str], set[int]]:
    """Interview transcripts: paragraphs that open with a speaker label ("Rutte: …", "ELLISON, HOST: …").

    A tracked figure's label makes every claim of the paragraph theirs; an untracked speaker's (a host, "Q:")
    makes the paragraph theirs too, so a figure named in it is only described. Capital labels count only in
    a transcript (two or more of them), so a one-off "KYIV: …" opener is not a speaker.
    """
    first_of: dict[int, Sentence] = {}
    for sent in ctx.sentences:
        first_of.setdefault(sent.paragraph, sent)
    starts = {h.start: h for h in ctx.scan.figures}
    speakers: dict[int, str] = {}
    caps: dict[int, str | None] = {}
    for paragraph, sent in first_of.items():
        hit = starts.get(sent.start)
        if hit is not None and ctx.text[hit.end : hit.end + 2].lstrip(" ").startswith(":"):
            speakers[paragraph] = hit.key
            continue
        label = _CAPS_LABEL.match(ctx.text, sent.start)
        if label is None:
            continue
        caps[paragraph] = _figure_of_label(ctx, label.group(1))
    if len(caps) >= 2:
        for paragraph, figure in caps.items():
            if figure is not None:
                speakers[paragraph] = figure
        return speakers, {p for p, f in caps.items() if f is None}
    return speakers, set()


def _figure_of_label(ctx: ArticleContext, label: str) -> str | None:
    """The tracked figure a capital speaker label names ("PRESIDENT ZELENSKYY (VIA INTERPRETER)"), if any."""
    spoken = f" {re.sub(r'[^A-Z0-9]+', ' ', label.upper())} "
    for fig in ctx.watchlist.figures:
        if any(f" {re.sub(r'[^A-Z0-9]+', ' ', a.upper()).strip()} " in spoken for a in fig.aliases):
            return fig.id
    return None


def is_candidate(ctx: ArticleContext, sent: Sentence, fig_starts: list[int], *, carry: bool = False) -> bool:
    """Whether a cue sentence is worth parsing: it names a figure, or may refer to one named just before.

    With ``carry`` (a judge that reads carried holders), any sentence shortly after a figure's mention is one.
    """
    if sent.paragraph in ctx.speakers:
        return True
    lo = bisect.bisect_left(fig_starts, sent.start)
    if lo < len(fig_starts) and fig_starts[lo] < sent.end:
        return True
    low = sent.text.lower()
    words = set(WORD.findall(low))
    near = sent.index - LOOKBACK
    back = ctx.sentences[max(0, near)].start
    has_recent = bisect.bisect_left(fig_starts, back) < lo
    in_quote = any(s < sent.end and sent.start < e for s, e in ctx.quotes)
    if in_quote:
        nxt = ctx.sentences[min(sent.index + 2, len(ctx.sentences) - 1)].end
        if bisect.bisect_left(fig_starts, sent.end) < bisect.bisect_left(fig_starts, nxt):
            return True  # a quote whose speaker is named right after it
    if not has_recent:
        return False
    if carry:
        return True
    if words & THIRD_PERSON or any(f"the {r}" in low for r in ROLE_NOUNS):
        return True  # "he said …", "the president said …" right after a figure
    return any(s < sent.end and sent.start < e for s, e in ctx.quotes)


def possessor_pronoun(ctx: ArticleContext, i: int, doc: Doc, tok, fig_of_tok: dict[int, str]) -> str | None:
    """ "Diplomats welcomed his call for …": the figure that was the last subject before this sentence.

    Only in a sentence that names no figure and whose subject is no pronoun: there "his" most likely is the
    subject himself ("He dropped his demand for …"), and the sentence rules read the verb he chose.
    """
    if fig_of_tok or any(t.dep_ in ("nsubj", "nsubjpass") and t.lower_ in THIRD_PERSON for t in doc):
        return None
    return resolve_pronoun(ctx, i, doc, tok.i)


def clause_holders(
    ctx: ArticleContext, i: int, doc: Doc, c, span, fig_of_tok: dict[int, str]
) -> list[tuple[str, float]]:
    ref = c.holder
    if ref is not None and ref.kind in ("figure", "pronoun") and ref.token is not None:
        if inside(ctx.quotes, ctx.sentences[i].start + doc[ref.token].idx) is not None:
            return []  # '"He asks for Tomahawks," Trump said': the speaker's account of someone else
    if owned_by_another(c, ref, fig_of_tok):
        return []
    labelled = ctx.speakers.get(ctx.sentences[i].paragraph)
    if labelled is not None and ref is not None and ref.kind == "figure" and ref.figure != labelled:
        return []  # "ZELENSKY: … President Trump told me he needs them": the speaker's account of Trump
    if ref is not None and ref.kind == "figure" and ref.figure:
        return [(ref.figure, 0.0)]
    if ref is not None and ref.kind == "pronoun":
        fig = resolve_pronoun(ctx, i, doc, ref.token, role=ref.role)
        return [(fig, 0.05)] if fig else []
    labelled = ctx.speakers.get(ctx.sentences[i].paragraph)
    if ref is not None and ref.kind == "first-person":
        quote = inside(ctx.quotes, ctx.sentences[i].start + doc[ref.token].idx)
        fig = quote_speaker(ctx, quote) if quote else labelled
        return [(fig, 0.05)] if fig else []
    reported = c.passive_subject_of is not None and c.passive_subject_of.dep_ in COMPLEMENT_DEPS
    if c.passive_subject_of is not None and (ref is None or (ref.kind == "other" and not reported)):
        # ... but "the White House said a meeting was not being planned" is the White House's claim.
        # "A meeting between Trump and Putin was cancelled": the participants' event.
        figs = sorted(
            {fig_of_tok[t.i] for t in span.root.subtree if t.i in fig_of_tok and not _in_relative(t, span.root)}
        )
        return [(f, 0.15) for f in figs]
    if ref is not None and ref.kind == "other" and doc[ref.token or 0].lower_ in OTHER_PARTY:
        return []  # '"They want a pause to rearm," Putin said': his account of another party
    if ref is None or (ref.kind == "other" and not is_person(doc[ref.token or 0])):
        # Inside a quotation every claim is the speaker's own: '"Ukraine belongs in the alliance," he said.'
        top = c.path[-1] if c.path else None
        quote = inside(ctx.quotes, ctx.sentences[i].start + span.root.idx)
        if quote is not None and top is not None and _quote_covers(ctx, i, top, quote):
            fig = quote_speaker(ctx, quote)
            return [(fig, 0.1)] if fig else []
        if quote is None and labelled is not None and top is not None and top.dep_ == "ROOT":
            return [(labelled, 0.1)]  # an interview answer: every claim in it is the speaker's
    return []


def subject_of_sentence(ctx: ArticleContext, i: int, depth: int = 0) -> HolderRef | None:
    """The main subject of sentence ``i``, resolved to a figure when it is one."""
    if i in ctx.subject_cache:
        return ctx.subject_cache[i]
    ctx.parse([i])
    doc = ctx.docs.get(i)
    result: HolderRef | None = None
    if doc is not None:
        fig_of_tok = ctx.figure_tokens(i, doc)
        root = next((t for t in doc if t.dep_ == "ROOT"), None)
        subj = None
        if root is not None:
            subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is not None:
            result = classify(subj, fig_of_tok)
            if result is not None and result.kind == "pronoun" and depth < 3:
                fig = resolve_pronoun(ctx, i, doc, subj.i, depth + 1, role=result.role)
                result = HolderRef("figure", fig, subj.i) if fig else HolderRef("other", None, subj.i)
            elif result is not None and result.kind == "other" and not is_person(doc[subj.i]):
                result = None
    ctx.subject_cache[i] = result
    return result


def _role_fits(ctx: ArticleContext, figure: str, role: str | None) -> bool:
    """ "the secretary-general" can be Rutte, never Putin: the role word must be in the figure's role or titles."""
    if role is None:
        return True
    fig = ctx.watchlist.by_figure[figure]
    return any(role in t.lower() for t in (fig.role, *fig.titles))


def resolve_pronoun(
    ctx: ArticleContext, i: int, doc: Doc, tok_i: int | None, depth: int = 0, role: str | None = None
) -> str | None:
    """He/his (or a bare role title) after a figure was the subject: the nearest preceding person subject."""
    sent = ctx.sentences[i]
    if tok_i is not None and depth < 3 and any(a.dep_ == "advcl" for a in doc[tok_i].ancestors):
        # "Asked whether he would go, Trump said …": a fronted clause's pronoun is the main subject.
        main = subject_of_sentence(ctx, i, depth + 1)
        if main is not None and main.kind == "figure" and (main.token or 0) > tok_i:
            if _role_fits(ctx, main.figure or "", role):
                return main.figure
    if tok_i is not None:  # a figure named earlier in the same sentence ("Trump told reporters he …")
        cut = sent.start + doc[tok_i].idx
        before = [h for h in ctx.scan.figures if sent.start <= h.start < cut and _role_fits(ctx, h.key, role)]
        if before:
            first_subject = subject_of_sentence(ctx, i, depth + 1) if depth < 3 else None
            if first_subject is not None and first_subject.kind == "figure":
                if _role_fits(ctx, first_subject.figure or "", role):
                    return first_subject.figure
            elif first_subject is None and len({h.key for h in before}) == 1:
                return before[0].key  # "Zelenskyy posts on X that he wants …" parsed without a subject
    for j in range(i - 1, max(-1, i - LOOKBACK - 1), -1):
        if ctx.sentences[j].paragraph < sent.paragraph - 1:
            break
        ref = subject_of_sentence(ctx, j, depth + 1) if depth < 4 else None
        if ref is None or (ref.kind == "figure" and not _role_fits(ctx, ref.figure or "", role)):
            named = {
                h.key
                for h in ctx.scan.figures
                if ctx.sentences[j].start <= h.start < ctx.sentences[j].end and _role_fits(ctx, h.key, role)
            }
            if len(named) == 1:
                return named.pop()  # no usable parsed subject, but only one fitting figure was named there
            continue
        if ref.kind == "figure":
            return ref.figure
        if ref.kind == "other":
            return None  # another person was the last subject: do not guess
    return None


def quote_speaker(ctx: ArticleContext, quote: tuple[int, int]) -> str | None:
    qs, qe = quote
    starts = [s.start for s in ctx.sentences]
    first = bisect.bisect_right(starts, qs) - 1
    last = bisect.bisect_right(starts, max(qs, qe - 1)) - 1
    order = []
    if first >= 0 and ctx.sentences[first].start < qs - 1:
        order.append(first)  # Trump said, "…" / …, stating, "…"
    if last >= 0 and ctx.sentences[last].end > qe + 1:
        order.append(last)  # "…," he stated.
    elif 0 <= last < len(ctx.sentences) - 1:
        nxt = ctx.sentences[last + 1]
        if nxt.paragraph == ctx.sentences[last].paragraph and nxt.start - qe <= 2:
            order.append(last + 1)  # '"… now?" Trump said.': the question mark ended the sentence
    for j in order:
        ref = subject_of_sentence(ctx, j)
        if ref is not None and ref.kind == "figure":
            return ref.figure
        speaker = _speech_subject(ctx, j, quote)
        if speaker is not None:
            return speaker
        if ref is None:  # the attribution may sit outside the quote without being the root subject
            outside = [
                h
                for h in ctx.scan.figures
                if ctx.sentences[j].start <= h.start < ctx.sentences[j].end
                and not (qs <= h.start < qe)
                and not _described(ctx, j, h.start)
            ]
            if len({h.key for h in outside}) == 1:
                return outside[0].key
    return None


def _described(ctx: ArticleContext, j: int, start: int) -> bool:
    """A figure named inside a relative clause ("the tariffs Trump ordered") is described, not speaking."""
    doc = ctx.docs.get(j)
    if doc is None:
        return False
    tok = next((t for t in doc if ctx.sentences[j].start + t.idx == start), None)
    return tok is not None and any(a.dep_ in ("relcl", "acl") for a in [tok, *tok.ancestors])


def _speech_subject(ctx: ArticleContext, j: int, quote: tuple[int, int]) -> str | None:
    """The figure that is the subject of a speech verb outside the quote ('…," the Ukrainian leader said')."""
    ctx.parse([j])
    doc = ctx.docs.get(j)
    if doc is None:
        return None
    base = ctx.sentences[j].start
    fig_of_tok = ctx.figure_tokens(j, doc)
    for tok in doc:
        if tok.lemma_.lower() not in SPEECH_VERBS or inside([quote], base + tok.idx):
            continue
        subj = next((c for c in tok.children if c.dep_ == "nsubj"), None)
        ref = classify(subj, fig_of_tok) if subj is not None else None
        if ref is not None and ref.kind == "figure":
            return ref.figure
        if ref is not None and ref.kind == "pronoun":
            return resolve_pronoun(ctx, j, doc, ref.token, 1)
    return None


def present(ctx: ArticleContext, i: int, doc: Doc, cue: CueMatch, fig_of_tok: dict[int, str]) -> list[str]:
    """Figures present in sentence ``i``: named in it, its paragraph's speaker, its quote's speaker, or
    the figure its pronoun subject stands for."""
    out = sorted(set(fig_of_tok.values()))
    sent = ctx.sentences[i]
    speaker = ctx.speakers.get(sent.paragraph)
    if speaker is not None:
        out.append(speaker)
    quote = inside(ctx.quotes, sent.start + cue.start)
    if quote is not None:
        said = quote_speaker(ctx, quote)
        if said is not None:
            out.append(said)
    if not fig_of_tok:
        ref = subject_of_sentence(ctx, i)
        if ref is not None and ref.kind == "figure" and ref.figure:
            out.append(ref.figure)
    return list(dict.fromkeys(out))


def reported_wish(ctx: ArticleContext, i: int, doc: Doc, c) -> bool:
    """'"He asks for Tomahawks," Trump said': inside his quote, the speaker reports another person's wish.

    Outside quotes the pronoun is the speaker ("Trump said he wants …"), and a named figure's wish reported
    by another ("Rutte said Trump wants …") stays the speaker's stance, as before.
    """
    w, ref = c.wisher, c.holder
    if w is not None and w.kind == "other" and w.token is not None and doc[w.token].lower_ in OTHER_PARTY:
        return True  # '"They want a truce to rearm," Putin said', "Trump said everybody wants them"
    if w is None or ref is None or w.kind != "pronoun":
        return False
    return w.token is not None and inside(ctx.quotes, ctx.sentences[i].start + doc[w.token].idx) is not None


def owned_by_another(c, ref: HolderRef | None, fig_of_tok: dict[int, str]) -> bool:
    """ "Ukraine's offer to set aside its NATO bid", "Kyiv's request for missiles": a proposal on the path that
    belongs to a possessor other than the holder is that possessor's position, reported, not the holder's."""
    for tok in c.path[1:]:
        if tok.pos_ != "NOUN" or tok.lemma_.lower() not in STANCE_NOUNS or tok.dep_ in ("nsubj", "nsubjpass"):
            continue  # as a subject it is judged by the holder ("Trump's decision … was a mistake")
        poss = next((x for x in tok.children if x.dep_ == "poss"), None)
        if poss is None or poss.lower_ in ("his", "her", "its", "their", "my", "our"):
            continue
        owner = fig_of_tok.get(poss.i)
        if owner is None or ref is None or ref.figure != owner:
            return True
    return _inside_others_speech(c, ref, fig_of_tok)


def _inside_others_speech(c, ref: HolderRef | None, fig_of_tok: dict[int, str]) -> bool:
    """ "Trump said he would not meet Putin while the Russian leader rejected a truce": a figure's clause
    hanging inside another subject's speech is that speaker's account of it."""
    hv = c.holder_verb
    if hv is None or ref is None or ref.kind != "figure":
        return False
    for anc in hv.ancestors:
        if anc.lemma_.lower() not in SPEECH_VERBS:
            continue
        subj = next((x for x in anc.children if x.dep_ == "nsubj"), None)
        if subj is not None and subj.i != ref.token and fig_of_tok.get(subj.i) != ref.figure:
            return True
    return False


def _quote_covers(ctx: ArticleContext, i: int, top, quote: tuple[int, int]) -> bool:
    """The clause the climb ended on lies inside the quotation (not a reporting verb outside it)."""
    return inside([quote], ctx.sentences[i].start + top.idx) is not None


def is_person(token) -> bool:
    low = token.lower_
    if token.lemma_.lower() in _PERSON_NOUNS:
        return True
    if token.pos_ == "PROPN" and low not in _INSTITUTIONS:
        # The name itself ("Kremlin spokesman Peskov"), not a clause about it ("Dmitriev, who heads a fund …").
        name = " ".join(t.lower_ for t in token.children if t.dep_ in ("compound", "flat")) + f" {low}"
        return not any(w in name.split() for w in _INSTITUTIONS)
    return False


def _in_relative(tok, root) -> bool:
    """ "sanctions, which Trump discussed, …": a figure inside a relative clause on the cue only describes it."""
    cur = tok
    while cur.i != root.i and cur.head.i != cur.i:
        if cur.dep_ in ("relcl", "acl"):
            return True
        cur = cur.head
    return False
