"""Serves the demo story as RSS feeds and article pages on 127.0.0.1, revealing items over time.

Feeds answer conditional GETs (ETag / If-None-Match -> 304) like a well-behaved news site, so
the ingester's politeness shows in its metrics.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.demo.timeline import STORY, StoryItem

#: The story comes in order from one server and nothing restarts: a 1 s grace keeps the demo quick.
DEMO_ALERT_GRACE = "1s"


def source_slug(source: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")


class StoryFeeds:
    """Which items are visible at a given time, rendered as one RSS feed per source."""

    def __init__(
        self,
        story: Sequence[StoryItem] = STORY,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.story = list(story)
        self.speed = speed
        self.clock = clock
        self.started = clock()
        self.wall_start = datetime.now(UTC)

    def visible(self) -> list[StoryItem]:
        elapsed = (self.clock() - self.started) * self.speed
        return [item for item in self.story if item.at_s <= elapsed]

    def sources(self) -> list[str]:
        return sorted({source_slug(item.source) for item in self.story})

    def done(self) -> bool:
        return len(self.visible()) == len(self.story)

    def rss(self, slug: str, base_url: str) -> str | None:
        if slug not in self.sources():
            return None
        items = [i for i in self.visible() if source_slug(i.source) == slug]
        name = next(i.source for i in self.story if source_slug(i.source) == slug)
        entries = []
        for item in reversed(items):
            published = self.wall_start + timedelta(seconds=item.at_s / self.speed)
            link = f"{base_url}/articles/{item.slug}.html"
            entries.append(
                "<item>"
                f"<title>{html.escape(item.title)}</title><link>{html.escape(link)}</link>"
                f'<guid isPermaLink="true">{html.escape(link)}</guid>'
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{html.escape(item.paragraphs[0])}</description>"
                "</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{html.escape(name)}</title><link>{base_url}/</link>"
            f"<description>Demo feed of {html.escape(name)}</description>{''.join(entries)}</channel></rss>"
        )

    def page(self, slug: str) -> str | None:
        item = next((i for i in self.visible() if i.slug == slug), None)
        if item is None:
            return None
        body = "".join(f"<p>{html.escape(p)}</p>" for p in item.paragraphs)
        return (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(item.title)}</title></head>'
            f'<body><nav><a href="/">Home</a> | <a href="/world">World</a></nav><article>'
            f'<h1>{html.escape(item.title)}</h1><p class="byline">{html.escape(item.source)}</p>{body}'
            "</article><footer>Demo site for stancewatch.</footer></body></html>"
        )


class FeedServer:
    """A threaded HTTP server in the background; ``base_url`` once started."""

    def __init__(self, feeds: StoryFeeds, host: str = "127.0.0.1", port: int = 0) -> None:
        self.feeds = feeds
        self.requests = 0
        self.not_modified = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet: the demo prints its own progress
                pass

            def do_GET(self) -> None:
                outer.requests += 1
                m_feed = re.fullmatch(r"/feeds/([a-z0-9-]+)\.xml", self.path)
                m_page = re.fullmatch(r"/articles/([a-z0-9-]+)\.html", self.path)
                if m_feed:
                    body = outer.feeds.rss(m_feed.group(1), outer.base_url)
                    ctype = "application/rss+xml; charset=utf-8"
                elif m_page:
                    body = outer.feeds.page(m_page.group(1))
                    ctype = "text/html; charset=utf-8"
                else:
                    body, ctype = None, "text/plain"
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    outer.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-feeds", daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def feed_urls(self) -> list[str]:
        return [f"{self.base_url}/feeds/{slug}.xml" for slug in self.feeds.sources()]
