"""Stage 1, topic cues: the watchlist's cue patterns on sentences that hold an anchor, anaphors ("the weapons")
only once their topic was named, and plural object pronouns ("send them") for the latest object cue."""

from __future__ import annotations

import bisect
import re

from services.enricher.context import ArticleContext, CueMatch
from services.enricher.watchlist import Topic

#: Plural object pronouns that can stand for a topic's object ("send them", "giving those out").
_OBJECT_PRONOUN = re.compile(r"(?<=\w )(?:them|those)\b(?!\s+(?:who|which|that|of)\b)")


def topic_cues(ctx: ArticleContext) -> list[CueMatch]:
    starts = [s.start for s in ctx.sentences]
    by_sentence: dict[int, set[str]] = {}
    for hit in ctx.scan.anchors:
        i = bisect.bisect_right(starts, hit.start) - 1
        if i >= 0:
            by_sentence.setdefault(i, set()).add(hit.key)
    fig_sentences: dict[int, set[str]] = {}
    for hit in ctx.scan.figures:
        i = bisect.bisect_right(starts, hit.start) - 1
        if i >= 0:
            fig_sentences.setdefault(i, set()).add(hit.key)
    seen_topics: set[str] = set()
    last_seen: dict[str, int] = {}
    out: list[CueMatch] = []
    for i in sorted(by_sentence):
        sent = ctx.sentences[i]
        window = " ".join([ctx.title, *(s.text for s in ctx.sentences[max(0, i - 2) : i + 2])])
        window_figs = set().union(*(fig_sentences.get(j, set()) for j in range(max(0, i - 2), i + 1)))
        found: list[CueMatch] = []
        for tid in sorted(by_sentence[i]):
            topic = ctx.watchlist.by_topic[tid]
            if not _topic_context_ok(topic, window, window_figs):
                continue
            # Anaphors ("the weapons") last: they may refer to the topic named earlier in this sentence.
            for cue in sorted(topic.cues, key=lambda c: c.anaphoric):
                if cue.anaphoric and tid not in seen_topics and not any(f.topic == tid for f in found):
                    continue
                if cue.context is not None and not cue.context.search(window):
                    continue
                for m in cue.regex.finditer(sent.text):
                    if cue.anaphoric and tid not in seen_topics:
                        if not any(f.topic == tid and not f.anaphoric and f.end <= m.start() for f in found):
                            continue
                    found.append(CueMatch(i, tid, m.start(), m.end(), cue.sign, cue.anaphoric, cue.target))
        kept = _without_overlaps(found, last_seen)
        seen_topics.update(c.topic for c in kept if not c.anaphoric)
        last_seen.update({c.topic: i for c in kept if not c.anaphoric})
        out.extend(kept)
    return sorted(out + _object_pronouns(ctx, out), key=lambda c: (c.sentence, c.start, c.topic))


def _object_pronouns(ctx: ArticleContext, cues: list[CueMatch]) -> list[CueMatch]:
    """ "might send them", "called them an unfriendly act": a plural pronoun takes the most recent object cue.

    Only neutral (object) cues are antecedents, at most two sentences back in the same or the previous
    paragraph; the governing words must still carry the stance, as for any neutral cue.
    """
    # Only plural objects ("the missiles", "sanctions") can be "them"; "a meeting" cannot.
    objects = [c for c in cues if c.sign == 0 and not c.anaphoric and _plural(ctx, c)]
    if not objects:
        return []
    taken = {(c.sentence, c.start) for c in cues}
    out: list[CueMatch] = []
    first = objects[0].sentence
    for i in range(first, min(len(ctx.sentences), objects[-1].sentence + 3)):
        sent = ctx.sentences[i]
        for m in _OBJECT_PRONOUN.finditer(sent.text):
            if (i, m.start()) in taken:
                continue
            before = [
                c
                for c in objects
                if (c.sentence < i or (c.sentence == i and c.end <= m.start()))
                and c.sentence >= i - 2
                and ctx.sentences[c.sentence].paragraph >= sent.paragraph - 1
            ]
            if before:
                ante = max(before, key=lambda c: (c.sentence, c.start))
                out.append(CueMatch(i, ante.topic, m.start(), m.end(), 0, True))
    return out


def _topic_context_ok(topic: Topic, window: str, window_figs: set[str]) -> bool:
    if topic.context is not None and not topic.context.search(window):
        return False
    if topic.context_figures and not (topic.context_figures & window_figs):
        return False
    return True


def _plural(ctx: ArticleContext, cue: CueMatch) -> bool:
    word = ctx.sentences[cue.sentence].text[cue.start : cue.end].split()[-1].lower()
    return word.endswith("s") or word in ("arms", "weaponry")


def _without_overlaps(found: list[CueMatch], last_seen: dict[str, int] | None = None) -> list[CueMatch]:
    """Keep the longest cue where two overlap ("long-range weapons" is Tomahawks, not generic aid).

    An anaphor ("the weapons") that fits two topics goes to the one named most recently.
    """
    recent = last_seen or {}
    ordered = sorted(
        found, key=lambda c: (-(c.end - c.start), c.start, -recent.get(c.topic, -1) if c.anaphoric else 0, c.topic)
    )
    kept: list[CueMatch] = []
    for c in ordered:
        if any(c.start < k.end and k.start < c.end for k in kept):
            continue
        kept.append(c)
    return sorted(kept, key=lambda c: (c.start, c.topic))
