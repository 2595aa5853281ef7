"""The pure enrichment step: ``Enricher.enrich(article) -> EnrichedArticle``.

Order of work, cheapest first: guards on the raw text, one Aho-Corasick pass, sentence split,
topic cue patterns on sentences that hold an anchor, and only then the dependency parser, on
candidate sentences (a cue plus a figure, or a pronoun/quote near one) and the few sentences
needed to resolve their pronouns. Same article in, same output out.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata

from spacy.language import Language
from spacy.tokens import Doc

from services.enricher import RULES_VERSION
from services.enricher.attribution import (
    COMPLEMENT_DEPS,
    OTHER_PARTY,
    ROLE_NOUNS,
    SPEECH_VERBS,
    STANCE_NOUNS,
    HolderRef,
    classify,
    climb,
)
from services.enricher.candidates import CandidateScanner, Scan
from services.enricher.headline import explicit_verb, full_name_subject, headline_clauses, is_title_case, sentence_case
from services.enricher.judges.base import Query, RuleReading, StanceJudge
from services.enricher.judges.rules import RuleJudge
from services.enricher.lexicons import words
from services.enricher.mentions import THIRD_PERSON, count_mentions, mentions_in
from services.enricher.nlp import model_label
from services.enricher.nominal import possessor_stance
from services.enricher.sentences import Sentence, inside, mask_markup, quote_spans, split_sentences
from services.enricher.stance import OPPOSE_WORDS, Judgement, judge
from services.enricher.watchlist import Topic, Watchlist
from shared.contracts import (
    ActorMention,
    ArticleRef,
    EnrichedArticle,
    Entity,
    Evidence,
    ExtractorInfo,
    PastStance,
    RawArticle,
    StanceObservation,
)

_STOPWORDS = words("stopwords")
_WORD = re.compile(r"[A-Za-z]+")
_PERSON_NOUNS = words("person-nouns")
_INSTITUTIONS = words("institutions")
#: Plural object pronouns that can stand for a topic's object ("send them", "giving those out").
_OBJECT_PRONOUN = re.compile(r"(?<=\w )(?:them|those)\b(?!\s+(?:who|which|that|of)\b)")
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
#: Verbs of a meeting whose object must be a person: "meet the target", "meet demands" is another sense.
_MEETING_VERBS = words("meeting-verbs")
_COUNTERPART_NOUNS = words("counterpart-nouns")
#: A rhetorical question asserts its opposite: "Why would I hit them now?" means I would not.
_RHETORICAL = re.compile(r"[\"“‘']?\s*why\s+(?:would|should)\b", re.IGNORECASE)
#: How far back (in sentences) a pronoun or a quote may reach for its figure.
LOOKBACK = 4
EVIDENCE_PER_OBSERVATION = 3
#: Attribution uncertainty of a figure the rules did not attribute the clause to (read by the trained judge).
OPEN_HOLDER_PENALTY = 0.05


@dataclass(frozen=True)
class CueMatch:
    sentence: int
    topic: str
    start: int  # relative to the sentence
    end: int
    sign: int
    anaphoric: bool
    #: The cue names the target of the measures ("the shadow fleet"): the judged sign flips.
    target: bool = False


@dataclass
class Finding:
    figure: str
    topic: str
    stance: str
    past: bool
    confidence: float
    sentence: int
    #: Where the topic cue starts in its sentence (headline clauses check the verb before it).
    cue_start: int = -1


@dataclass(frozen=True)
class _Pending:
    """A query waiting for the judge, with what attribution and timing already decided."""

    query: Query
    penalty: float  # attribution uncertainty (a pronoun, a passive) taken off the judge's probability
    past: bool
    cue: CueMatch


@dataclass
class _Work:
    """Per-article state: parsed sentences are cached so context is parsed at most once."""

    text: str
    title: str
    sentences: list[Sentence]
    scan: Scan
    quotes: list[tuple[int, int]]
    docs: dict[int, Doc] = field(default_factory=dict)
    #: Interview transcripts: paragraph -> figure for paragraphs that open with "Rutte: …".
    speakers: dict[int, str] = field(default_factory=dict)
    #: Transcript paragraphs spoken by someone untracked (a host, "Q:"): what they say about a figure is theirs.
    other_speakers: set[int] = field(default_factory=set)
    subject_cache: dict[int, HolderRef | None] = field(default_factory=dict)


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
    words = _WORD.findall(text[:5_000].lower())
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

    # -- public ---------------------------------------------------------------------------------

    def enrich(self, article: RawArticle) -> EnrichedArticle:
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
        work = _Work(
            text,
            f"{article.title or ''} {dateline[:80]}",
            sentences,
            scan,
            quote_spans(text) if scan.has_figure else [],
        )
        work.speakers, work.other_speakers = self._speaker_labels(work)
        cues = self._topic_cues(work)
        topics = sorted({c.topic for c in cues if not c.anaphoric})
        entities = self._entities(text) if self.full_ner else []
        observations: list[StanceObservation] = []
        findings = self._findings(work, cues, article) if scan.has_figure and cues else []
        findings += self._headline_restated(work, cues, findings, headline)
        if findings:
            observations = self._observations(findings, work, article, ref)
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
        work = _Work(text, "", split_sentences(text, self.max_sentence_chars), scan, quote_spans(text))
        cues = self._topic_cues(work)
        if not cues:
            return []
        out = []
        for f in self._findings(work, cues, article):
            if f.past:
                continue  # "once backed …": a headline's history is not a stance to report now
            clause = work.sentences[f.sentence].text
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
        self, work: _Work, cues: list[CueMatch], body: list[Finding], headline: list[Finding]
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
        starts = [s.start for s in work.sentences]
        named: dict[str, list[int]] = {}
        for hit in work.scan.figures:
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

    # -- topics ---------------------------------------------------------------------------------

    def _topic_cues(self, work: _Work) -> list[CueMatch]:
        starts = [s.start for s in work.sentences]
        by_sentence: dict[int, set[str]] = {}
        for hit in work.scan.anchors:
            i = bisect.bisect_right(starts, hit.start) - 1
            if i >= 0:
                by_sentence.setdefault(i, set()).add(hit.key)
        fig_sentences: dict[int, set[str]] = {}
        for hit in work.scan.figures:
            i = bisect.bisect_right(starts, hit.start) - 1
            if i >= 0:
                fig_sentences.setdefault(i, set()).add(hit.key)
        seen_topics: set[str] = set()
        last_seen: dict[str, int] = {}
        out: list[CueMatch] = []
        for i in sorted(by_sentence):
            sent = work.sentences[i]
            window = " ".join([work.title, *(s.text for s in work.sentences[max(0, i - 2) : i + 2])])
            window_figs = set().union(*(fig_sentences.get(j, set()) for j in range(max(0, i - 2), i + 1)))
            found: list[CueMatch] = []
            for tid in sorted(by_sentence[i]):
                topic = self.watchlist.by_topic[tid]
                if not self._topic_context_ok(topic, window, window_figs):
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
        return sorted(out + self._object_pronouns(work, out), key=lambda c: (c.sentence, c.start, c.topic))

    @staticmethod
    def _object_pronouns(work: _Work, cues: list[CueMatch]) -> list[CueMatch]:
        """ "might send them", "called them an unfriendly act": a plural pronoun takes the most recent object cue.

        Only neutral (object) cues are antecedents, at most two sentences back in the same or the previous
        paragraph; the governing words must still carry the stance, as for any neutral cue.
        """
        # Only plural objects ("the missiles", "sanctions") can be "them"; "a meeting" cannot.
        objects = [c for c in cues if c.sign == 0 and not c.anaphoric and _plural(work, c)]
        if not objects:
            return []
        taken = {(c.sentence, c.start) for c in cues}
        out: list[CueMatch] = []
        first = objects[0].sentence
        for i in range(first, min(len(work.sentences), objects[-1].sentence + 3)):
            sent = work.sentences[i]
            for m in _OBJECT_PRONOUN.finditer(sent.text):
                if (i, m.start()) in taken:
                    continue
                before = [
                    c
                    for c in objects
                    if (c.sentence < i or (c.sentence == i and c.end <= m.start()))
                    and c.sentence >= i - 2
                    and work.sentences[c.sentence].paragraph >= sent.paragraph - 1
                ]
                if before:
                    ante = max(before, key=lambda c: (c.sentence, c.start))
                    out.append(CueMatch(i, ante.topic, m.start(), m.end(), 0, True))
        return out

    @staticmethod
    def _topic_context_ok(topic: Topic, window: str, window_figs: set[str]) -> bool:
        if topic.context is not None and not topic.context.search(window):
            return False
        if topic.context_figures and not (topic.context_figures & window_figs):
            return False
        return True

    # -- stances --------------------------------------------------------------------------------

    def _findings(self, work: _Work, cues: list[CueMatch], article: RawArticle) -> list[Finding]:
        fig_starts = sorted(h.start for h in work.scan.figures)
        candidates: dict[int, list[CueMatch]] = {}
        for cue in cues:
            sent = work.sentences[cue.sentence]
            if sent.paragraph in work.other_speakers:
                continue  # a host's question or summary ("CALLOWAY: Zelenskyy says he still wants …")
            if self._is_candidate(work, sent, fig_starts):
                candidates.setdefault(cue.sentence, []).append(cue)
        todo = sorted(candidates)[: self.max_parsed_sentences]
        self._parse(work, todo)
        pending: list[_Pending] = []
        for i in todo:
            doc = work.docs[i]
            sent = work.sentences[i]
            fig_of_tok = self._figure_tokens(work, i, doc)
            for cue in candidates[i]:
                span = doc.char_span(cue.start, cue.end, alignment_mode="expand")
                if span is None or len(span) == 0:
                    continue
                read, past = self._rule_readings(work, i, doc, cue, span, fig_of_tok, article)
                for figure, penalty, reading in read:
                    pending.append(_Pending(self._query(work, i, doc, cue, figure, reading, past), penalty, past, cue))
                if self.open_holders:
                    # The trained judge also reads every figure present in the sentence that the rules did
                    # not attribute: it was trained to answer "none" for another person's view.
                    taken = {figure for figure, _, _ in read}
                    for figure in self._present(work, i, doc, cue, fig_of_tok):
                        if figure not in taken:
                            q = self._query(work, i, doc, cue, figure, None, past)
                            pending.append(_Pending(q, OPEN_HOLDER_PENALTY, past, cue))
        verdicts = self.judge.judge([p.query for p in pending])
        findings: list[Finding] = []
        for p, v in zip(pending, verdicts, strict=True):
            if v.stance is None:
                continue
            conf = round(max(0.0, v.probability - p.penalty), 3)
            findings.append(
                Finding(p.query.figure_id, p.cue.topic, v.stance, p.past, conf, p.cue.sentence, p.cue.start)
            )
        self.stats["parsed_sentences"] += len(work.docs)
        return findings

    def _query(
        self, work: _Work, i: int, doc: Doc, cue: CueMatch, figure: str, reading: RuleReading | None, past: bool
    ) -> Query:
        """What the judge reads: the attributed figure, the topic's definition, the sentence and the one before."""
        fig, topic = self.watchlist.by_figure[figure], self.watchlist.by_topic[cue.topic]
        context = work.sentences[i - 1].text if i > 0 else ""
        return Query(
            figure_id=figure,
            figure_name=fig.name,
            topic_id=topic.id,
            topic_label=topic.label,
            topic_support=topic.support,
            topic_oppose=topic.oppose,
            sentence=work.sentences[i].text,
            context=context,
            cue=(cue.start, cue.end),
            doc=doc,
            rules=reading,
            past=past,
        )

    def _rule_readings(
        self, work: _Work, i: int, doc: Doc, cue: CueMatch, span, fig_of_tok: dict[int, str], article: RawArticle
    ) -> tuple[list[tuple[str, float, RuleReading]], bool]:
        """Holders the rules attribute the cue's clause to, with the rules' polarity reading, and its timing."""
        sent = work.sentences[i]
        cue_toks = {t.i for t in span}
        if _met_thing(span.root, fig_of_tok):
            return [], False  # "failing to meet the target"
        topic = self.watchlist.by_topic[cue.topic]
        owned = possessor_stance(
            span.root,
            cue.sign,
            fig_of_tok,
            lambda tok, i=i, doc=doc, figs=fig_of_tok: self._possessor_pronoun(work, i, doc, tok, figs),
        )
        if owned is not None:  # "Trump's reluctance to send them": the possessor holds it
            return [(owned[0], 0.0, RuleReading(owned[1], True, "possessor"))], False
        c = climb(doc, span.root, cue_toks, fig_of_tok)
        lexicon = _target_lexicon(topic.lexicon) if cue.target else topic.lexicon
        j = judge(c, cue.sign, cue_toks, lexicon, article.published)
        if c.circumstantial or self._reported_wish(work, i, doc, c):
            return [], j.past
        holders = self._holders(work, i, doc, c, span, fig_of_tok)
        if not holders:
            return [], j.past
        path = "clause"
        if j.stance is None:
            answered = self._answer(work, i, cue)
            if answered is not None:
                j, path = answered, "answer"
        if j.stance is not None and _RHETORICAL.match(sent.text) and sent.text.rstrip("\"”’' ").endswith("?"):
            j = Judgement({"support": "oppose", "oppose": "support"}.get(j.stance, j.stance), True, j.past)
            path = "rhetorical"
        if topic.context_figures:
            holders = _participant_holders(
                holders, topic.context_figures, _partners(span.root, fig_of_tok), _agent(span.root, fig_of_tok)
            )
        reading = RuleReading(j.stance, j.explicit, path)
        return [(figure, penalty, reading) for figure, penalty in holders], j.past

    def _present(self, work: _Work, i: int, doc: Doc, cue: CueMatch, fig_of_tok: dict[int, str]) -> list[str]:
        """Figures present in sentence ``i``: named in it, its paragraph's speaker, its quote's speaker, or
        the figure its pronoun subject stands for."""
        out = sorted(set(fig_of_tok.values()))
        sent = work.sentences[i]
        speaker = work.speakers.get(sent.paragraph)
        if speaker is not None:
            out.append(speaker)
        quote = inside(work.quotes, sent.start + cue.start)
        if quote is not None:
            said = self._quote_speaker(work, quote)
            if said is not None:
                out.append(said)
        if not fig_of_tok:
            ref = self._subject_of_sentence(work, i)
            if ref is not None and ref.kind == "figure" and ref.figure:
                out.append(ref.figure)
        return list(dict.fromkeys(out))

    @staticmethod
    def _reported_wish(work: _Work, i: int, doc: Doc, c) -> bool:
        """'"He asks for Tomahawks," Trump said': inside his quote, the speaker reports another person's wish.

        Outside quotes the pronoun is the speaker ("Trump said he wants …"), and a named figure's wish reported
        by another ("Rutte said Trump wants …") stays the speaker's stance, as before.
        """
        w, ref = c.wisher, c.holder
        if w is not None and w.kind == "other" and w.token is not None and doc[w.token].lower_ in OTHER_PARTY:
            return True  # '"They want a truce to rearm," Putin said', "Trump said everybody wants them"
        if w is None or ref is None or w.kind != "pronoun":
            return False
        return w.token is not None and inside(work.quotes, work.sentences[i].start + doc[w.token].idx) is not None

    @staticmethod
    def _answer(work: _Work, i: int, cue: CueMatch) -> Judgement | None:
        """ "Asked about the missiles, Trump said: 'No.'": the topic is in the question, the stance in the answer.

        The answer is the first quotation after the cue, in this sentence or the next one of the paragraph;
        only a plain yes or no at its start counts.
        """
        sent = work.sentences[i]
        if not _ASKED.search(sent.text[: cue.start]):
            return None
        nxt = work.sentences[i + 1] if i + 1 < len(work.sentences) else None
        limit = nxt.end if nxt is not None and nxt.paragraph == sent.paragraph else sent.end
        quote = next((q for q in work.quotes if sent.start + cue.end <= q[0] < limit), None)
        if quote is None:
            return None
        said = work.text[quote[0] + 1 : quote[1]]
        sign = cue.sign or 1
        if _ANSWER_NO.match(said):
            return Judgement("oppose" if sign > 0 else "support", True, False)
        if _ANSWER_YES.match(said):
            return Judgement("support" if sign > 0 else "oppose", True, False)
        return None

    def _speaker_labels(self, work: _Work) -> tuple[dict[int, str], set[int]]:
        """Interview transcripts: paragraphs that open with a speaker label ("Rutte: …", "ELLISON, HOST: …").

        A tracked figure's label makes every claim of the paragraph theirs; an untracked speaker's (a host, "Q:")
        makes the paragraph theirs too, so a figure named in it is only described. Capital labels count only in
        a transcript (two or more of them), so a one-off "KYIV: …" opener is not a speaker.
        """
        first_of: dict[int, Sentence] = {}
        for sent in work.sentences:
            first_of.setdefault(sent.paragraph, sent)
        starts = {h.start: h for h in work.scan.figures}
        speakers: dict[int, str] = {}
        caps: dict[int, str | None] = {}
        for paragraph, sent in first_of.items():
            hit = starts.get(sent.start)
            if hit is not None and work.text[hit.end : hit.end + 2].lstrip(" ").startswith(":"):
                speakers[paragraph] = hit.key
                continue
            label = _CAPS_LABEL.match(work.text, sent.start)
            if label is None:
                continue
            caps[paragraph] = self._figure_of_label(label.group(1))
        if len(caps) >= 2:
            for paragraph, figure in caps.items():
                if figure is not None:
                    speakers[paragraph] = figure
            return speakers, {p for p, f in caps.items() if f is None}
        return speakers, set()

    def _figure_of_label(self, label: str) -> str | None:
        words = f" {re.sub(r'[^A-Z0-9]+', ' ', label.upper())} "
        for fig in self.watchlist.figures:
            if any(f" {re.sub(r'[^A-Z0-9]+', ' ', a.upper()).strip()} " in words for a in fig.aliases):
                return fig.id
        return None

    def _is_candidate(self, work: _Work, sent: Sentence, fig_starts: list[int]) -> bool:
        if sent.paragraph in work.speakers:
            return True
        lo = bisect.bisect_left(fig_starts, sent.start)
        if lo < len(fig_starts) and fig_starts[lo] < sent.end:
            return True
        low = sent.text.lower()
        words = set(_WORD.findall(low))
        near = sent.index - LOOKBACK
        back = work.sentences[max(0, near)].start
        has_recent = bisect.bisect_left(fig_starts, back) < lo
        in_quote = any(s < sent.end and sent.start < e for s, e in work.quotes)
        if in_quote:
            nxt = work.sentences[min(sent.index + 2, len(work.sentences) - 1)].end
            if bisect.bisect_left(fig_starts, sent.end) < bisect.bisect_left(fig_starts, nxt):
                return True  # a quote whose speaker is named right after it
        if not has_recent:
            return False
        if words & THIRD_PERSON or any(f"the {r}" in low for r in ROLE_NOUNS):
            return True  # "he said …", "the president said …" right after a figure
        return any(s < sent.end and sent.start < e for s, e in work.quotes)

    def _parse(self, work: _Work, indices: list[int]) -> None:
        missing = [i for i in indices if i not in work.docs]
        if not missing:
            return
        budget = self.max_parsed_sentences - len(work.docs)
        missing = missing[: max(0, budget)]
        for i, doc in zip(missing, self.nlp.pipe(work.sentences[i].text for i in missing), strict=True):
            work.docs[i] = doc

    def _possessor_pronoun(self, work: _Work, i: int, doc: Doc, tok, fig_of_tok: dict[int, str]) -> str | None:
        """ "Diplomats welcomed his call for …": the figure that was the last subject before this sentence.

        Only in a sentence that names no figure and whose subject is no pronoun: there "his" most likely is the
        subject himself ("He dropped his demand for …"), and the sentence rules read the verb he chose.
        """
        if fig_of_tok or any(t.dep_ in ("nsubj", "nsubjpass") and t.lower_ in THIRD_PERSON for t in doc):
            return None
        return self._resolve_pronoun(work, i, doc, tok.i)

    def _figure_tokens(self, work: _Work, i: int, doc: Doc) -> dict[int, str]:
        sent = work.sentences[i]
        out: dict[int, str] = {}
        for m in mentions_in(work.scan.figures, sent.start, sent.end):
            span = doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is not None:
                for t in span:
                    out[t.i] = m.figure
        return out

    def _holders(self, work: _Work, i: int, doc: Doc, c, span, fig_of_tok: dict[int, str]) -> list[tuple[str, float]]:
        ref = c.holder
        if ref is not None and ref.kind in ("figure", "pronoun") and ref.token is not None:
            if inside(work.quotes, work.sentences[i].start + doc[ref.token].idx) is not None:
                return []  # '"He asks for Tomahawks," Trump said': the speaker's account of someone else
        if _owned_by_another(c, ref, fig_of_tok):
            return []
        labelled = work.speakers.get(work.sentences[i].paragraph)
        if labelled is not None and ref is not None and ref.kind == "figure" and ref.figure != labelled:
            return []  # "ZELENSKY: … President Trump told me he needs them": the speaker's account of Trump
        if ref is not None and ref.kind == "figure" and ref.figure:
            return [(ref.figure, 0.0)]
        if ref is not None and ref.kind == "pronoun":
            fig = self._resolve_pronoun(work, i, doc, ref.token, role=ref.role)
            return [(fig, 0.05)] if fig else []
        labelled = work.speakers.get(work.sentences[i].paragraph)
        if ref is not None and ref.kind == "first-person":
            quote = inside(work.quotes, work.sentences[i].start + doc[ref.token].idx)
            fig = self._quote_speaker(work, quote) if quote else labelled
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
        if ref is None or (ref.kind == "other" and not _is_person(doc[ref.token or 0])):
            # Inside a quotation every claim is the speaker's own: '"Ukraine belongs in the alliance," he said.'
            top = c.path[-1] if c.path else None
            quote = inside(work.quotes, work.sentences[i].start + span.root.idx)
            if quote is not None and top is not None and _quote_covers(work, i, top, quote):
                fig = self._quote_speaker(work, quote)
                return [(fig, 0.1)] if fig else []
            if quote is None and labelled is not None and top is not None and top.dep_ == "ROOT":
                return [(labelled, 0.1)]  # an interview answer: every claim in it is the speaker's
        return []

    def _subject_of_sentence(self, work: _Work, i: int, depth: int = 0) -> HolderRef | None:
        """The main subject of sentence ``i``, resolved to a figure when it is one."""
        if i in work.subject_cache:
            return work.subject_cache[i]
        self._parse(work, [i])
        doc = work.docs.get(i)
        result: HolderRef | None = None
        if doc is not None:
            fig_of_tok = self._figure_tokens(work, i, doc)
            root = next((t for t in doc if t.dep_ == "ROOT"), None)
            subj = None
            if root is not None:
                subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subj is not None:
                result = classify(subj, fig_of_tok)
                if result is not None and result.kind == "pronoun" and depth < 3:
                    fig = self._resolve_pronoun(work, i, doc, subj.i, depth + 1, role=result.role)
                    result = HolderRef("figure", fig, subj.i) if fig else HolderRef("other", None, subj.i)
                elif result is not None and result.kind == "other" and not _is_person(doc[subj.i]):
                    result = None
        work.subject_cache[i] = result
        return result

    def _role_fits(self, figure: str, role: str | None) -> bool:
        """ "the secretary-general" can be Rutte, never Putin: the role word must be in the figure's role or titles."""
        if role is None:
            return True
        fig = self.watchlist.by_figure[figure]
        return any(role in t.lower() for t in (fig.role, *fig.titles))

    def _resolve_pronoun(
        self, work: _Work, i: int, doc: Doc, tok_i: int | None, depth: int = 0, role: str | None = None
    ) -> str | None:
        """He/his (or a bare role title) after a figure was the subject: the nearest preceding person subject."""
        sent = work.sentences[i]
        if tok_i is not None and depth < 3 and any(a.dep_ == "advcl" for a in doc[tok_i].ancestors):
            # "Asked whether he would go, Trump said …": a fronted clause's pronoun is the main subject.
            main = self._subject_of_sentence(work, i, depth + 1)
            if main is not None and main.kind == "figure" and (main.token or 0) > tok_i:
                if self._role_fits(main.figure or "", role):
                    return main.figure
        if tok_i is not None:  # a figure named earlier in the same sentence ("Trump told reporters he …")
            cut = sent.start + doc[tok_i].idx
            before = [h for h in work.scan.figures if sent.start <= h.start < cut and self._role_fits(h.key, role)]
            if before:
                first_subject = self._subject_of_sentence(work, i, depth + 1) if depth < 3 else None
                if first_subject is not None and first_subject.kind == "figure":
                    if self._role_fits(first_subject.figure or "", role):
                        return first_subject.figure
                elif first_subject is None and len({h.key for h in before}) == 1:
                    return before[0].key  # "Zelenskyy posts on X that he wants …" parsed without a subject
        for j in range(i - 1, max(-1, i - LOOKBACK - 1), -1):
            if work.sentences[j].paragraph < sent.paragraph - 1:
                break
            ref = self._subject_of_sentence(work, j, depth + 1) if depth < 4 else None
            if ref is None or (ref.kind == "figure" and not self._role_fits(ref.figure or "", role)):
                named = {
                    h.key
                    for h in work.scan.figures
                    if work.sentences[j].start <= h.start < work.sentences[j].end and self._role_fits(h.key, role)
                }
                if len(named) == 1:
                    return named.pop()  # no usable parsed subject, but only one fitting figure was named there
                continue
            if ref.kind == "figure":
                return ref.figure
            if ref.kind == "other":
                return None  # another person was the last subject: do not guess
        return None

    def _quote_speaker(self, work: _Work, quote: tuple[int, int]) -> str | None:
        qs, qe = quote
        starts = [s.start for s in work.sentences]
        first = bisect.bisect_right(starts, qs) - 1
        last = bisect.bisect_right(starts, max(qs, qe - 1)) - 1
        order = []
        if first >= 0 and work.sentences[first].start < qs - 1:
            order.append(first)  # Trump said, "…" / …, stating, "…"
        if last >= 0 and work.sentences[last].end > qe + 1:
            order.append(last)  # "…," he stated.
        elif 0 <= last < len(work.sentences) - 1:
            nxt = work.sentences[last + 1]
            if nxt.paragraph == work.sentences[last].paragraph and nxt.start - qe <= 2:
                order.append(last + 1)  # '"… now?" Trump said.': the question mark ended the sentence
        for j in order:
            ref = self._subject_of_sentence(work, j)
            if ref is not None and ref.kind == "figure":
                return ref.figure
            speaker = self._speech_subject(work, j, quote)
            if speaker is not None:
                return speaker
            if ref is None:  # the attribution may sit outside the quote without being the root subject
                outside = [
                    h
                    for h in work.scan.figures
                    if work.sentences[j].start <= h.start < work.sentences[j].end
                    and not (qs <= h.start < qe)
                    and not self._described(work, j, h.start)
                ]
                if len({h.key for h in outside}) == 1:
                    return outside[0].key
        return None

    def _described(self, work: _Work, j: int, start: int) -> bool:
        """A figure named inside a relative clause ("the tariffs Trump ordered") is described, not speaking."""
        doc = work.docs.get(j)
        if doc is None:
            return False
        tok = next((t for t in doc if work.sentences[j].start + t.idx == start), None)
        return tok is not None and any(a.dep_ in ("relcl", "acl") for a in [tok, *tok.ancestors])

    def _speech_subject(self, work: _Work, j: int, quote: tuple[int, int]) -> str | None:
        """The figure that is the subject of a speech verb outside the quote ('…," the Ukrainian leader said')."""
        self._parse(work, [j])
        doc = work.docs.get(j)
        if doc is None:
            return None
        base = work.sentences[j].start
        fig_of_tok = self._figure_tokens(work, j, doc)
        for tok in doc:
            if tok.lemma_.lower() not in SPEECH_VERBS or inside([quote], base + tok.idx):
                continue
            subj = next((c for c in tok.children if c.dep_ == "nsubj"), None)
            ref = classify(subj, fig_of_tok) if subj is not None else None
            if ref is not None and ref.kind == "figure":
                return ref.figure
            if ref is not None and ref.kind == "pronoun":
                return self._resolve_pronoun(work, j, doc, ref.token, 1)
        return None

    # -- aggregation ----------------------------------------------------------------------------

    def _observations(
        self, findings: list[Finding], work: _Work, article: RawArticle, ref: ArticleRef
    ) -> list[StanceObservation]:
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
                    evidence=self._evidence(work, [f for f in past_items if f.stance == past_stance]),
                )
            fig = self.watchlist.by_figure[figure]
            out.append(
                StanceObservation(
                    article_id=article.id,
                    actor=figure,
                    topic=topic_id,
                    stance=stance,
                    confidence=round(confidence, 3),
                    evidence=self._evidence(work, agree),
                    past=past,
                    article=ref,
                    extractor=self.extractor,
                    actor_name=fig.name,
                    topic_label=self.watchlist.by_topic[topic_id].label,
                )
            )
        return out

    @staticmethod
    def _evidence(work: _Work, items: list[Finding]) -> list[Evidence]:
        idx = sorted({f.sentence for f in items})[:EVIDENCE_PER_OBSERVATION]
        return [
            Evidence(text=work.sentences[i].text, start=work.sentences[i].start, end=work.sentences[i].end) for i in idx
        ]

    def _entities(self, text: str) -> list[Entity]:
        assert self.ner_nlp is not None
        doc = self.ner_nlp(text[: self.max_text_chars])
        counts: Counter[tuple[str, str]] = Counter((e.text, e.label_) for e in doc.ents)
        return [Entity(text=t, label=lab, count=n) for (t, lab), n in sorted(counts.items())]


