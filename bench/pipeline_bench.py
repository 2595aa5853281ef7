"""End-to-end latency and throughput through the running services on the real broker (a benchmark).

Starts the enricher and the alerter as separate processes (their own code, their own consumer
groups) on a fresh topic prefix, publishes articles straight onto the ``articles`` topic at a fixed
rate, and measures per article the time from publication to
  - the enriched event on the ``enriched`` topic (every article), and
  - the signed webhook's arrival at a local receiver (articles that cause an alert).
A tenth of the articles name a tracked figure; half of those reverse that figure's earlier stance
(synthetic figures added to the default watchlist, one reversal each, so every one is a new alert).

    .venv/bin/python bench/pipeline_bench.py [--rates 20,50,100] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env  # noqa: E402
from services.demo.receiver import Received, WebhookReceiver  # noqa: E402
from shared.bus import KafkaBus, Record  # noqa: E402
from shared.contracts import RawArticle  # noqa: E402
from shared.topics import Topics  # noqa: E402

FILLER = [
    "The city council met on Tuesday to discuss a plan for new bicycle lanes along the river.",
    "Shares in the regional bank rose after it reported stronger lending in the third quarter.",
    "Forecasters expect heavy rain across the northern region through the weekend.",
    "The home side scored twice in the final ten minutes to secure a narrow win.",
    "Residents said the bus service had improved since the operator added evening routes.",
    "Analysts said the central bank was likely to hold interest rates steady at its next meeting.",
    "Engineers are inspecting the old bridge after a routine survey found cracks in two supports.",
    "Local restaurants reported a busy season as tourists returned in larger numbers than expected.",
]
FIRST = ["Alma", "Bruno", "Clara", "Dario", "Elena", "Felix", "Greta", "Hugo", "Irena", "Jonas", "Klara", "Lukas"]
LAST = [
    "Varga",
    "Novak",
    "Horvat",
    "Keller",
    "Lindqvist",
    "Moreau",
    "Ostrowski",
    "Petrov",
    "Quist",
    "Rossi",
    "Sandor",
    "Tamm",
    "Ulrich",
    "Vidal",
    "Weber",
    "Zeman",
]
SUPPORT = "{name} said on Monday that she supported sending Tomahawk missiles to Ukraine."
OPPOSE = "{name} said on Friday that she opposed sending Tomahawk missiles to Ukraine."


def figure_names(n: int) -> list[str]:
    names = [f"{f} {m}{l}" for f in FIRST for m in ("", "de ", "van ") for l in LAST]  # noqa: E741
    return [n.replace("de ", "De").replace("van ", "Van") for n in names][:n]


def watchlist_with(names: list[str], path: Path) -> Path:
    base = yaml.safe_load((ROOT / "services" / "enricher" / "watchlist.yaml").read_text())
    base["figures"] += [
        {"id": f"bench-{i:04d}", "name": n, "role": "benchmark figure", "aliases": [n]} for i, n in enumerate(names)
    ]
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


def article(aid: str, rng: random.Random, sentence: str | None) -> RawArticle:
    paras = [" ".join(rng.choice(FILLER) for _ in range(5)) for _ in range(8)]  # ~600 words
    if sentence:
        paras.insert(rng.randrange(1, len(paras)), sentence)
    return RawArticle(
        id=aid,
        source="Bench Wire",
        url=f"https://bench.invalid/{aid}",
        published=datetime.now(UTC),
        title=f"Bench article {aid}",
        text="\n\n".join(paras),
    )


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


@dataclass
class Phase:
    rate: int
    published: dict[str, float] = field(default_factory=dict)
    alert_articles: set[str] = field(default_factory=set)
    enriched_at: dict[str, float] = field(default_factory=dict)
    alert_at: dict[str, float] = field(default_factory=dict)


def proc_cpu_rss(pid: int) -> tuple[float, float]:
    """CPU seconds (user+system) and peak RSS (MB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    hwm = [line for line in status if line.startswith("VmHWM")]
    if not hwm:
        raise SystemExit(f"process {pid} has exited: see the service logs under .cache/bench/")
    return cpu, int(hwm[0].split()[1]) / 1024


async def run(rates: list[int], seconds: float, bootstrap: str) -> None:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    topics = Topics(prefix=prefix)
    work = ROOT / ".cache" / "bench" / prefix.rstrip(".")
    work.mkdir(parents=True, exist_ok=True)
    per_phase = [int(r * seconds * 0.05) + 1 for r in rates]
    names = figure_names(sum(per_phase))
    if len(names) < sum(per_phase):
        raise SystemExit(f"need {sum(per_phase)} synthetic figures, have {len(names)}: lower --seconds")
    wl = watchlist_with(names, work / "watchlist.yaml")
    secret = new_secret()
    phases = [Phase(r) for r in rates]
    current: list[Phase] = []

    def on_alert(received: Received) -> None:
        for ph in phases:
            if received.alert.article_id in ph.published:
                ph.alert_at.setdefault(received.alert.article_id, received.at)

    receiver = WebhookReceiver(secret, on_alert=on_alert).start()
    bus = KafkaBus(bootstrap, client_id="bench")
    await bus.start()
    await bus.ensure_topics(topics.all())
    pipeline = Pipeline(work)
    for name in ("alerter", "enricher"):
        env = service_env(
            name,
            bootstrap=bootstrap,
            prefix=prefix,
            port=free_port(),
            feeds_file=work / "none.txt",
            webhook_url=receiver.url,
            secret=secret,
            poll_interval=60,
        )
        env |= {
            "STANCEWATCH_WATCHLIST": str(wl),
            "STANCEWATCH_LOG_LEVEL": "WARNING",
            "STANCEWATCH_SLACK_WEBHOOK_URL": "",
        }
        pipeline.start(name, env)

    try:
        consumer = bus.consumer([topics.enriched.name], f"bench-reader-{uuid.uuid4().hex[:6]}")
        await consumer.start()
        stop_reader = asyncio.Event()

        async def read_enriched() -> None:
            while not stop_reader.is_set():
                recs: list[Record] = await consumer.getmany(timeout_ms=100, max_records=500)
                now = time.time()
                for rec in recs:
                    aid = rec.key or ""
                    for ph in phases:
                        if aid in ph.published:
                            ph.enriched_at.setdefault(aid, now)

        reader = asyncio.create_task(read_enriched())
        rng = random.Random(7)
        # Warm-up: the services load spaCy and join their groups before the clock starts.
        warm = article("warmup", rng, None)
        phases[0].published["warmup"] = time.time()
        await bus.publish(topics.articles.name, warm, key=warm.id)
        t_warm = time.monotonic()
        while "warmup" not in phases[0].enriched_at:
            if time.monotonic() - t_warm > 120:
                raise SystemExit("the enricher did not answer within 120 s; see " + str(work))
            await asyncio.sleep(0.1)
        del phases[0].published["warmup"], phases[0].enriched_at["warmup"]

        name_iter = iter(names)
        results = []
        for ph, n_pairs in zip(phases, per_phase, strict=True):
            current[:] = [ph]
            cpu0 = {n: proc_cpu_rss(p.pid)[0] for n, p in pipeline.procs.items()}
            total = int(ph.rate * seconds)
            # Pairs of articles on one synthetic figure: support, then the reversal ~2 s later.
            gap = 2 * ph.rate
            slots = rng.sample(range(0, max(1, total - gap), 2), min(n_pairs, max(1, (total - gap) // 2)))
            support_at: dict[int, str] = {}
            oppose_at: dict[int, str] = {}
            for slot in slots:
                name = next(name_iter)
                support_at[slot] = name
                oppose_at[slot + gap + 1] = name  # odd index: never another pair's support slot
            t0 = time.monotonic()
            sends: list[asyncio.Task[None]] = []
            for i in range(total):
                target = t0 + i / ph.rate
                delay = target - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                aid = f"r{ph.rate}-{i}"
                sentence = None
                if i in support_at:
                    sentence = SUPPORT.format(name=support_at[i])
                elif i in oppose_at:
                    sentence = OPPOSE.format(name=oppose_at[i])
                    ph.alert_articles.add(aid)
                elif rng.random() < 0.05:
                    sentence = f"{rng.choice(['Donald Trump', 'Mark Rutte'])} spoke to reporters about the weather."
                art = article(aid, rng, sentence)
                ph.published[aid] = time.time()
                sends.append(asyncio.create_task(bus.publish(topics.articles.name, art, key=aid)))
            await asyncio.gather(*sends)
            send_s = time.monotonic() - t0
            drain0 = time.monotonic()
            while time.monotonic() - drain0 < 30:  # let the backlog drain before measuring
                if len(ph.enriched_at) >= total and len(ph.alert_at) >= len(ph.alert_articles):
                    break
                await asyncio.sleep(0.2)
            cpu_rss = {n: proc_cpu_rss(p.pid) for n, p in pipeline.procs.items()}
            elapsed = max(ph.enriched_at.values(), default=t0) - min(ph.published.values())
            enr = [ph.enriched_at[a] - ph.published[a] for a in ph.enriched_at]
            alr = [ph.alert_at[a] - ph.published[a] for a in ph.alert_at if a in ph.alert_articles]
            results.append(
                {
                    "rate": ph.rate,
                    "sent": total,
                    "send_s": send_s,
                    "enriched": len(ph.enriched_at),
                    "throughput": len(ph.enriched_at) / elapsed if elapsed > 0 else 0.0,
                    "enr": (pct(enr, 50), pct(enr, 95), pct(enr, 99)),
                    "alerts": (len(alr), len(ph.alert_articles)),
                    "alr": (pct(alr, 50), pct(alr, 95), pct(alr, 99)),
                    "cpu": {n: (cpu_rss[n][0] - cpu0[n]) / seconds * 100 for n in cpu_rss},
                    "rss": {n: cpu_rss[n][1] for n in cpu_rss},
                }
            )
            r = results[-1]
            print(
                f"{r['rate']:>4} art/s: sent {r['sent']} in {r['send_s']:.1f}s, enriched {r['enriched']} "
                f"({r['throughput']:.1f}/s); enriched latency p50/p95/p99 "
                f"{r['enr'][0] * 1000:.0f}/{r['enr'][1] * 1000:.0f}/{r['enr'][2] * 1000:.0f} ms; "
                f"alerts {r['alerts'][0]}/{r['alerts'][1]} webhook latency p50/p95/p99 "
                f"{r['alr'][0] * 1000:.0f}/{r['alr'][1] * 1000:.0f}/{r['alr'][2] * 1000:.0f} ms; "
                + "; ".join(f"{n} CPU {r['cpu'][n]:.0f}% peak RSS {r['rss'][n]:.0f} MB" for n in r["cpu"]),
                flush=True,
            )
        stop_reader.set()
        await reader
        await consumer.stop()
    finally:
        # Never leave service processes behind, whatever went wrong above.
        pipeline.stop()
        receiver.stop()
        await bus.stop()
    print(
        "\n| rate (art/s) | sustained (art/s) | enriched p50 / p95 / p99 (ms) | alerts received | "
        "webhook p50 / p95 / p99 (ms) | enricher CPU / peak RSS | alerter CPU / peak RSS |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        e, a = r["enr"], r["alr"]
        print(
            f"| {r['rate']} | {r['throughput']:.1f} | {e[0] * 1000:.0f} / {e[1] * 1000:.0f} / {e[2] * 1000:.0f} | "
            f"{r['alerts'][0]}/{r['alerts'][1]} | {a[0] * 1000:.0f} / {a[1] * 1000:.0f} / {a[2] * 1000:.0f} | "
            f"{r['cpu']['enricher']:.0f}% / {r['rss']['enricher']:.0f} MB | "
            f"{r['cpu']['alerter']:.0f}% / {r['rss']['alerter']:.0f} MB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,50,100", help="comma-separated articles/s, one phase each")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}")
    asyncio.run(run([int(r) for r in args.rates.split(",")], args.seconds, bootstrap))


if __name__ == "__main__":
    main()
