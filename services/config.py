"""``stancewatch config SERVICE [--json]``: the settings a service would run with, secrets masked.

Loaded exactly as the service loads them at start, so a wrong or unknown variable fails here too
(status 2). Each value is written as its environment variable would be (``48h``, ``1``/``0``; empty
when unset), so the output reads like an env file. A secret is shown only as ``***``: every SecretStr
(webhook and Slack URLs, signing secrets), anything named like a secret, token or password, and the
credentials inside any URL.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from shared.errors import StancewatchError
from shared.settings import SERVICE_SETTINGS, ServiceSettings, env_name, load_settings, settings_class

MASK = "***"
#: A variable whose name holds one of these is a secret, whatever its type.
SECRET_WORDS = ("secret", "token", "password", "passwd", "credential", "api_key", "apikey", "private_key")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&](?:[^=&#\s]*(?:" + "|".join(SECRET_WORDS) + r"|key|sig|signature|auth)[^=&#\s]*)=)[^&#\s]*",
    re.IGNORECASE,
)
_UNITS = (("h", 3600), ("m", 60))


def is_secret_name(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_WORDS)


def duration_text(value: timedelta) -> str:
    """The largest of h, m, s that writes ``value`` exactly (``48h``, ``5m``, ``90s``): the env syntax."""
    seconds = value.total_seconds()
    for unit, size in _UNITS:
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def env_text(value: object) -> str | None:
    """``value`` as its environment variable would be written; None when unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, timedelta):
        return duration_text(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def mask_credentials(text: str) -> str:
    """Any ``user:password@`` in a URL, and query parameters named like a secret, become ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{MASK}", text)


def shown(name: str, value: object) -> str | None:
    """What ``config`` prints for one variable: never a secret, only whether one is set."""
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else None
    text = env_text(value)
    if text is None:
        return None
    if is_secret_name(name):
        return MASK if text else text
    return mask_credentials(text)


def effective_settings(settings: ServiceSettings) -> dict[str, str | None]:
    """Environment variable -> the value shown, in declaration order (the common settings first)."""
    cls = type(settings)
    return {env_name(cls, field): shown(env_name(cls, field), getattr(settings, field)) for field in cls.model_fields}


def render(values: dict[str, str | None], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(values, indent=2, ensure_ascii=False)
    return "\n".join(f"{name}={'' if value is None else value}" for name, value in values.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stancewatch config", description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=sorted(SERVICE_SETTINGS), help="whose settings")
    parser.add_argument("--json", action="store_true", help="one JSON object (null when unset) instead of KEY=value")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(settings_class(args.service))
    except StancewatchError as exc:
        print(f"stancewatch config: {exc}", file=sys.stderr)
        return 2
    print(render(effective_settings(settings), as_json=args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
