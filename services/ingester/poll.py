"""One poll of one feed, stage by stage: fetch -> parse -> normalise -> dedup -> full text -> publish.

Every outcome updates the feed's :class:`FeedState` (validators, backoff, cadence) so the
scheduler knows when to come back. A failing feed is logged when its error changes, counted by
kind, and never affects another feed. Validators are stored only after every new article of the
response is published, so a publish failure makes the next poll fetch the feed in full again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.ingester.dedup import SeenIds
from services.ingester.errors import IngesterError
from services.ingester.feedlist import FeedSpec
from services.ingester.fetch import Fetcher
from services.ingester.fulltext import FulltextExtractor
from services.ingester.metrics import IngesterMetrics
from services.ingester.normalize import to_article
from services.ingester.parse import ParsedFeed
from services.ingester.parse_workers import FeedParser, InlineParser
from services.ingester.publish import ArticleSink
from services.ingester.schedule import (
    after,
    backoff_delay,
    cadence_interval,
    clamp,
    merge_entry_times,
)
from services.ingester.state import StateStore
from shared.contracts import FeedState, RawArticle, SeenArticle, utc_now
from shared.errors import OversizedMessage, StancewatchError
from shared.http import parse_retry_after

log = logging.getLogger("stancewatch.ingester.poll")

#: The longest a server's Retry-After is obeyed.
MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class PollPolicy:
    min_interval: float = 60.0
    max_interval: float = 3600.0
    default_interval: float = 300.0
    max_feed_bytes: int = 10_000_000
    #: Ignore entries published longer ago than this (None: no limit).
    max_entry_age: timedelta | None = None


@dataclass(frozen=True)
class PollOutcome:
    feed_url: str
    status: str  # ok | not_modified | error
    new_articles: int = 0
    error_kind: str | None = None
    error: str | None = None


class Poller:
    def __init__(
        self,
        *,
        fetcher: Fetcher,
        sink: ArticleSink,
        store: StateStore,
        seen: SeenIds,
        metrics: IngesterMetrics,
        policy: PollPolicy,
        fulltext: FulltextExtractor | None = None,
        parser: FeedParser | None = None,
        states: dict[str, FeedState] | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.sink = sink
        self.store = store
        self.seen = seen
        self.metrics = metrics
        self.policy = policy
        self.fulltext = fulltext
        self.parser: FeedParser = parser or InlineParser()
        self.states: dict[str, FeedState] = dict(states or {})
        for restored in self.states.values():  # a restart keeps showing how long each feed has been quiet
            if restored.last_success is not None:
                metrics.feed_last_success.set(restored.last_success.timestamp(), feed_url=restored.feed_url)
        self.clock = clock
        self.rng = rng or random.Random()
        #: Digest of each feed's last fully published body: the same bytes again are not parsed again.
        self.body_digests: dict[str, bytes] = {}

    def state_of(self, spec: FeedSpec) -> FeedState:
        state = self.states.get(spec.url)
        if state is None:
            interval = clamp(
                spec.interval or self.policy.default_interval, self.policy.min_interval, self.policy.max_interval
            )
            state = FeedState(feed_url=spec.url, interval_s=interval)
            self.states[spec.url] = state
        return state

    async def poll(self, spec: FeedSpec) -> PollOutcome:
        state = self.state_of(spec)
        now = self.clock()
        started = time.monotonic()
        try:
            result = await self.fetcher.get(
                spec.url,
                max_bytes=self.policy.max_feed_bytes,
                etag=state.etag,
                last_modified=state.last_modified,
                trusted=True,
            )
            if result.status == 304:
                self.metrics.poll_seconds.observe(time.monotonic() - started)
                self.metrics.not_modified.inc()
                await self._succeeded(state, now, etag=result.etag or state.etag, modified=result.last_modified)
                self.metrics.polls.inc(outcome="not_modified")
                return PollOutcome(spec.url, "not_modified")
            digest = hashlib.blake2b(result.body, digest_size=16).digest()
            if self.body_digests.get(spec.url) == digest:  # a server without validators, nothing new
                self.metrics.poll_seconds.observe(time.monotonic() - started)
                self.metrics.unchanged.inc()
                await self._succeeded(
                    state, now, etag=result.etag, modified=result.last_modified, replace_validators=True
                )
                self.metrics.polls.inc(outcome="ok")
                return PollOutcome(spec.url, "ok")
            parsed = await self.parser.parse(result.body, url=result.url, content_type=result.content_type)
            self.metrics.poll_seconds.observe(time.monotonic() - started)
            if parsed.warning:
                log.debug("feed recovered from a problem: %s", parsed.warning, extra={"feed_url": spec.url})
            published, entry_times = await self._publish_new(parsed, spec, now)
        except (IngesterError, StancewatchError) as exc:
            return await self._failed(spec, state, now, exc)
        self.body_digests[spec.url] = digest
        await self._succeeded(
            state,
            now,
            etag=result.etag,
            modified=result.last_modified,
            entry_times=entry_times,
            replace_validators=True,
        )
        self.metrics.polls.inc(outcome="ok")
        return PollOutcome(spec.url, "ok", new_articles=published)

    async def _publish_new(self, parsed: ParsedFeed, spec: FeedSpec, now: datetime) -> tuple[int, list[datetime]]:
        if parsed.skipped:
            self.metrics.skipped.inc(parsed.skipped, reason="no_link_or_id")
        cutoff = now - self.policy.max_entry_age if self.policy.max_entry_age else None
        fresh: list[RawArticle] = []
        entry_times = [e.published for e in parsed.entries if e.published is not None and e.published <= now]
        for entry in parsed.entries:
            article = to_article(entry, parsed, feed_url=spec.url, source=spec.name, now=now)
            if article is None:
                self.metrics.skipped.inc(reason="no_link_or_id")
            elif cutoff is not None and article.published < cutoff:
                self.metrics.skipped.inc(reason="older_than_dedup_window")
            elif not self.seen.claim(article.id):
                self.metrics.skipped.inc(reason="seen")
            else:
                fresh.append(article)
        if self.fulltext is not None and fresh:
            fresh = list(await asyncio.gather(*(self._with_fulltext(a) for a in fresh)))
        published = 0
        for i, article in enumerate(fresh):
            try:
                await self.sink.publish(article)
            except OversizedMessage as exc:
                # This entry can never be published as it is; the feed's other entries must not wait on it.
                self.metrics.skipped.inc(reason="oversized")
                log.warning("article skipped: %s", exc, extra={"article_id": article.id, "feed_url": spec.url})
                self.seen.add(article.id, now)
                await self.store.mark_seen(SeenArticle(article_id=article.id, url=article.url, first_seen=now))
                continue
            except BaseException:
                for rest in fresh[i:]:
                    self.seen.release(rest.id)
                raise
            self.seen.add(article.id, now)
            published += 1
            self.metrics.published.inc()
            await self.store.mark_seen(SeenArticle(article_id=article.id, url=article.url, first_seen=now))
        return published, entry_times

    async def _with_fulltext(self, article: RawArticle) -> RawArticle:
        assert self.fulltext is not None
        if not article.url:
            self.metrics.fulltext.inc(outcome="no_url")
            return article.model_copy(update={"fulltext_error": "no article URL"})
        try:
            text = await self.fulltext.extract(article.url)
        except IngesterError as exc:
            self.metrics.fulltext.inc(outcome=exc.kind)
            log.info("full text unavailable: %s", exc, extra={"article_id": article.id, "feed_url": article.feed_url})
            return article.model_copy(update={"fulltext_error": str(exc)})
        self.metrics.fulltext.inc(outcome="ok")
        return article.model_copy(update={"text": text, "fulltext": True})

    async def _succeeded(
        self,
        state: FeedState,
        now: datetime,
        *,
        etag: str | None,
        modified: str | None,
        entry_times: list[datetime] | None = None,
        replace_validators: bool = False,
    ) -> None:
        times = merge_entry_times(state.recent_entry_times, entry_times or [])
        interval = cadence_interval(
            times,
            default=state.interval_s,
            low=self.policy.min_interval,
            high=self.policy.max_interval,
        )
        update = {
            "failures": 0,
            "last_success": now,
            "last_error": None,
            "recent_entry_times": times,
            "interval_s": interval,
            "next_poll": after(now, interval),
        }
        if replace_validators:
            update.update(etag=etag, last_modified=modified)
        elif etag or modified:
            update.update(etag=etag or state.etag, last_modified=modified or state.last_modified)
        await self._save(state.model_copy(update=update))
        self.metrics.feed_last_success.set(now.timestamp(), feed_url=state.feed_url)

    async def _failed(self, spec: FeedSpec, state: FeedState, now: datetime, exc: Exception) -> PollOutcome:
        kind = exc.kind if isinstance(exc, IngesterError) else "publish"
        failures = state.failures + 1
        delay = backoff_delay(failures, base=self.policy.min_interval, cap=self.policy.max_interval, rng=self.rng)
        retry_after = parse_retry_after(getattr(exc, "retry_after", None), now)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        message = str(exc)
        self.metrics.errors.inc(kind=kind)
        self.metrics.polls.inc(outcome="error")
        if message != state.last_error:  # once per feed and reason, not once per poll
            log.warning("feed poll failed: %s", message, extra={"feed_url": spec.url, "kind": kind})
        await self._save(
            state.model_copy(
                update={"failures": failures, "last_error": message, "next_poll": after(now, delay)},
            )
        )
        return PollOutcome(spec.url, "error", error_kind=kind, error=message)

    async def _save(self, state: FeedState) -> None:
        self.states[state.feed_url] = state
        try:
            await self.store.save_feed(state)
        except StancewatchError as exc:  # state is rebuilt from the next save; the poll itself succeeded
            self.metrics.errors.inc(kind="state")
            log.warning("feed state not saved: %s", exc, extra={"feed_url": state.feed_url})
