"""Metrics in Prometheus text format, structured logs, and a tiny HTTP server for health and JSON.

Every service uses the same log keys (``article_id``, ``feed_url``, ``actor``, ``topic``,
``alert_id``, ``channel``) so one article can be traced end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote

import prometheus_client
from prometheus_client import CollectorRegistry

# A ``_created`` gauge beside every counter and histogram doubles the exposition for no use here.
prometheus_client.disable_created_metrics()

TRACE_KEYS = ("article_id", "feed_url", "actor", "topic", "alert_id", "channel", "delivery_id")
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Metric:
    """One metric of a :class:`Metrics` registry, backed by ``prometheus_client``; labels by keyword."""

    def __init__(self, registry: CollectorRegistry, name: str, labels: Iterable[str]) -> None:
        self._registry = registry
        self.name = name
        self.labels = tuple(labels)
        #: Samples are named ``<base><suffix>`` (a counter's base drops ``_total``).
        self._sample_base = name

    def _child(self, labels: dict[str, str]) -> Any:
        if set(labels) != set(self.labels):
            raise ValueError(f"metric {self.name}: labels {sorted(labels)} != {sorted(self.labels)}")
        metric = self._prom  # type: ignore[attr-defined]
        return metric.labels(**{n: str(labels[n]) for n in self.labels}) if self.labels else metric

    def _sample(self, suffix: str, labels: dict[str, str]) -> float:
        self._child(labels)  # validates the label names
        value = self._registry.get_sample_value(self._sample_base + suffix, {n: str(labels[n]) for n in self.labels})
        return value or 0.0

    def _all(self, suffix: str) -> float:
        return sum(s.value for m in self._registry.collect() for s in m.samples if s.name == self._sample_base + suffix)


class Counter(_Metric):
    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labels: Iterable[str] = ()) -> None:
        super().__init__(registry, name, labels)
        self._prom = prometheus_client.Counter(name, help_text, self.labels, registry=registry)
        # The exposed sample is always ``<base>_total``, whether or not the name ended in it.
        self._sample_base = name.removesuffix("_total")

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self._child(labels).inc(amount)

    def value(self, **labels: str) -> float:
        return self._sample("_total", labels)

    def total(self) -> float:
        return self._all("_total")


class Gauge(_Metric):
    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labels: Iterable[str] = ()) -> None:
        super().__init__(registry, name, labels)
        self._prom = prometheus_client.Gauge(name, help_text, self.labels, registry=registry)

    def set(self, value: float, **labels: str) -> None:
        self._child(labels).set(value)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self._child(labels).inc(amount)

    def value(self, **labels: str) -> float:
        return self._sample("", labels)

    def total(self) -> float:
        return self._all("")

    def remove(self, **labels: str) -> None:
        """Drop one series (a partition that moved to another member must not show a frozen value)."""
        self._child(labels)
        with contextlib.suppress(KeyError):
            self._prom.remove(*(str(labels[n]) for n in self.labels))


class Histogram(_Metric):
    def __init__(
        self,
        registry: CollectorRegistry,
        name: str,
        help_text: str,
        labels: Iterable[str] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(registry, name, labels)
        self.buckets = tuple(sorted(buckets))
        self._prom = prometheus_client.Histogram(name, help_text, self.labels, registry=registry, buckets=self.buckets)

    def observe(self, value: float, **labels: str) -> None:
        self._child(labels).observe(value)

    def count(self, **labels: str) -> int:
        return int(self._sample("_count", labels))


class Metrics:
    """A registry: each service creates its metrics once and renders them at ``/metrics``.

    One naming scheme: ``stancewatch_<service>_<name>`` (``stancewatch_alerter_deliveries_total``), so a
    name means one thing wherever it is scraped; the few that describe the process rather than the
    service (``stancewatch_build_info``, ``stancewatch_up``) are :meth:`process_gauge` and carry the
    service as a label. The exposition is ``prometheus_client``'s (exact integers, escaped labels).
    Asking again for a metric of the same name and shape returns the one already registered.
    """

    def __init__(self, service: str | None = None, namespace: str = "stancewatch") -> None:
        self.namespace = namespace
        #: Prometheus names allow [a-zA-Z0-9_]: a service called "busy-port" is exposed as busy_port.
        self.service = re.sub(r"[^a-zA-Z0-9_]", "_", service) if service else None
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, _Metric] = {}

    def full_name(self, name: str) -> str:
        return f"{self.namespace}_{self.service}_{name}" if self.service else f"{self.namespace}_{name}"

    def _get(
        self,
        cls: type[_Metric],
        name: str,
        labels: Iterable[str],
        make: Callable[[str], _Metric],
        *,
        process: bool = False,
    ) -> Any:
        full = f"{self.namespace}_{name}" if process else self.full_name(name)
        existing = self._metrics.get(full)
        if existing is not None:
            if type(existing) is not cls or existing.labels != tuple(labels):
                raise ValueError(f"metric {full} registered twice with different shapes")
            return existing
        metric = self._metrics[full] = make(full)
        return metric

    def counter(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Counter:
        labels = tuple(labels)
        return self._get(Counter, name, labels, lambda full: Counter(self.registry, full, help_text, labels))

    def gauge(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Gauge:
        labels = tuple(labels)
        return self._get(Gauge, name, labels, lambda full: Gauge(self.registry, full, help_text, labels))

    def process_gauge(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Gauge:
        """A gauge about the process (``stancewatch_<name>``), the same name in every service."""
        labels = tuple(labels)
        return self._get(Gauge, name, labels, lambda full: Gauge(self.registry, full, help_text, labels), process=True)

    def histogram(
        self, name: str, help_text: str, labels: Iterable[str] = (), buckets: tuple[float, ...] = DEFAULT_BUCKETS
    ) -> Histogram:
        labels = tuple(labels)
        return self._get(
            Histogram, name, labels, lambda full: Histogram(self.registry, full, help_text, labels, buckets)
        )

    def render(self) -> str:
        return prometheus_client.generate_latest(self.registry).decode("utf-8")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any trace keys given in ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in vars(record).items():
            if k not in _RESERVED and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class RepeatFilter(logging.Filter):
    """One line per interval for a repeated warning or error, then the count of those held back.

    A broker outage makes every client retry and log the same failure many times a second; an
    operator needs to see that it happens and how often, not thousands of identical lines. Records
    are "the same" when logger, level and message template match. Time is injected for tests.
    """

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        last, held = self._seen.get(key, (float("-inf"), 0))
        if now - last < self.interval_s:
            self._seen[key] = (last, held + 1)
            return False
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {now - last:.0f}s)"
        self._seen[key] = (now, 0)
        if len(self._seen) > 10_000:  # bounded: forget the oldest templates
            for old in sorted(self._seen, key=lambda k: self._seen[k][0])[:5_000]:
                del self._seen[old]
        return True


def configure_logging(level: str = "INFO", json_format: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RepeatFilter())
    handler.setFormatter(
        JsonLogFormatter() if json_format else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


# --- HTTP: /healthz, /readyz, /metrics and optional JSON routes --------------------------------

JsonRoute = Callable[[dict[str, str]], Awaitable[Any] | Any]
MAX_REQUEST_LINE = 8192
#: More query parameters than this is a bad request, not a route's problem.
MAX_QUERY_FIELDS = 32

log = logging.getLogger("stancewatch.http")


class BadRequest(ValueError):
    """A JSON route refuses its query: answered 400 with ``{"error": "bad request", "reason": ...}``."""


def parse_query(query: str) -> dict[str, str]:
    """A query string decoded as :func:`urllib.parse.parse_qs` does (``%2D`` is ``-``, ``+`` a space).

    Blank values are kept (a route decides whether ``actor=`` is acceptable); a repeated name, text that
    is not UTF-8 once decoded or too many fields is a :class:`BadRequest`, since a route takes one value
    per name and must not see a silently chosen one.
    """
    try:
        parsed = parse_qs(
            query, keep_blank_values=True, strict_parsing=False, errors="strict", max_num_fields=MAX_QUERY_FIELDS
        )
    except UnicodeDecodeError as exc:
        raise BadRequest("the query is not UTF-8 once percent-decoded") from exc
    except ValueError as exc:  # max_num_fields
        raise BadRequest(f"at most {MAX_QUERY_FIELDS} query parameters") from exc
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise BadRequest(f"parameter(s) given more than once: {', '.join(repeated)}")
    return {name: values[0] for name, values in parsed.items()}


def check_params(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse a parameter the route does not read: a misspelt filter would otherwise be ignored in silence."""
    allowed = sorted(allowed)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) if allowed else "none"
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)} (accepted: {accepted})")


