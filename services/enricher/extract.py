"""The pure enrichment step: ``Enricher.enrich(article) -> EnrichedArticle``.

Order of work, cheapest first: guards on the raw text, one Aho-Corasick pass, sentence split,
topic cue patterns on sentences that hold an anchor, and only then the dependency parser, on
candidate sentences (a cue plus a figure, or a pronoun/quote near one) and the few sentences
needed to resolve their pronouns. Same article in, same output out.

The stages are modules over one per-article :class:`~services.enricher.context.ArticleContext`: ``cues``
(topic cues), ``holders`` and ``participants`` (whose clause it is), ``discourse`` (who is still speaking when
the sentence names no one: carried holders, for judges that read them), ``polarity`` (the rules' reading and its
timing, from ``stance``), then the judge, then ``aggregation`` (one observation per figure and topic). This
module runs them in order, and reads the headline with the same stages.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from importlib import metadata

from spacy.language import Language
from spacy.tokens import Doc

from services.enricher import RULES_VERSION
from services.enricher.aggregation import aggregate
from services.enricher.candidates import CandidateScanner, Scan
from services.enricher.context import WORD, ArticleContext, CueMatch, Finding
from services.enricher.cues import topic_cues
from services.enricher.discourse import continues
from services.enricher.headline import explicit_verb, full_name_subject, headline_clauses, is_title_case, sentence_case
from services.enricher.holders import is_candidate, present, speaker_labels
from services.enricher.judges.base import Query, RuleReading, StanceJudge
from services.enricher.judges.rules import RuleJudge
from services.enricher.lexicons import words
from services.enricher.mentions import count_mentions
from services.enricher.nlp import model_label
from services.enricher.polarity import CARRIED_PENALTY, rule_readings
from services.enricher.sentences import Sentence, mask_markup, quote_spans, split_sentences
from services.enricher.watchlist import Watchlist
from shared.contracts import (
    ActorMention,
    ArticleRef,
    EnrichedArticle,
    Entity,
    ExtractorInfo,
    RawArticle,
    StanceObservation,
)

_STOPWORDS = words("stopwords")
#: Longest headline read (the ingester cuts titles here too); a hostile 1 MB title would take minutes to parse.
MAX_TITLE_CHARS = 1_000
#: Attribution uncertainty of a figure the rules did not attribute the clause to (read by the trained judge).
OPEN_HOLDER_PENALTY = 0.05


@dataclass(frozen=True)
class _Pending:
    """A query waiting for the judge, with what attribution and timing already decided."""

    query: Query
    penalty: float  # attribution uncertainty (a pronoun, a passive) taken off the judge's probability
    past: bool
    cue: CueMatch


def _package_version() -> str:
    try:
        return metadata.version("stancewatch")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def bad_input_reason(text: str, max_chars: int) -> str | None:
    """Why a text cannot be analysed at all, or None."""
    if not text or not text.strip():
        return "empty text"
    if len(text) > max_chars:
        return f"too large: {len(text)} characters > {max_chars}"
    sample = text[:20_000]
    control = sum(1 for c in sample if (ord(c) < 32 and c not in "\n\r\t") or c == "\ufffd")
    if control > max(3, len(sample) // 100):
        return "binary or undecodable content"
    return None


def looks_english(text: str) -> bool:
    words = WORD.findall(text[:5_000].lower())
    if len(words) < 20:
        return True  # too short to judge; the cue patterns are English anyway
    return sum(1 for w in words if w in _STOPWORDS) / len(words) >= 0.08


class Enricher:
    """Holds the watchlist matchers and the loaded pipeline; ``enrich`` is pure and deterministic."""

    def __init__(
        self,
        watchlist: Watchlist,
        nlp: Language,
        *,
        full_ner: bool = False,
        ner_nlp: Language | None = None,
        max_text_chars: int = 200_000,
        max_sentence_chars: int = 1_000,
        max_parsed_sentences: int = 80,
        judge: StanceJudge | None = None,
    ) -> None:
        self.watchlist = watchlist
        #: Decides polarity for every (figure, topic, sentence) the extractor attributes.
        self.judge: StanceJudge = judge or RuleJudge()
        #: Whether figures the rules did not attribute are also put to the judge (a judge that says so).
        self.open_holders = bool(getattr(self.judge, "reads_open_holders", False))
        #: Whether clauses the sentence rules leave without a holder go to the figure still speaking (``discourse``).
        self.carry = bool(getattr(self.judge, "reads_carried_holders", False))
        self.nlp = nlp
        self.ner_nlp = ner_nlp
        self.full_ner = full_ner and ner_nlp is not None
        self.max_text_chars = max_text_chars
        self.max_sentence_chars = max_sentence_chars
        self.max_parsed_sentences = max_parsed_sentences
        self.scanner = CandidateScanner(watchlist)
        settings_key = (
            f"{watchlist.digest}|{model_label(nlp)}|{full_ner}|{max_text_chars}|{max_sentence_chars}|{self.judge.id}"
        )
        self.extractor = ExtractorInfo(
            version=f"{_package_version()}+{RULES_VERSION}",
            config_hash=hashlib.sha256(settings_key.encode()).hexdigest()[:12],
            model=model_label(nlp),
            judge=self.judge.id,
        )
        #: Counters the service exports: why articles were skipped, how much was parsed.
        self.stats: Counter[str] = Counter()

    def _context(
        self, text: str, title: str, sentences: list[Sentence], scan: Scan, quotes: list[tuple[int, int]]
    ) -> ArticleContext:
        """The per-article context the stages read, with this enricher's watchlist, parser and parse budget."""
        return ArticleContext(text, title, sentences, scan, quotes, self.watchlist, self.nlp, self.max_parsed_sentences)

    # -- public ---------------------------------------------------------------------------------

    def enrich(self, article: RawArticle) -> EnrichedArticle:
        if len(article.title) > MAX_TITLE_CHARS:  # the headline is parsed: bound it like the text
            article = article.model_copy(update={"title": article.title[:MAX_TITLE_CHARS]})
        ref = ArticleRef.of(article)
        reason = bad_input_reason(article.text, self.max_text_chars)
        if reason:
            self.stats["skipped"] += 1
            return EnrichedArticle(article=ref, extractor=self.extractor, skipped_reason=reason)
        text = mask_markup(article.text)
        scan = self.scanner.scan(text)
        counts = count_mentions(scan.figures)
        mentions = [ActorMention(actor=a, count=n) for a, n in sorted(counts.items())]
        if not scan.anchors:
            return EnrichedArticle(article=ref, mentions=mentions, extractor=self.extractor)
        headline = self._headline_findings(article) if scan.has_figure else []
        if len(text) > 2_000 and not re.search(r"[.!?…]", text):
            self.stats["skipped"] += 1
            return EnrichedArticle(
                article=ref, mentions=mentions, extractor=self.extractor, skipped_reason="no sentence punctuation"
            )
        if not looks_english(text):
            self.stats["skipped"] += 1
            return EnrichedArticle(
                article=ref, mentions=mentions, extractor=self.extractor, skipped_reason="not English"
            )
        sentences = split_sentences(text, self.max_sentence_chars)
        dateline = text[: sentences[0].start] if sentences else ""  # "KYIV —" sets the scene too
        ctx = self._context(
            text,
            f"{article.title or ''} {dateline[:80]}",
            sentences,
            scan,
            quote_spans(text) if scan.has_figure else [],
        )
        ctx.speakers, ctx.other_speakers = speaker_labels(ctx)
        cues = topic_cues(ctx)
        topics = sorted({c.topic for c in cues if not c.anaphoric})
        entities = self._entities(text) if self.full_ner else []
        observations: list[StanceObservation] = []
        findings = self._findings(ctx, cues, article) if scan.has_figure and cues else []
        findings += self._headline_restated(ctx, cues, findings, headline)
        if findings:
            observations = aggregate(findings, ctx, article, ref, self.extractor)
        return EnrichedArticle(
            article=ref,
            mentions=mentions,
            topics=topics,
            observations=observations,
            entities=entities,
            extractor=self.extractor,
        )

    # -- headline -------------------------------------------------------------------------------

    def _headline_findings(self, article: RawArticle) -> list[Finding]:
        """Current stances the headline states, read by the same rules as a body sentence.

        Each clause is its own paragraph so a pronoun never reaches into another story of the headline. A
        clause with an explicit stance verb keeps a confidence the alerter acts on (0.6); any other reading of
        a headline stays below the alerter's 0.5 threshold (0.45): recorded, but never moving a position alone.
        """
        clauses = [self._parseable(c, article.text) for c in headline_clauses(article.title)]
        if not clauses:
            return []
        text = "\n".join(clauses)
        scan = self.scanner.scan(text)
        if not scan.has_figure or not scan.anchors:
            return []
        ctx = self._context(text, "", split_sentences(text, self.max_sentence_chars), scan, quote_spans(text))
        cues = topic_cues(ctx)
        if not cues:
            return []
        out = []
        for f in self._findings(ctx, cues, article):
            if f.past:
                continue  # "once backed …": a headline's history is not a stance to report now
            clause = ctx.sentences[f.sentence].text
            cap = 0.6 if explicit_verb(clause, f.cue_start) and f.stance != "undecided" else 0.45
            f.confidence = min(cap, f.confidence) if not isinstance(self.judge, RuleJudge) else cap
            out.append(f)
        return out

    def _parseable(self, clause: str, body: str) -> str:
        """A headline clause in the grammar of body prose: sentence case, full name for an opening surname."""
        if is_title_case(clause):
            keep = tuple((h.start, h.end) for h in self.scanner.scan(clause).figures)
            clause = sentence_case(clause, body, keep)
        hits = [h for h in self.scanner.scan(clause).figures if h.kind == "name" and h.start == 0]
        if hits:
            clause = full_name_subject(clause, hits[0].start, hits[0].end, self.watchlist.by_figure[hits[0].key].name)
        return clause

    def _headline_restated(
        self, ctx: ArticleContext, cues: list[CueMatch], body: list[Finding], headline: list[Finding]
    ) -> list[Finding]:
        """Headline stances the body leaves open, with evidence in the body.

        The body wins: any current body finding for the (figure, topic) keeps the headline out. The evidence
        is the first body sentence naming the figure next to a cue of the topic (the body restating the
        headline); failing that, the first body sentence naming the figure. A figure the body never names gets
        no headline observation: there is no sentence of the article to point at.
        """
        if not headline:
            return []
        decided = {(f.figure, f.topic) for f in body if not f.past}
        starts = [s.start for s in ctx.sentences]
        named: dict[str, list[int]] = {}
        for hit in ctx.scan.figures:
            i = bisect.bisect_right(starts, hit.start) - 1
            if i >= 0:
                named.setdefault(hit.key, []).append(i)
        cue_sentences: dict[str, set[int]] = {}
        for c in cues:
            cue_sentences.setdefault(c.topic, set()).add(c.sentence)
        out: list[Finding] = []
        for f in headline:
            key = (f.figure, f.topic)
            if key in decided or f.figure not in named:
                continue
            both = sorted(set(named[f.figure]) & cue_sentences.get(f.topic, set()))
            sentence = both[0] if both else min(named[f.figure])
            decided.add(key)
            out.append(Finding(f.figure, f.topic, f.stance, False, f.confidence, sentence))
        return out

    # -- stances: candidates, holders and polarity (stages 2-3), then the judge ----------------------

    def _findings(self, ctx: ArticleContext, cues: list[CueMatch], article: RawArticle) -> list[Finding]:
        fig_starts = sorted(h.start for h in ctx.scan.figures)
        candidates: dict[int, list[CueMatch]] = {}
        for cue in cues:
            sent = ctx.sentences[cue.sentence]
            if sent.paragraph in ctx.other_speakers:
                continue  # a host's question or summary ("CALLOWAY: Zelenskyy says he still wants …")
            if is_candidate(ctx, sent, fig_starts, carry=self.carry):
                candidates.setdefault(cue.sentence, []).append(cue)
        todo = sorted(candidates)[: self.max_parsed_sentences]
        ctx.parse(todo)
        pending: list[_Pending] = []
        for i in todo:
            doc = ctx.docs[i]
            sent = ctx.sentences[i]
            fig_of_tok = ctx.figure_tokens(i, doc)
            for cue in candidates[i]:
                span = doc.char_span(cue.start, cue.end, alignment_mode="expand")
                if span is None or len(span) == 0:
                    continue
                read, past = rule_readings(ctx, i, doc, cue, span, fig_of_tok, article, carry=self.carry)
                for figure, penalty, reading in read:
                    pending.append(_Pending(self._query(ctx, i, doc, cue, figure, reading, past), penalty, past, cue))
                if self.open_holders:
                    # The trained judge also reads every figure present in the sentence that the rules did
                    # not attribute: it was trained to answer "none" for another person's view.
                    taken = {figure for figure, _, _ in read}
                    for figure in present(ctx, i, doc, cue, fig_of_tok):
                        if figure not in taken:
                            q = self._query(ctx, i, doc, cue, figure, None, past)
                            pending.append(_Pending(q, OPEN_HOLDER_PENALTY, past, cue))
        if self.carry:
            pending += self._answers(
                ctx, cues, {(p.query.figure_id, p.cue.topic, ctx.sentences[p.cue.sentence].paragraph) for p in pending}
            )
        verdicts = self.judge.judge([p.query for p in pending])
        if self.carry:
            open_ = [
                p
                for p, v in zip(pending, verdicts, strict=True)
                if v.stance is None
                and p.query.rules is not None
                and p.query.rules.path == "clause"
                and not p.past
                and p.query.rules.stance is None
            ]
            more = self._continued(ctx, open_)
            pending += more
            verdicts += self.judge.judge([p.query for p in more])
        findings: list[Finding] = []
        for p, v in zip(pending, verdicts, strict=True):
            if v.stance is None:
                continue
            conf = round(max(0.0, v.probability - p.penalty), 3)
            findings.append(
                Finding(p.query.figure_id, p.cue.topic, v.stance, p.past, conf, p.cue.sentence, p.cue.start)
            )
        self.stats["parsed_sentences"] += len(ctx.docs)
        return findings

    def _carried(self, ctx: ArticleContext, figure: str, topic: str, i: int, context: str) -> _Pending:
        """A query on the ``carried`` path: sentence ``i`` read for ``figure`` on ``topic``, the model to confirm."""
        fig, top = self.watchlist.by_figure[figure], self.watchlist.by_topic[topic]
        query = Query(
            figure_id=figure,
            figure_name=fig.name,
            topic_id=top.id,
            topic_label=top.label,
            topic_support=top.support,
            topic_oppose=top.oppose,
            sentence=ctx.sentences[i].text,
            context=context,
            rules=RuleReading(None, False, "carried"),
        )
        return _Pending(query, CARRIED_PENALTY, False, CueMatch(i, topic, 0, 0, 0, False))

    def _answers(self, ctx: ArticleContext, cues: list[CueMatch], asked: set[tuple[str, str, int]]) -> list[_Pending]:
        """Interviews: a question names the topic, the figure's answer gives the stance ("Q: Will you send them? /
        TRUMP: I haven't decided."). The answer's first sentence is put to the judge with the question as its
        context, the figure as holder. A question is a host's paragraph, or any paragraph not the figure's that
        ends with a question mark."""
        out: list[_Pending] = []
        first: dict[int, int] = {}
        for s in ctx.sentences:
            first.setdefault(s.paragraph, s.index)
        for paragraph, figure in sorted(ctx.speakers.items()):
            question = [s for s in ctx.sentences if s.paragraph == paragraph - 1]
            if not question or paragraph not in first:
                continue
            asks = question[-1].text.rstrip(" \"”’'").endswith("?") and ctx.speakers.get(paragraph - 1) != figure
            if paragraph - 1 not in ctx.other_speakers and not asks:
                continue
            for topic in sorted({c.topic for c in cues if ctx.sentences[c.sentence].paragraph == paragraph - 1}):
                if (figure, topic, paragraph) in asked:
                    continue  # the answer names the topic itself: read as any sentence of the figure's
                context = " ".join(s.text for s in question[-2:])
                out.append(self._carried(ctx, figure, topic, first[paragraph], context))
        return out

    def _continued(self, ctx: ArticleContext, open_: list[_Pending]) -> list[_Pending]:
        """A figure's clause on a topic that gives no stance ("Asked about the missiles, he …", "The president
        was less definitive on Tomahawks.") is often answered by the next sentence, which does not repeat the
        topic: that sentence is read for the figure, with the clause as its context, when nobody else speaks
        in it (the next paragraph counts when it opens with a quotation)."""
        out: list[_Pending] = []
        seen: set[tuple[str, str, int]] = set()
        for p in open_:
            i, figure, topic = p.cue.sentence, p.query.figure_id, p.cue.topic
            n = i + 1
            if n >= len(ctx.sentences) or (figure, topic, n) in seen:
                continue
            nxt = ctx.sentences[n]
            if nxt.paragraph != ctx.sentences[i].paragraph and not nxt.text.lstrip().startswith(('"', "“")):
                continue
            if nxt.paragraph in ctx.other_speakers or not continues(ctx, n, figure):
                continue
            seen.add((figure, topic, n))
            out.append(self._carried(ctx, figure, topic, n, ctx.sentences[i].text))
        return out

    def _query(
        self, ctx: ArticleContext, i: int, doc: Doc, cue: CueMatch, figure: str, reading: RuleReading | None, past: bool
    ) -> Query:
        """What the judge reads: the attributed figure, the topic's definition, the sentence and the one before."""
        fig, topic = self.watchlist.by_figure[figure], self.watchlist.by_topic[cue.topic]
        context = ctx.sentences[i - 1].text if i > 0 else ""
        return Query(
            figure_id=figure,
            figure_name=fig.name,
            topic_id=topic.id,
            topic_label=topic.label,
            topic_support=topic.support,
            topic_oppose=topic.oppose,
            sentence=ctx.sentences[i].text,
            context=context,
            cue=(cue.start, cue.end),
            doc=doc,
            rules=reading,
            past=past,
        )

    def _entities(self, text: str) -> list[Entity]:
        assert self.ner_nlp is not None
        doc = self.ner_nlp(text[: self.max_text_chars])
        counts: Counter[tuple[str, str]] = Counter((e.text, e.label_) for e in doc.ents)
        return [Entity(text=t, label=lab, count=n) for (t, lab), n in sorted(counts.items())]
