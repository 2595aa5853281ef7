"""Every query the desk makes, in the one SQL dialect SQLite and PostgreSQL share.

:class:`SqlStore` holds the logic; an implementation supplies four primitives (fetch rows, write
statements in one transaction, apply a migration, throw everything away). Statements use ``?``
placeholders; the PostgreSQL implementation numbers them. Times are integer microseconds (UTC).
"""

from __future__ import annotations

import re
import uuid
from abc import abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from services.desk.store.base import (
    AlertQuery,
    AlertView,
    DeliveryRow,
    FeedbackQuery,
    ObservationQuery,
    Overview,
    Page,
    PositionRow,
    Store,
    Timeline,
    TimelineEntry,
    Window,
)
from shared.contracts import DeliveryOutcome, Feedback, Position, PositionChange, StanceObservation

Params = Sequence[Any]
Statement = tuple[str, Params]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
#: Every table the migrations create, dropped by a reset (schema_version last).
TABLES = ("feedback", "deliveries", "alerts", "observations", "positions", "desk_meta", "schema_version")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def to_us(value: datetime | None) -> int | None:
    """Exact integer microseconds since the epoch (no float rounding)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // _MICRO


def from_us(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=int(value))


def at_us(value: int) -> datetime:
    """A NOT NULL time column."""
    return EPOCH + timedelta(microseconds=int(value))


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every numbered file in ``services/desk/migrations``, in order."""
    found = []
    for entry in resources.files("services.desk").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"desk migrations must be numbered 0001, 0002, … without gaps: {versions}")
    return found


def split_statements(script: str) -> list[str]:
    """The statements of a migration file (no ``;`` inside literals there), comments dropped."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def search_text(*parts: str | None) -> str:
    """What text search matches against: casefolded on write, as the words searched are on read."""
    return " ".join(p for p in parts if p).casefold()


def like_pattern(word: str) -> str:
    escaped = word.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _words(text: str | None) -> list[str]:
    return [w for w in (text or "").split() if w][:10]


def confidence_of(position: Position) -> float | None:
    """How sure the desk shows the established stance: its newest supporting observation's confidence."""
    if not position.history:
        return None
    if position.established is not None:
        for record in reversed(position.history):
            if record.stance == position.established:
                return record.confidence
    return position.history[-1].confidence


def _names(position: Position) -> tuple[str | None, str | None]:
    actor_name = next((r.actor_name for r in reversed(position.history) if r.actor_name), None)
    topic_label = next((r.topic_label for r in reversed(position.history) if r.topic_label), None)
    return actor_name, topic_label


_NEWER = "{t}.src_partition <> excluded.src_partition OR {t}.src_offset <= excluded.src_offset"

_POSITION_COLUMNS = (
    "actor, topic, actor_name, topic_label, established, established_since_us, latest, confidence, "
    "last_change_us, updated_at_us, provisional, src_partition, src_offset"
)
_OBSERVATION_COLUMNS = (
    "actor, topic, article_id, stance, confidence, published_us, title, source, url, judge, actor_name, "
    "topic_label, search, payload, src_partition, src_offset"
)
_ALERT_COLUMNS = (
    "alert_id, actor, topic, article_id, from_stance, to_stance, severity, kind, status, created_at_us, "
    "said_at_us, actor_name, topic_label, search, payload, src_partition, src_offset"
)
_FEEDBACK_COLUMNS = (
    "feedback_id, actor, topic, article_id, alert_id, stance, verdict, corrected_stance, note, author, created_at_us"
)


def _upsert(table: str, columns: str, key: str) -> str:
    names = [c.strip() for c in columns.split(",")]
    keys = {k.strip() for k in key.split(",")}
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c not in keys)
    marks = ", ".join("?" for _ in names)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {updates} "
        f"WHERE {_NEWER.format(t=table)}"
    )


_UPSERT_POSITION = _upsert("positions", _POSITION_COLUMNS, "actor, topic")
_UPSERT_OBSERVATION = _upsert("observations", _OBSERVATION_COLUMNS, "actor, topic, article_id")
_UPSERT_ALERT = _upsert("alerts", _ALERT_COLUMNS, "alert_id")
_INSERT_FEEDBACK = (
    f"INSERT INTO feedback ({_FEEDBACK_COLUMNS}) VALUES ({', '.join('?' for _ in _FEEDBACK_COLUMNS.split(','))}) "
    "ON CONFLICT (feedback_id) DO NOTHING"
)
_UPSERT_DELIVERY = (
    "INSERT INTO deliveries (delivery_id, alert_id, channel, status, attempts, http_status, last_error, at_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, alert_id) DO UPDATE SET channel = excluded.channel, "
    "status = excluded.status, attempts = excluded.attempts, http_status = excluded.http_status, "
    "last_error = excluded.last_error, at_us = excluded.at_us WHERE deliveries.at_us <= excluded.at_us"
)


