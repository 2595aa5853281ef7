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
        return cls(
            id=article.id,
            title=article.title,
            source=article.source,
            url=article.url,
            published=article.published,
        )
