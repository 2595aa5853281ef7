"""Generic webhooks: the alert model as JSON, signed per Standard Webhooks."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from services.alerter.channels.base import Channel, post
from services.alerter.digest import digest_content
from services.alerter.signing import sign_headers
from shared.contracts import PositionChange


def webhook_body(alerts: list[PositionChange], *, delivery_id: str, digest: bool) -> tuple[str, bytes]:
    """(webhook-id, body). A single alert is sent as itself, keyed by its idempotency id."""
    if not digest and len(alerts) == 1:
        return alerts[0].alert_id, alerts[0].to_json_bytes()
    payload = {"type": "stancewatch.digest", **digest_content(alerts, delivery_id=delivery_id)}
    return delivery_id, json.dumps(payload, ensure_ascii=False).encode("utf-8")


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

    async def send(self, alerts: list[PositionChange], *, delivery_id: str, digest: bool) -> int | None:
        msg_id, body = webhook_body(alerts, delivery_id=delivery_id, digest=digest)
        headers = {"content-type": "application/json", "user-agent": "stancewatch-alerter"}
        if self._secret is not None:
            now = self._clock() if self._clock is not None else None
            headers |= sign_headers(self._secret.get_secret_value(), msg_id, body, now=now)
        else:
            headers["webhook-id"] = msg_id
        return await post(self._client, self._url.get_secret_value(), body, headers, stage=f"webhook {self.name}")
