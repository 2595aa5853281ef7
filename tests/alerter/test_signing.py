"""Standard Webhooks signing and the receivers' verification helper."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from services.alerter.errors import SignatureError
from services.alerter.signing import sign_headers, verify

SECRET = "whsec_" + base64.b64encode(b"a test key of thirty-two bytes!!").decode()
BODY = b'{"alert_id":"alrt_1","actor":"rutte"}'
NOW = 1_800_000_000


def test_signature_is_hmac_sha256_of_id_timestamp_and_body() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW)
    expected = hmac.new(b"a test key of thirty-two bytes!!", b"alrt_1.1800000000." + BODY, hashlib.sha256).digest()
    assert headers == {
        "webhook-id": "alrt_1",
        "webhook-timestamp": "1800000000",
        "webhook-signature": "v1," + base64.b64encode(expected).decode(),
    }


def test_verify_accepts_a_fresh_message_and_returns_its_id() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW)
    assert verify(SECRET, headers, BODY, now=NOW + 10) == "alrt_1"


def test_verify_accepts_one_matching_signature_among_several() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW)
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    assert verify(SECRET, {k.upper(): v for k, v in headers.items()}, BODY, now=NOW) == "alrt_1"


def test_verify_rejects_a_tampered_body() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW)
    with pytest.raises(SignatureError, match="no matching signature"):
        verify(SECRET, headers, BODY.replace(b"rutte", b"putin"), now=NOW)


def test_verify_rejects_a_changed_id() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW) | {"webhook-id": "alrt_2"}
    with pytest.raises(SignatureError):
        verify(SECRET, headers, BODY, now=NOW)


def test_verify_rejects_an_old_timestamp_as_a_replay() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(SECRET, headers, BODY, now=NOW + 301)


def test_verify_rejects_another_secret_and_missing_headers() -> None:
    headers = sign_headers(SECRET, "alrt_1", BODY, now=NOW)
    other = "whsec_" + base64.b64encode(b"another key").decode()
    with pytest.raises(SignatureError):
        verify(other, headers, BODY, now=NOW)
    with pytest.raises(SignatureError, match="missing"):
        verify(SECRET, {"webhook-id": "alrt_1"}, BODY, now=NOW)


def test_malformed_secret_is_a_clear_error() -> None:
    with pytest.raises(SignatureError, match="whsec_"):
        sign_headers("whsec_not base64!", "alrt_1", BODY)
