"""Delivery of alerts to channels (topics ``deliveries`` and ``delivery-outcomes``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contracts.alerts import AlertEventType, PositionChange
from shared.contracts.base import Contract, UtcDatetime

DeliveryStatus = Literal["delivered", "failed", "dead-lettered", "held"]


class DeliveryTask(Contract):
    """One pending delivery of one or more alerts (a digest carries several) to one channel.

    Queued on Kafka so that an alert whose channel is down survives a restart.
    """

    delivery_id: str
    channel: str
    alerts: list[PositionChange]
    attempt: int = 0
    not_before: UtcDatetime | None = None
    digest: bool = False
    #: What happened to the alert(s): channels render each event type (Standard Webhooks ``type``).
    event: AlertEventType = "alert.created"
    last_error: str | None = None
    #: When the delivery first became due (queued, or its digest released); kept on every re-queue,
    #: so DELIVERY_MAX_AGE counts from here. None: queued by a version that did not set it.
    first_due: UtcDatetime | None = None


class DeliveryOutcome(Contract):
    """The result of one attempt series for one delivery (keyed by ``delivery_id``)."""

    delivery_id: str
    alert_ids: list[str] = Field(default_factory=list)
    channel: str
    status: DeliveryStatus
    attempts: int = Field(ge=0)
    last_error: str | None = None
    http_status: int | None = None
    at: UtcDatetime
