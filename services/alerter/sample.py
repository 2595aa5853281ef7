"""``stancewatch alerter --test-notification CHANNEL``: one clearly marked test alert through a configured channel.

It goes through the channel code real alerts use (signed per Standard Webhooks for a webhook, Block
Kit for Slack), so a receiver that verifies signatures checks the whole set-up. Its figure, topic and
quotes say that it is a test; its id is new on every run, so a receiver that drops duplicates still
shows it. One attempt, no retries, no quiet hours or digest: the question is "does it arrive now?".
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from services.alerter.deliver import build_channels, http_client, immediate_task
from services.alerter.errors import DeliveryError
from services.alerter.routing import Routing
from services.alerter.settings import AlerterSettings
from shared.contracts import (
    ArticleRef,
    Evidence,
    ExtractorInfo,
    ObservationRecord,
    PositionChange,
    Stance,
    alert_id_for,
    utc_now,
)

TEST_ACTOR = "stancewatch-test"
TEST_TOPIC = "test-notification"
TEST_SOURCE = "stancewatch"
TEST_URL = "https://example.invalid/stancewatch/test-notification"


def _record(stance: Stance, text: str, at: datetime) -> ObservationRecord:
    article = ArticleRef(id=f"{TEST_TOPIC}-{stance}", title=text, source=TEST_SOURCE, url=TEST_URL, published=at)
    return ObservationRecord(
        stance=stance,
        confidence=1.0,
        evidence=[Evidence(text=text, start=0, end=len(text))],
        article=article,
        observed_at=at,
    )


def sample_alert(channel: str, now: datetime, nonce: str) -> PositionChange:
    """The test alert: a reversal of nobody, on no topic, that says so in every text a receiver shows."""
    said = f"TEST NOTIFICATION from stancewatch (channel {channel}): nobody changed position."
    article_id = f"{TEST_TOPIC}-{nonce}"
    return PositionChange(
        alert_id=alert_id_for(TEST_ACTOR, TEST_TOPIC, "support", "oppose", article_id),
        actor=TEST_ACTOR,
        topic=TEST_TOPIC,
        from_stance="support",
        to_stance="oppose",
        severity="reversal",
        kind="cross-article",
        article_id=article_id,
        before=_record("support", f"{said} This is the 'before' side of a test alert.", now),
        after=_record("oppose", f"{said} Sent by `stancewatch alerter --test-notification {channel}`.", now),
        extractor=ExtractorInfo(name="stancewatch-test-notification", version="test", config_hash="test"),
        created_at=now,
        actor_name="TEST NOTIFICATION (stancewatch)",
        topic_label="a test of this channel, not a real position change",
    )


@dataclass(frozen=True)
class NotificationCheck:
    """What happened to the test alert (never a URL or a secret: only the channel's name and kind)."""

    channel: str
    kind: str
    delivered: bool
    alert_id: str | None = None
    http_status: int | None = None
    error: str | None = None


def outcome_line(check: NotificationCheck) -> str:
    where = f"test notification via {check.channel}" + (f" ({check.kind})" if check.kind else "")
    if check.delivered:
        status = f", HTTP {check.http_status}" if check.http_status is not None else ""
        return f"{where}: delivered{status}; alert id {check.alert_id} (a webhook's webhook-id)"
    return f"{where}: NOT delivered: {check.error}"


async def send_test_notification(
    name: str,
    routing: Routing,
    settings: AlerterSettings,
    *,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> NotificationCheck:
    """Send the test alert once through channel ``name`` of ``routing``."""
    if name not in routing.channels:
        configured = ", ".join(routing.channels) or "none"
        return NotificationCheck(name, "", False, error=f"no channel named {name!r} (configured: {configured})")
    own_client = client is None
    client = client or http_client(settings)
    try:
        channel = build_channels(routing, client, settings)[name]
        alert = sample_alert(name, clock(), secrets.token_hex(8))
        try:
            status = await channel.send(immediate_task(name, alert, clock()))
        except DeliveryError as exc:  # its message names the stage and status, never the URL
            return NotificationCheck(name, channel.kind, False, alert.alert_id, exc.status, str(exc))
        except Exception as exc:  # anything else may quote the URL: its type only
            return NotificationCheck(name, channel.kind, False, alert.alert_id, error=f"{name}: {type(exc).__name__}")
        return NotificationCheck(name, channel.kind, True, alert.alert_id, status)
    finally:
        if own_client:
            await client.aclose()


def run(name: str, routing: Routing, settings: AlerterSettings) -> int:
    """Send, print the outcome; 0 when delivered, 1 otherwise."""
    check = asyncio.run(send_test_notification(name, routing, settings))
    print(outcome_line(check), file=sys.stdout if check.delivered else sys.stderr)
    return 0 if check.delivered else 1
