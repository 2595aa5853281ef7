"""Keys, sessions and CSRF tokens: who may write, decided without a clock or a network."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.desk.auth import Keyring, Sessions, bearer, parse_api_keys
from tests.desk.factories import at

KEYS = {"editor": "editor-key-0123456789", "night": "night-key-0123456789"}


def sessions(keys: dict[str, str] = KEYS, secret: bytes = b"x" * 32) -> Sessions:
    return Sessions(secret, Keyring(keys), timedelta(hours=1))


def test_a_key_names_its_holder_and_anything_else_names_nobody() -> None:
    ring = Keyring(KEYS)
    assert ring.identify("night-key-0123456789") == "night"
    assert ring.identify("night-key-012345678") is None
    assert ring.identify("") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("editor", "entry 1 must be name:key"),
        ("editor:short", "at least 16 characters"),
        ("a:aaaaaaaaaaaaaaaaaaaa,a:bbbbbbbbbbbbbbbbbbbbbb", "given twice"),
        ("bad name:aaaaaaaaaaaaaaaaaaaa", "entry 1 must be name:key"),
    ],
)
def test_a_malformed_key_list_is_refused_without_repeating_a_key(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_api_keys(text)
    for secret in ("aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbb", "short"):
        assert secret not in str(caught.value)


def test_a_session_holds_until_it_expires() -> None:
    s = sessions()
    cookie = s.issue("editor", at(0))
    assert s.verify(cookie, at(0.5)) is not None
    assert s.verify(cookie, at(1.01)) is None


def test_a_tampered_or_foreign_cookie_opens_no_session() -> None:
    s = sessions()
    cookie = s.issue("editor", at(0))
    _, rest = cookie.split(".", 1)
    forged = "bmlnaHQ." + rest  # "night", with the editor's signature
    assert s.verify(forged, at(0.1)) is None
    assert sessions(secret=b"y" * 32).verify(cookie, at(0.1)) is None
    assert s.verify("not.a.cookie", at(0.1)) is None


def test_replacing_a_names_key_ends_its_sessions() -> None:
    cookie = sessions().issue("editor", at(0))
    rotated = sessions({**KEYS, "editor": "editor-key-new-987654321"})
    assert rotated.verify(cookie, at(0.1)) is None
    assert sessions({"night": KEYS["night"]}).verify(cookie, at(0.1)) is None


def test_a_csrf_token_belongs_to_its_session() -> None:
    s = sessions()
    mine = s.verify(s.issue("editor", at(0)), at(0))
    other = s.verify(s.issue("editor", at(0)), at(0))
    assert mine is not None and other is not None
    assert s.check_csrf(mine, s.csrf_token(mine))
    assert not s.check_csrf(mine, s.csrf_token(other))
    assert not s.check_csrf(mine, None)
    assert not s.check_csrf(mine, "")


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), (None, None)],
)
def test_the_bearer_token_is_read_from_the_authorization_header(header: str | None, token: str | None) -> None:
    assert bearer(header) == token
