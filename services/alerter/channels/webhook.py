"""Generic webhooks: each delivery as a Standard Webhooks event (``type``, ``timestamp``, ``data``), signed.

The bodies are the models of :mod:`shared.contracts.webhooks` (JSON Schema checked in). The
``webhook-id`` names the event, not the attempt, so a retried delivery keeps it and receivers drop the
copy: an alert's idempotency id for ``alert.created``, that id plus the set of sources for
``alert.corroborated``, plus ``retracted`` for ``alert.retracted``, and the delivery id of a digest.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from pydantic import SecretStr, ValidationError

from services.alerter.channels.base import Channel, event_id, event_time, post
from services.alerter.errors import DeliveryError
from services.alerter.signing import sign_headers
from shared.contracts import DeliveryTask
from shared.contracts.webhooks import (
    ActiveAlert,
    AlertCorroborated,
    AlertCreated,
    AlertDigest,
    AlertRetracted,
    CorroboratedAlert,
    DigestData,
    RetractedAlert,
)

WebhookEventModel = AlertCreated | AlertCorroborated | AlertRetracted | AlertDigest


def is_digest(task: DeliveryTask) -> bool:
    """A digest task, or several alerts in one task, go out as one ``alert.digest``."""
    return task.digest or len(task.alerts) != 1


def webhook_id(task: DeliveryTask) -> str:
    """The id of the event a task carries: the same for every attempt and every channel."""
    return task.delivery_id if is_digest(task) else event_id(task.alerts[0], task.event)


def webhook_event(task: DeliveryTask) -> WebhookEventModel:
    """The envelope of one delivery; raises ``ValidationError`` when the alert does not fit its event."""
    at = event_time(task)
    if is_digest(task):
        return AlertDigest(timestamp=at, data=DigestData.of(task.alerts, delivery_id=task.delivery_id))
    data = task.alerts[0].model_dump(by_alias=True)
    if task.event == "alert.corroborated":
        return AlertCorroborated(timestamp=at, data=CorroboratedAlert.model_validate(data))
    if task.event == "alert.retracted":
        return AlertRetracted(timestamp=at, data=RetractedAlert.model_validate(data))
    return AlertCreated(timestamp=at, data=ActiveAlert.model_validate(data))


def webhook_body(task: DeliveryTask, *, stage: str = "webhook") -> tuple[str, bytes]:
    """(webhook-id, body) of a delivery; an alert that does not fit its event is an error no retry fixes."""
    try:
        event = webhook_event(task)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DeliveryError(
            f"{stage}: {task.event} body does not fit its schema ({where}: {first['msg']})", retryable=False
        ) from exc
    return webhook_id(task), event.model_dump_json(by_alias=True).encode("utf-8")


class WebhookChannel(Channel):
    kind = "webhook"

    def __init__(
        self,
        name: str,
        url: SecretStr,
        secret: SecretStr | None,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name)
        self._url = url
        self._secret = secret
        self._client = client
        self._clock = clock  # epoch seconds, injected by tests; None = real time

    async def send(self, task: DeliveryTask) -> int | None:
        stage = f"webhook {self.name}"
        msg_id, body = webhook_body(task, stage=stage)
        headers = {"content-type": "application/json", "user-agent": "stancewatch-alerter"}
        if self._secret is not None:
            now = self._clock() if self._clock is not None else None
            headers |= sign_headers(self._secret.get_secret_value(), msg_id, body, now=now)
        else:
            headers["webhook-id"] = msg_id
        return await post(self._client, self._url.get_secret_value(), body, headers, stage=stage)