#: A transcript speaker label in capitals: "RUTTE:", "BRETT CALLOWAY, HOST:", "PRESIDENT X (VIA INTERPRETER):", "Q:".
_CAPS_LABEL = re.compile(r"([A-Z][A-Z.'’ -]*[A-Z]|[QA])(?:\s*\([^()\n]{0,40}\))?(?:,\s*[A-Z][^:\n]{0,60})?:\s")


#: Edges from a meeting word to the people it is with: "meet Putin", "talks with Trump", "a Trump-Putin summit".
_PARTNER_DEPS = frozenset({"dobj", "pobj", "conj", "compound", "appos", "nmod", "poss", "amod"})
_PARTNER_PREPS = words("partner-preps")


def _partners(root, fig_of_tok: dict[int, str]) -> set[str]:
    """Tracked figures named as the other side of the meeting a cue names."""
    out: set[str] = set()
    todo = list(root.children)
    while todo:
        tok = todo.pop()
        if tok.dep_ == "prep" and tok.lower_ not in _PARTNER_PREPS:
            continue
        if tok.dep_ != "prep" and tok.dep_ not in _PARTNER_DEPS:
            continue
        if tok.i in fig_of_tok:
            out.add(fig_of_tok[tok.i])
        todo.extend(tok.children)
    return out


