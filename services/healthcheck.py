"""``stancewatch healthcheck [--url URL | --port PORT]``: GET /healthz of a local service, for container checks.

Exit 0 when it answers 200 and 1 otherwise (an error status, a refused connection, no answer in time,
a wrong argument: Docker reserves status 2, so argparse's usual 2 is not used).
The image has neither curl nor wget; this needs only the standard library and gives up after a bounded
time, so a hung service fails its check instead of hanging it. It reads no settings (a probe must not
fail because of the environment), only ``STANCEWATCH_HTTP_PORT`` when no port is given.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_TIMEOUT_S = 3.0
MAX_TIMEOUT_S = 60.0
#: Enough of an unhealthy answer to name the problem (the /healthz body lists dead or stalled tasks).
MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class Health:
    """What the service answered: its HTTP status (None when it did not answer) and why, in a few words."""

    status: int | None
    detail: str = ""


def health_url(url: str | None, port: int | None, env: Mapping[str, str]) -> str:
    """The URL to probe: ``url`` (``/healthz`` added when it has no path), else ``port`` or the service's own."""
    if url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--url must be an http(s) URL, not {url!r}")
        return url if parts.path not in ("", "/") else urllib.parse.urlunsplit(parts._replace(path="/healthz"))
    if port is None:
        raw = env.get("STANCEWATCH_HTTP_PORT", "").strip()
        if not raw.isdigit() or int(raw) == 0:
            raise ValueError("give --url or --port (STANCEWATCH_HTTP_PORT is unset or 0: the port is not known)")
        port = int(raw)
    if not 0 < port < 65536:
        raise ValueError(f"--port {port} is not a port")
    return f"http://127.0.0.1:{port}/healthz"


def shown_url(url: str) -> str:
    """The URL without any user:password part, for printing."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def request_for(url: str) -> urllib.request.Request:
    """A GET of ``url``; a ``user:password@`` part becomes Basic authentication (urllib takes it for the host)."""
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(shown_url(url), method="GET")
    if parts.username is not None:
        pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode("ascii"))
    return request


def fetch(url: str, timeout_s: float) -> Health:
    """One GET; never raises. Proxies from the environment are ignored: the service is local."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request_for(url), timeout=timeout_s) as resp:
            return Health(resp.status)
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_DETAIL_CHARS).decode("utf-8", "replace").strip()
        return Health(exc.code, body)
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            return Health(None, f"no answer within {timeout_s:g}s")
        return Health(None, str(getattr(reason, "strerror", None) or reason))


def probe(url: str, timeout_s: float) -> Health:
    """:func:`fetch` with a deadline on the whole exchange, not only on each socket operation."""
    result: list[Health] = []
    worker = threading.Thread(target=lambda: result.append(fetch(url, timeout_s)), daemon=True)
    worker.start()
    worker.join(timeout_s)
    return result[0] if result else Health(None, f"no answer within {timeout_s:g}s")


def report(url: str, health: Health) -> tuple[int, str]:
    """(exit status, the line to print): 0 only for a 200."""
    where = shown_url(url)
    if health.status == 200:
        return 0, f"healthy: {where} answered 200"
    if health.status is None:
        return 1, f"unhealthy: {where}: {health.detail}"
    detail = " ".join(health.detail.split())[:MAX_DETAIL_CHARS]
    return 1, f"unhealthy: {where} answered {health.status}" + (f": {detail}" if detail else "")


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error is unhealthy (1), never Docker's reserved 2
        return 0 if exc.code in (0, None) else 1


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="stancewatch healthcheck", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="the URL to GET (default path /healthz), e.g. http://127.0.0.1:8080")
    target.add_argument("--port", type=int, help="GET http://127.0.0.1:PORT/healthz (default STANCEWATCH_HTTP_PORT)")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help=f"seconds (default {DEFAULT_TIMEOUT_S:g})"
    )
    args = parser.parse_args(argv)
    if not 0 < args.timeout <= MAX_TIMEOUT_S:
        parser.error(f"--timeout must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds")
    try:
        url = health_url(args.url, args.port, os.environ)
    except ValueError as exc:
        parser.error(str(exc))
    status, line = report(url, probe(url, args.timeout))
    print(line, file=sys.stdout if status == 0 else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
