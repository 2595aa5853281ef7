"""Stage 5: the article's main text from its page (trafilatura), within a size cap and a time limit.

Article URLs are third-party input: the page is fetched through the SSRF guard. Extraction runs
in a worker thread so a heavy page does not stall every other feed.
"""

from __future__ import annotations

import asyncio

import trafilatura

from services.ingester.errors import ExtractError, FetchError
from services.ingester.fetch import Fetcher

#: Longest text kept (characters): the whole article must fit one Kafka message.
MAX_TEXT = 200_000
#: Shorter extractions are boilerplate (cookie walls, "subscribe" pages), not the article.
MIN_TEXT = 200


def extract_main_text(page: bytes, url: str) -> str | None:
    return trafilatura.extract(page, url=url, include_comments=False, include_tables=False, favor_precision=True)


class FulltextExtractor:
    def __init__(self, fetcher: Fetcher, *, max_bytes: int, timeout: float, concurrency: int = 16) -> None:
        self.fetcher = fetcher
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)

    async def extract(self, url: str) -> str:
        """The main text of the page at ``url``; raises :class:`FetchError` or :class:`ExtractError`."""
        async with self._slots:
            result = await self.fetcher.get(
                url, max_bytes=self.max_bytes, trusted=False, accept="text/html, application/xhtml+xml;q=0.9"
            )
            if result.status == 304 or not result.body:
                raise ExtractError("extract: empty page")
            ctype = (result.content_type or "").lower()
            if ctype and "html" not in ctype:
                raise ExtractError(f"extract: not an HTML page ({ctype.split(';')[0]})")
            try:
                async with asyncio.timeout(self.timeout):
                    text = await asyncio.to_thread(extract_main_text, result.body, result.url)
            except TimeoutError as exc:
                raise ExtractError(f"extract: took longer than {self.timeout:g}s") from exc
            except FetchError:
                raise
            except Exception as exc:  # a library failure on one page must not stop the feed
                raise ExtractError(f"extract: {type(exc).__name__}: {exc}") from exc
        text = (text or "").strip()
        if len(text) < MIN_TEXT:
            raise ExtractError(f"extract: no main text found ({len(text)} characters)")
        return text[:MAX_TEXT]
