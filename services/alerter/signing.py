"""Standard Webhooks signatures: sign what we send, and a tiny helper receivers can use to verify it.

``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with a ``whsec_<base64>``
secret. The ``webhook-id`` is the alert's idempotency id, so receivers can drop duplicates; the
timestamp tolerance lets them reject replays of old messages.

Receiver side (only the standard library and this module)::

    from services.alerter.signing import verify
    verify(secret, headers, raw_body)   # raises SignatureError, returns the webhook-id
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from services.alerter.errors import SignatureError

SECRET_PREFIX = "whsec_"
#: Messages older or newer than this are rejected (the Standard Webhooks default).
DEFAULT_TOLERANCE_S = 300


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_…`` secret."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signing: secret is not whsec_<base64>") from exc
    if not key:
        raise SignatureError("signing: secret is empty")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(secret: str, msg_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The three headers to send with ``body``."""
    ts = int(time.time() if now is None else now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(secret, msg_id, ts, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> str:
    """Check a received webhook; return its ``webhook-id`` or raise :class:`SignatureError`."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    ts_text = lower.get("webhook-timestamp")
    sig_text = lower.get("webhook-signature")
    if not msg_id or not ts_text or not sig_text:
        raise SignatureError("verify: missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        ts = int(ts_text)
    except ValueError as exc:
        raise SignatureError("verify: webhook-timestamp is not an integer") from exc
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError(f"verify: timestamp outside the {tolerance_s}s tolerance")
    expected = signature(secret, msg_id, ts, body)
    # Several space-separated signatures may be sent during a secret rotation.
    for candidate in sig_text.split():
        if hmac.compare_digest(candidate, expected):
            return msg_id
    raise SignatureError("verify: no matching signature")