class HealthServer:
    """A minimal read-only HTTP/1.1 server on asyncio: no framework needed for a few GET routes."""

    def __init__(
        self,
        metrics: Metrics,
        host: str = "127.0.0.1",
        port: int = 0,
        ready: Callable[[], bool] | None = None,
        routes: dict[str, JsonRoute] | None = None,
        problems: Callable[[], list[dict[str, str]]] | None = None,
    ) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self._ready = ready or (lambda: True)
        #: Why the service is not alive (a dead or stalled task); empty while it is.
        self._problems = problems or (lambda: [])
        # Kept by reference: a service may add routes after the server started.
        self.routes = routes if routes is not None else {}
        self._server: asyncio.Server | None = None

    def _count_error(self, path: str, status: int) -> None:
        # Registered on first use: a server that never refuses a query adds nothing to /metrics.
        counter = self.metrics.counter(
            "http_route_errors_total", "JSON route requests answered 400 (bad query) or 500", ("route", "status")
        )
        counter.inc(route=path, status=str(status))

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            if len(line) > MAX_REQUEST_LINE:
                await self._send(writer, 414, b"request line too long\n", "text/plain")
                return
            while True:  # drain headers
                h = await asyncio.wait_for(reader.readline(), 5)
                if h in (b"\r\n", b"\n", b""):
                    break
            parts = line.decode("latin-1").split()
            if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
                await self._send(writer, 405, b"only GET\n", "text/plain")
                return
            raw_path, _, query = parts[1].partition("?")
            path = unquote(raw_path.partition("#")[0], errors="replace")
            await self._route(writer, path, query.partition("#")[0])
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _route(self, writer: asyncio.StreamWriter, path: str, query: str) -> None:
        if path == "/healthz":
            problems = self._problems()
            if problems:
                body = json.dumps({"status": "unhealthy", "problems": problems}).encode()
                await self._send(writer, 503, body, "application/json")
            else:
                await self._send(writer, 200, b'{"status":"ok"}', "application/json")
        elif path == "/readyz":
            ok = self._ready()
            await self._send(writer, 200 if ok else 503, json.dumps({"ready": ok}).encode(), "application/json")
        elif path == "/metrics":
            await self._send(writer, 200, self.metrics.render().encode(), "text/plain; version=0.0.4")
        elif path in self.routes:
            try:
                result = self.routes[path](parse_query(query))
                if asyncio.iscoroutine(result):
                    result = await result
            except BadRequest as exc:
                self._count_error(path, 400)
                body = json.dumps({"error": "bad request", "reason": str(exc)}, ensure_ascii=False).encode()
                await self._send(writer, 400, body, "application/json")
                return
            except Exception:
                # A failing route answers 500 and is logged; the server goes on serving.
                log.exception("route %s failed", path)
                self._count_error(path, 500)
                await self._send(writer, 500, b'{"error":"internal error"}', "application/json")
                return
            body = json.dumps(result, default=str, ensure_ascii=False).encode()
            await self._send(writer, 200, body, "application/json")
        else:
            await self._send(writer, 404, b'{"error":"not found"}', "application/json")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str) -> None:
        reason = {
            200: "OK",
            400: "Bad Request",
            404: "Not Found",
            405: "Method Not Allowed",
            414: "URI Too Long",
            500: "Internal Server Error",
            503: "Unavailable",
        }
        head = (
            f"HTTP/1.1 {status} {reason.get(status, 'OK')}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        writer.write(head + body)
        await writer.drain()
