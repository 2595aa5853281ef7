"""Articles as the ingester publishes them (topic ``articles``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract, UtcDatetime


class RawArticle(Contract):
    """One new article, published once per ``id``. Also the replay input line format."""

    id: str = Field(min_length=1, max_length=200)
    source: str = ""
    url: str = ""
    published: UtcDatetime
    title: str = ""
    text: str = ""
    summary: str = ""
    feed_url: str | None = None
    language: str | None = None
    #: True when ``text`` is the extracted full page, False when it is the feed summary.
    fulltext: bool = False
    #: Why full-text extraction failed (None when it succeeded or was not attempted).
    fulltext_error: str | None = None
    fetched_at: UtcDatetime | None = None


#: Bounds of what an event citing an article carries of it (the ingester already cuts titles at 1,000).
MAX_REF_TITLE = 1_000
MAX_REF_SOURCE = 300
MAX_REF_URL = 4_000


class ArticleRef(BaseModel):
    """Enough of an article to cite it in an alert without carrying its text."""

    model_config = ConfigDict(extra="ignore")

    id: str
    title: str = ""
    source: str = ""
    url: str = ""
    published: UtcDatetime

    @classmethod
    def of(cls, article: RawArticle) -> ArticleRef:
        """Bounded by construction: a hostile 1 MB title must not make every event citing it unpublishable."""
        return cls(
            id=article.id,
            title=article.title[:MAX_REF_TITLE],
            source=article.source[:MAX_REF_SOURCE],
            url=article.url[:MAX_REF_URL],
            published=article.published,
        )