class Where:
    """A WHERE clause built from optional filters, with its parameters in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def eq(self, column: str, value: object) -> Where:
        if value is not None:
            self.parts.append(f"{column} = ?")
            self.params.append(value)
        return self

    def range(self, column: str, since: datetime | None, until: datetime | None) -> Where:
        if since is not None:
            self.parts.append(f"{column} >= ?")
            self.params.append(to_us(since))
        if until is not None:
            self.parts.append(f"{column} < ?")
            self.params.append(to_us(until))
        return self

    def words(self, column: str, text: str | None) -> Where:
        for word in _words(text):
            self.parts.append(f"{column} LIKE ? ESCAPE '\\'")
            self.params.append(like_pattern(word))
        return self

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.parts)) if self.parts else ""


class SqlStore(Store):
    # --- the primitives an implementation supplies ---------------------------------------------
    @abstractmethod
    async def _fetch(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    async def _write(self, statements: Sequence[Statement]) -> None:
        """Run ``statements`` in one transaction."""

    @abstractmethod
    async def _migrate(self) -> int:
        """Apply the migrations newer than the stored version (serialised against other replicas);
        return the version the store had before (0: it was empty)."""

    # --- shared logic ---------------------------------------------------------------------------
    async def _ensure_generation(self) -> None:
        await self._write(
            [
                (
                    "INSERT INTO desk_meta (name, value) VALUES ('generation', ?) ON CONFLICT (name) DO NOTHING",
                    (uuid.uuid4().hex[:12],),
                )
            ]
        )

    async def _setup(self) -> bool:
        before = await self._migrate()
        await self._ensure_generation()
        return before == 0

    async def schema_version(self) -> int:
        rows = await self._fetch("SELECT MAX(version) FROM schema_version")
        return int(rows[0][0] or 0)

    async def generation(self) -> str:
        rows = await self._fetch("SELECT value FROM desk_meta WHERE name = 'generation'")
        return str(rows[0][0])

    async def ping(self) -> bool:
        try:
            await self._fetch("SELECT 1")
        except Exception:
            return False
        return True

    async def apply_position(self, key: str, position: Position | None, partition: int, offset: int) -> None:
        if position is None:
            actor, _, topic = key.partition(":")
            await self._write(
                [
                    (
                        "DELETE FROM positions WHERE actor = ? AND topic = ? "
                        "AND (src_partition <> ? OR src_offset <= ?)",
                        (actor, topic, partition, offset),
                    )
                ]
            )
            return
        actor_name, topic_label = _names(position)
        params = (
            position.actor,
            position.topic,
            actor_name,
            topic_label,
            position.established,
            to_us(position.established_since),
            position.latest,
            confidence_of(position),
            to_us(position.last_change),
            to_us(position.updated_at),
            1 if position.provisional is not None else 0,
            partition,
            offset,
        )
        await self._write([(_UPSERT_POSITION, params)])

    async def apply_observation(self, obs: StanceObservation, partition: int, offset: int) -> None:
        await self._write([self.observation_statement(obs, partition, offset)])

    @staticmethod
    def observation_statement(obs: StanceObservation, partition: int, offset: int) -> Statement:
        search = search_text(
            obs.actor,
            obs.actor_name,
            obs.topic,
            obs.topic_label,
            obs.article.title,
            obs.article.source,
            *(e.text for e in obs.evidence),
        )
        params = (
            obs.actor,
            obs.topic,
            obs.article_id,
            obs.stance,
            obs.confidence,
            to_us(obs.article.published),
            obs.article.title,
            obs.article.source,
            obs.article.url,
            obs.extractor.judge,
            obs.actor_name,
            obs.topic_label,
            search,
            obs.model_dump_json(by_alias=True),
            partition,
            offset,
        )
        return _UPSERT_OBSERVATION, params

    async def apply_alert(self, alert: PositionChange, partition: int, offset: int) -> None:
        search = search_text(
            alert.actor,
            alert.actor_name,
            alert.topic,
            alert.topic_label,
            alert.before.article.title,
            alert.before.article.source,
            alert.after.article.title,
            alert.after.article.source,
            *(e.text for e in alert.before.evidence),
            *(e.text for e in alert.after.evidence),
        )
        params = (
            alert.alert_id,
            alert.actor,
            alert.topic,
            alert.article_id,
            alert.from_stance,
            alert.to_stance,
            alert.severity,
            alert.kind,
            alert.status,
            to_us(alert.created_at),
            to_us(alert.after.article.published),
            alert.actor_name,
            alert.topic_label,
            search,
            alert.model_dump_json(by_alias=True),
            partition,
            offset,
        )
        await self._write([(_UPSERT_ALERT, params)])

    async def apply_delivery(self, outcome: DeliveryOutcome) -> None:
        statements = [
            (
                _UPSERT_DELIVERY,
                (
                    outcome.delivery_id,
                    alert_id,
                    outcome.channel,
                    outcome.status,
                    outcome.attempts,
                    outcome.http_status,
                    outcome.last_error,
                    to_us(outcome.at),
                ),
            )
            for alert_id in dict.fromkeys(outcome.alert_ids)
        ]
        if statements:
            await self._write(statements)

    async def apply_feedback(self, feedback: Feedback) -> None:
        params = (
            feedback.feedback_id,
            feedback.actor,
            feedback.topic,
            feedback.article_id,
            feedback.alert_id,
            feedback.stance,
            feedback.verdict,
            feedback.corrected_stance,
            feedback.note,
            feedback.author,
            to_us(feedback.created_at),
        )
        await self._write([(_INSERT_FEEDBACK, params)])

    # --- reads ----------------------------------------------------------------------------------
    @staticmethod
    def _position(row: tuple[Any, ...]) -> PositionRow:
        return PositionRow(
            actor=row[0],
            topic=row[1],
            actor_name=row[2],
            topic_label=row[3],
            established=row[4],
            established_since=from_us(row[5]),
            latest=row[6],
            confidence=None if row[7] is None else float(row[7]),
            last_change=from_us(row[8]),
            updated_at=from_us(row[9]),
            provisional=bool(row[10]),
        )

    async def overview(self) -> Overview:
        rows = await self._fetch(f"SELECT {_POSITION_COLUMNS} FROM positions ORDER BY actor, topic")
        cells = [self._position(r) for r in rows]
        figures: dict[str, str] = {}
        topics: dict[str, str] = {}
        for c in cells:
            figures[c.actor] = figures.get(c.actor) or c.actor_name or c.actor
            topics[c.topic] = topics.get(c.topic) or c.topic_label or c.topic
        return Overview(
            figures=sorted(figures.items(), key=lambda kv: kv[1].casefold()),
            topics=sorted(topics.items(), key=lambda kv: kv[1].casefold()),
            cells=cells,
        )

    async def position(self, actor: str, topic: str) -> PositionRow | None:
        rows = await self._fetch(
            f"SELECT {_POSITION_COLUMNS} FROM positions WHERE actor = ? AND topic = ?", (actor, topic)
        )
        return self._position(rows[0]) if rows else None

    async def observation(self, actor: str, topic: str, article_id: str) -> StanceObservation | None:
        rows = await self._fetch(
            "SELECT payload FROM observations WHERE actor = ? AND topic = ? AND article_id = ?",
            (actor, topic, article_id),
        )
        return StanceObservation.model_validate_json(rows[0][0]) if rows else None

    async def _page(self, table: str, columns: str, where: Where, order: str, window: Window) -> tuple[list[Any], int]:
        total = int((await self._fetch(f"SELECT COUNT(*) FROM {table}{where.sql()}", where.params))[0][0])
        rows = await self._fetch(
            f"SELECT {columns} FROM {table}{where.sql()} ORDER BY {order} LIMIT ? OFFSET ?",
            [*where.params, window.limit, window.offset],
        )
        return rows, total

    async def observations(self, query: ObservationQuery) -> Page[StanceObservation]:
        w = query.window
        where = (
            Where()
            .eq("actor", query.actor)
            .eq("topic", query.topic)
            .eq("stance", query.stance)
            .range("published_us", w.since, w.until)
            .words("search", query.text)
        )
        rows, total = await self._page("observations", "payload", where, "published_us, article_id, actor, topic", w)
        return Page([StanceObservation.model_validate_json(r[0]) for r in rows], total, w.limit, w.offset)

    async def _deliveries(self, alert_ids: Sequence[str]) -> dict[str, list[DeliveryRow]]:
        out: dict[str, list[DeliveryRow]] = {a: [] for a in alert_ids}
        if not alert_ids:
            return out
        marks = ", ".join("?" for _ in alert_ids)
        rows = await self._fetch(
            "SELECT delivery_id, alert_id, channel, status, attempts, http_status, last_error, at_us FROM deliveries "
            f"WHERE alert_id IN ({marks}) ORDER BY at_us, delivery_id",
            list(alert_ids),
        )
        for r in rows:
            out[r[1]].append(DeliveryRow(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[6], at_us(r[7])))
        return out

    @staticmethod
    def _feedback(row: tuple[Any, ...]) -> Feedback:
        return Feedback(
            feedback_id=row[0],
            actor=row[1],
            topic=row[2],
            article_id=row[3],
            alert_id=row[4],
            stance=row[5],
            verdict=row[6],
            corrected_stance=row[7],
            note=row[8],
            author=row[9],
            created_at=at_us(row[10]),
        )

    async def _feedback_for_alerts(self, alert_ids: Sequence[str]) -> dict[str, list[Feedback]]:
        out: dict[str, list[Feedback]] = {a: [] for a in alert_ids}
        if not alert_ids:
            return out
        marks = ", ".join("?" for _ in alert_ids)
        rows = await self._fetch(
            f"SELECT {_FEEDBACK_COLUMNS} FROM feedback WHERE alert_id IN ({marks}) ORDER BY created_at_us, feedback_id",
            list(alert_ids),
        )
        for r in rows:
            out[r[4]].append(self._feedback(r))
        return out

    async def _views(self, alerts: list[PositionChange]) -> list[AlertView]:
        ids = [a.alert_id for a in alerts]
        deliveries = await self._deliveries(ids)
        feedback = await self._feedback_for_alerts(ids)
        return [AlertView(a, deliveries[a.alert_id], feedback[a.alert_id]) for a in alerts]

    async def alert(self, alert_id: str) -> AlertView | None:
        rows = await self._fetch("SELECT payload FROM alerts WHERE alert_id = ?", (alert_id,))
        if not rows:
            return None
        return (await self._views([PositionChange.model_validate_json(rows[0][0])]))[0]

    async def alerts(self, query: AlertQuery) -> Page[AlertView]:
        w = query.window
        where = (
            Where()
            .eq("actor", query.actor)
            .eq("topic", query.topic)
            .eq("severity", query.severity)
            .eq("status", query.status)
            .range("created_at_us", w.since, w.until)
            .words("search", query.text)
        )
        rows, total = await self._page("alerts", "payload", where, "created_at_us DESC, alert_id", w)
        views = await self._views([PositionChange.model_validate_json(r[0]) for r in rows])
        return Page(views, total, w.limit, w.offset)

    async def timeline(self, actor: str, topic: str, window: Window) -> Timeline:
        where = Where().eq("actor", actor).eq("topic", topic).range("published_us", window.since, window.until)
        rows, total = await self._page("observations", "payload", where, "published_us, article_id", window)
        observations = [StanceObservation.model_validate_json(r[0]) for r in rows]
        entries = [TimelineEntry(o) for o in observations]
        by_article = {e.observation.article_id: e for e in entries}
        if by_article:
            marks = ", ".join("?" for _ in by_article)
            alert_rows = await self._fetch(
                f"SELECT payload FROM alerts WHERE actor = ? AND topic = ? AND article_id IN ({marks}) "
                "ORDER BY created_at_us, alert_id",
                [actor, topic, *by_article],
            )
            for view in await self._views([PositionChange.model_validate_json(r[0]) for r in alert_rows]):
                by_article[view.alert.article_id].alerts.append(view)
            fb_rows = await self._fetch(
                f"SELECT {_FEEDBACK_COLUMNS} FROM feedback WHERE actor = ? AND topic = ? AND article_id IN ({marks}) "
                "ORDER BY created_at_us, feedback_id",
                [actor, topic, *by_article],
            )
            for r in fb_rows:
                by_article[r[3]].feedback.append(self._feedback(r))
        unplaced: list[AlertView] = []
        if window.offset == 0:
            orphan_rows = await self._fetch(
                "SELECT payload FROM alerts WHERE actor = ? AND topic = ? AND NOT EXISTS (SELECT 1 FROM observations o "
                "WHERE o.actor = alerts.actor AND o.topic = alerts.topic AND o.article_id = alerts.article_id) "
                "ORDER BY created_at_us, alert_id",
                (actor, topic),
            )
            unplaced = await self._views([PositionChange.model_validate_json(r[0]) for r in orphan_rows])
        return Timeline(
            actor=actor,
            topic=topic,
            position=await self.position(actor, topic),
            entries=Page(entries, total, window.limit, window.offset),
            unplaced=unplaced,
        )

    async def feedback(self, query: FeedbackQuery) -> Page[Feedback]:
        w = query.window
        where = (
            Where()
            .eq("actor", query.actor)
            .eq("topic", query.topic)
            .eq("article_id", query.article_id)
            .eq("alert_id", query.alert_id)
            .range("created_at_us", w.since, w.until)
        )
        rows, total = await self._page("feedback", _FEEDBACK_COLUMNS, where, "created_at_us DESC, feedback_id", w)
        return Page([self._feedback(r) for r in rows], total, w.limit, w.offset)

    async def counts(self) -> dict[str, int]:
        out = {}
        for table in ("positions", "observations", "alerts", "deliveries", "feedback"):
            out[table] = int((await self._fetch(f"SELECT COUNT(*) FROM {table}"))[0][0])
        return out