def _agent(root, fig_of_tok: dict[int, str]) -> str | None:
    """Who holds the meeting a cue names: a figure id, "" when it is the holder (no subject of its own, or "he"),
    None when it is someone else not tracked ("the president's effort to meet Putin")."""
    cur = root
    if cur.pos_ in ("NOUN", "PROPN"):
        owner = next((c for c in cur.children if c.dep_ == "poss"), None)
        if owner is not None:
            return _side(owner, fig_of_tok)
        if cur.dep_ == "pobj" and cur.head.dep_ == "prep":
            cur = cur.head.head  # "travelling for talks with Trump"
        elif cur.dep_ in ("dobj", "attr"):
            cur = cur.head  # "hold a summit with Putin"
    for _ in range(4):
        subj = next((c for c in cur.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is not None:
            return _side(subj, fig_of_tok)
        if cur.dep_ not in ("xcomp", "acl", "advcl", "acomp") or cur.head.i == cur.i:
            return ""
        head = cur.head
        controller = next((c for c in head.children if c.dep_ in ("dobj", "poss")), None)
        if cur.dep_ in ("xcomp", "acl") and controller is not None:
            return _side(controller, fig_of_tok)  # "urged Trump not to meet Putin", "his effort to meet"
        cur = head
    return ""


def _in_relative(tok, root) -> bool:
    """ "sanctions, which Trump discussed, …": a figure inside a relative clause on the cue only describes it."""
    cur = tok
    while cur.i != root.i and cur.head.i != cur.i:
        if cur.dep_ in ("relcl", "acl"):
            return True
        cur = cur.head
    return False


def _met_thing(root, fig_of_tok: dict[int, str]) -> bool:
    """ "meet the 5% target", "meet their demands": the meeting verb with a thing, not a person, as its object."""
    if root.lemma_.lower() not in _MEETING_VERBS:
        return False
    obj = next((c for c in root.children if c.dep_ == "dobj"), None)
    if obj is None or obj.i in fig_of_tok or obj.pos_ in ("PROPN", "PRON"):
        return False
    return not (_is_person(obj) or obj.lemma_.lower() in _COUNTERPART_NOUNS)


def _side(tok, fig_of_tok: dict[int, str]) -> str | None:
    if tok.i in fig_of_tok:
        return fig_of_tok[tok.i]
    if tok.lower_ in THIRD_PERSON or tok.lower_ in ("i", "we", "my", "our"):
        return ""
    return None


def _participant_holders(
    holders: list[tuple[str, float]], participants: frozenset[str], partners: set[str], agent: str | None
) -> list[tuple[str, float]]:
    """A topic that is an event between given figures (the Trump–Putin summit) is not any meeting.

    "Trump will meet Zelenskyy" or "Zelenskyy is ready to meet Putin" name another meeting; a meeting held by
    someone else ("urged Trump not to meet Putin", "the president's effort to meet Putin") can be the summit.
    """
    if not partners:
        return holders
    kept = []
    for figure, penalty in holders:
        sides = set(partners)
        if agent is not None and len(partners) < 2:  # "a meeting between Trump and Putin" names both sides
            sides.add(agent or figure)
        if not sides <= participants:
            continue
        kept.append((figure, penalty))
    return kept


def _target_lexicon(lexicon: dict[str, int]) -> dict[str, int]:
    """For a cue that names the target of the measures ("the shadow fleet"), acting against it ("stop it",
    "action against it") backs the measures; the topic's own words ("target", "lift") keep their sense."""
    return {**dict.fromkeys(OPPOSE_WORDS, 1), **lexicon}


def _plural(work: _Work, cue: CueMatch) -> bool:
    word = work.sentences[cue.sentence].text[cue.start : cue.end].split()[-1].lower()
    return word.endswith("s") or word in ("arms", "weaponry")


def _owned_by_another(c, ref: HolderRef | None, fig_of_tok: dict[int, str]) -> bool:
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


def _quote_covers(work: _Work, i: int, top, quote: tuple[int, int]) -> bool:
    """The clause the climb ended on lies inside the quotation (not a reporting verb outside it)."""
    return inside([quote], work.sentences[i].start + top.idx) is not None


def _is_person(token) -> bool:
    low = token.lower_
    if token.lemma_.lower() in _PERSON_NOUNS:
        return True
    if token.pos_ == "PROPN" and low not in _INSTITUTIONS:
        # The name itself ("Kremlin spokesman Peskov"), not a clause about it ("Dmitriev, who heads a fund …").
        name = " ".join(t.lower_ for t in token.children if t.dep_ in ("compound", "flat")) + f" {low}"
        return not any(w in name.split() for w in _INSTITUTIONS)
    return False


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
