"""Who may write (and, if so set, read): API keys, signed session cookies and CSRF tokens.

Pure functions and small classes with the time passed in; the web layer only moves values in and out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_KEY_CHARS = 16


def parse_api_keys(text: str) -> dict[str, str]:
    """``name:key,name:key`` -> {name: key}. Errors say which entry (by position), never the key."""
    keys: dict[str, str] = {}
    for position, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        name, sep, key = entry.partition(":")
        if not sep or not _NAME.match(name):
            raise ValueError(f"entry {position} must be name:key with a name of letters, digits, '.', '_', '-', '@'")
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"the key of {name!r} must be at least {MIN_KEY_CHARS} characters")
        if name in keys:
            raise ValueError(f"the name {name!r} is given twice")
        keys[name] = key
    return keys


class Keyring:
    def __init__(self, keys: dict[str, str]) -> None:
        self._keys = [(name, key.encode("utf-8")) for name, key in keys.items()]

    def __bool__(self) -> bool:
        return bool(self._keys)

    def identify(self, presented: str) -> str | None:
        """The name of the key presented, compared in constant time against every key (no early exit)."""
        given = presented.encode("utf-8")
        found = None
        for name, key in self._keys:
            if hmac.compare_digest(given, key):
                found = name
        return found

    def key_of(self, name: str) -> bytes | None:
        return next((k for n, k in self._keys if n == name), None)


@dataclass(frozen=True)
class Session:
    name: str
    nonce: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Stateless sessions: a cookie signed with the session secret, bound to the key it was opened with.

    Replacing or removing a name's key ends its sessions; several replicas with one secret share them.
    """

    def __init__(self, secret: bytes, keyring: Keyring, ttl: timedelta) -> None:
        self._secret = secret
        self._keyring = keyring
        self._ttl = ttl

    def _mac(self, *parts: str | bytes) -> str:
        msg = b"|".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in parts)
        return _b64(hmac.new(self._secret, msg, hashlib.sha256).digest())

    def _key_print(self, name: str) -> str | None:
        key = self._keyring.key_of(name)
        return None if key is None else self._mac("key", name, key)[:22]

    def issue(self, name: str, now: datetime, nonce: str | None = None) -> str:
        fingerprint = self._key_print(name)
        if fingerprint is None:
            raise ValueError(f"no key named {name!r}")
        expires = int((now + self._ttl).timestamp())
        nonce = nonce or secrets.token_urlsafe(16)
        payload = f"{_b64(name.encode())}.{expires}.{nonce}.{fingerprint}"
        return f"{payload}.{self._mac('session', payload)}"

    def verify(self, cookie: str | None, now: datetime) -> Session | None:
        if not cookie or cookie.count(".") != 4:
            return None
        payload, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, self._mac("session", payload)):
            return None
        encoded, expires, nonce, fingerprint = payload.split(".")
        try:
            name = _unb64(encoded).decode("utf-8")
            expiry = int(expires)
        except (ValueError, UnicodeDecodeError):
            return None
        current = self._key_print(name)
        if current is None or not hmac.compare_digest(current, fingerprint) or expiry <= now.timestamp():
            return None
        return Session(name, nonce, expiry)

    def csrf_token(self, session: Session) -> str:
        """Bound to the session: a token from another session (or none) is refused."""
        return self._mac("csrf", session.nonce, session.name)

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
