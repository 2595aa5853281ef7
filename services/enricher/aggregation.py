"""Stage 4, aggregation: the findings of one article become one observation per (figure, topic)."""

from __future__ import annotations

from services.enricher.context import ArticleContext, Finding
from shared.contracts import ArticleRef, Evidence, ExtractorInfo, PastStance, RawArticle, StanceObservation

EVIDENCE_PER_OBSERVATION = 3


def aggregate(
    findings: list[Finding], ctx: ArticleContext, article: RawArticle, ref: ArticleRef, extractor: ExtractorInfo
) -> list[StanceObservation]:
    """One observation per (figure, topic) with a current finding: the stance with the most confidence behind it,
    its evidence, and the different earlier stance the article reports, if any."""
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        grouped.setdefault((f.figure, f.topic), []).append(f)
    out: list[StanceObservation] = []
    for (figure, topic_id), items in sorted(grouped.items()):
        current = [f for f in items if not f.past]
        if not current:
            continue  # only a reported past stance: nothing current to observe
        weight: dict[str, float] = {}
        first_seen: dict[str, int] = {}
        for f in current:
            weight[f.stance] = weight.get(f.stance, 0.0) + f.confidence
            first_seen.setdefault(f.stance, f.sentence)
        stance = max(weight, key=lambda s: (weight[s], -first_seen[s]))
        agree = [f for f in current if f.stance == stance]
        total = sum(weight.values())
        best = max(f.confidence for f in agree)
        confidence = min(0.95, best + 0.05 * (len(agree) - 1)) * (weight[stance] / total)
        past_items = [f for f in items if f.past and f.stance in ("support", "oppose") and f.stance != stance]
        past = None
        if past_items:
            past_stance = past_items[0].stance
            past = PastStance(
                stance=past_stance,
                evidence=_evidence(ctx, [f for f in past_items if f.stance == past_stance]),
            )
        fig = ctx.watchlist.by_figure[figure]
        out.append(
            StanceObservation(
                article_id=article.id,
                actor=figure,
                topic=topic_id,
                stance=stance,
                confidence=round(confidence, 3),
                evidence=_evidence(ctx, agree),
                past=past,
                article=ref,
                extractor=extractor,
                actor_name=fig.name,
                topic_label=ctx.watchlist.by_topic[topic_id].label,
            )
        )
    return out


def _evidence(ctx: ArticleContext, items: list[Finding]) -> list[Evidence]:
    idx = sorted({f.sentence for f in items})[:EVIDENCE_PER_OBSERVATION]
    return [Evidence(text=ctx.sentences[i].text, start=ctx.sentences[i].start, end=ctx.sentences[i].end) for i in idx]
