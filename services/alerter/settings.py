"""Alerter settings: ``STANCEWATCH_*`` environment variables (secrets as SecretStr, never logged)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from services.alerter.detect import DEFAULT_ALERT_GRACE, DEFAULT_CONFIRM_WINDOW, DEFAULT_INSTANT_CONFIDENCE
from services.alerter.errors import SignatureError
from services.alerter.signing import secret_key
from services.alerter.state import DEFAULT_MAX_POSITIONS
from shared.settings import ServiceSettings, env_value, parse_duration


class AlerterSettings(ServiceSettings):
    #: One generic webhook without a routing file.
    webhook_url: SecretStr | None = None
    #: Standard Webhooks signing secret, ``whsec_<base64>``.
    webhook_secret: SecretStr | None = None
    #: One Slack incoming webhook without a routing file.
    slack_webhook_url: SecretStr | None = None
    #: Path to a routing YAML (channels, routes, digests, quiet hours); replaces the three above.
    routing: Path | None = None
    #: The watchlist the routing's actors and topics are checked against: the enricher's setting, read
    #: the same way (empty = the shipped ``services/enricher/watchlist.yaml``).
    watchlist: str | None = None
    #: Print every routed alert as a JSON line on stdout (a channel named ``console``).
    console_alerts: bool = False

    #: Lowest severity that notifies (``reversal`` = only support <-> oppose; ``shift`` = also to/from undecided).
    min_severity: Literal["shift", "reversal"] = "reversal"
    #: Observations below this confidence never move a position.
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Reports of the same shift within this window are corroborations, not new alerts.
    corroboration_window: timedelta = timedelta(hours=48)
    #: Reversals at least this probable alert at once; less probable ones wait for a second source
    #: (``alert_confirm_window``). 0 alerts every reversal at once.
    alert_instant_confidence: float = Field(default=DEFAULT_INSTANT_CONFIDENCE, ge=0.0, le=1.0)
    alert_confirm_window: timedelta = DEFAULT_CONFIRM_WINDOW
    #: A change is final this long after the last record at or before it (event time) arrived, so records
    #: delivered a little out of order are folded in first; later ones correct the history, alerting nothing.
    alert_grace: timedelta = DEFAULT_ALERT_GRACE
    #: Observations kept per (figure, topic) in the positions topic.
    history_limit: int = Field(default=20, ge=2, le=500)
    #: Alerts kept in memory for the /alerts route.
    recent_alerts: int = Field(default=500, ge=1)
    #: Positions held in memory (with their recent alerts); the least recently updated beyond it are evicted
    #: and read back from the positions topic on their next observation. 0 is no bound.
    max_positions: int = Field(default=DEFAULT_MAX_POSITIONS, ge=0)

    #: Total attempts per delivery before it goes to the dead-letter topic.
    delivery_max_attempts: int = Field(default=10, ge=1)
    #: Attempts made in one go; after that the task is re-queued on Kafka with its next due time, and the
    #: channel is tried one attempt at a time until it delivers again.
    delivery_attempts_per_series: int = Field(default=3, ge=1)
    #: A delivery not made this long after it first became due goes to the dead-letter topic with its last
    #: error (sooner when its budget is spent or its next try would come later), so none waits for hours.
    delivery_max_age: timedelta = timedelta(hours=1)
    delivery_backoff_base: timedelta = timedelta(seconds=1)
    delivery_backoff_max: timedelta = timedelta(minutes=5)
    #: Longest Retry-After honoured; longer ones are capped.
    delivery_retry_after_max: timedelta = timedelta(minutes=10)
    delivery_timeout: timedelta = timedelta(seconds=10)
    #: At most one message per this interval per Slack webhook.
    slack_min_interval: timedelta = timedelta(seconds=1)

    group_id: str = "stancewatch-alerter"
    delivery_group_id: str = "stancewatch-alerter-delivery"

    @classmethod
    def referenced_variables(cls, env: Mapping[str, str]) -> set[str]:
        """The variables the routing file names (``url_env``, ``secret_env``): known although no field reads them."""
        path = env_value(env, "STANCEWATCH_ROUTING").strip()
        if not path:
            return set()
        from services.alerter.routing import routing_variables  # routing imports this module

        return routing_variables(Path(path))

    @field_validator(
        "corroboration_window",
        "alert_confirm_window",
        "alert_grace",
        "delivery_backoff_base",
        "delivery_backoff_max",
        "delivery_retry_after_max",
        "delivery_max_age",
        "delivery_timeout",
        "slack_min_interval",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("delivery_max_age")
    @classmethod
    def _positive_age(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 1:
            raise ValueError("must be at least 1s (a delivery needs time for one attempt)")
        return value

    @field_validator("webhook_url", "webhook_secret", "slack_webhook_url", "routing", "watchlist", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes optional variables as empty strings (``${VAR:-}``): that means "not configured".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                secret_key(value.get_secret_value())  # decoded now, so a bad secret never reaches a delivery
            except SignatureError as exc:
                raise ValueError("must be whsec_ followed by non-empty base64 (the key it decodes to)") from exc
        return value

    @field_validator("webhook_url", "slack_webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _signed(self) -> AlerterSettings:
        # Webhooks are always signed: a URL without its secret is a mistake, not an unsigned channel.
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("STANCEWATCH_WEBHOOK_URL needs STANCEWATCH_WEBHOOK_SECRET (whsec_…): webhooks are signed")
        return self
