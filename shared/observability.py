"""Metrics in Prometheus text format, structured logs, and a tiny HTTP server for health and JSON.

Every service uses the same log keys (``article_id``, ``feed_url``, ``actor``, ``topic``,
``alert_id``, ``channel``) so one article can be traced end to end.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

TRACE_KEYS = ("article_id", "feed_url", "actor", "topic", "alert_id", "channel", "delivery_id")
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels_text(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    parts = [f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labels):
            raise ValueError(f"metric {self.name}: labels {sorted(labels)} != {sorted(self.labels)}")
        return tuple(str(labels[n]) for n in self.labels)

    def samples(self) -> list[str]:
        raise NotImplementedError

    def render(self) -> str:
        head = f"# HELP {self.name} {self.help}\n# TYPE {self.name} {self.kind}\n"
        return head + "".join(line + "\n" for line in self.samples())


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def total(self) -> float:
        return sum(self._values.values())

    def samples(self) -> list[str]:
        return [f"{self.name}{_labels_text(self.labels, k)} {v:g}" for k, v in sorted(self._values.items())]


class Gauge(Counter):
    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = value


DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, labels: Iterable[str] = (), buckets: tuple[float, ...] = DEFAULT_BUCKETS
    ) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for i, b in enumerate(self.buckets):
                if value <= b:
                    counts[i] += 1
            counts[-1] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        counts = self._counts.get(self._key(labels))
        return counts[-1] if counts else 0

    def samples(self) -> list[str]:
        out = []
        for key, counts in sorted(self._counts.items()):
            for b, c in zip(self.buckets, counts, strict=False):
                le = "+Inf" if math.isinf(b) else f"{b:g}"
                bucket = 'le="' + le + '"'
                out.append(f"{self.name}_bucket{_labels_text(self.labels, key, bucket)} {c}")
            inf = 'le="+Inf"'
            out.append(f"{self.name}_bucket{_labels_text(self.labels, key, inf)} {counts[-1]}")
            out.append(f"{self.name}_sum{_labels_text(self.labels, key)} {self._sums[key]:g}")
            out.append(f"{self.name}_count{_labels_text(self.labels, key)} {counts[-1]}")
        return out


class Metrics:
    """A registry: each service creates its metrics once and renders them at ``/metrics``."""

    def __init__(self, namespace: str = "stancewatch") -> None:
        self.namespace = namespace
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> Any:
        existing = self._metrics.get(metric.name)
        if existing is not None:
            if type(existing) is not type(metric) or existing.labels != metric.labels:
                raise ValueError(f"metric {metric.name} registered twice with different shapes")
            return existing
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Counter:
        return self._add(Counter(f"{self.namespace}_{name}", help_text, labels))

    def gauge(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Gauge:
        return self._add(Gauge(f"{self.namespace}_{name}", help_text, labels))

    def histogram(
        self, name: str, help_text: str, labels: Iterable[str] = (), buckets: tuple[float, ...] = DEFAULT_BUCKETS
    ) -> Histogram:
        return self._add(Histogram(f"{self.namespace}_{name}", help_text, labels, buckets))

    def render(self) -> str:
        return "".join(m.render() for m in self._metrics.values())


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
            path, _, query = parts[1].partition("?")
            params = dict(p.partition("=")[::2] for p in query.split("&") if p)
            await self._route(writer, path, params)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _route(self, writer: asyncio.StreamWriter, path: str, params: dict[str, str]) -> None:
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
            result = self.routes[path](params)
            if asyncio.iscoroutine(result):
                result = await result
            body = json.dumps(result, default=str, ensure_ascii=False).encode()
            await self._send(writer, 200, body, "application/json")
        else:
            await self._send(writer, 404, b'{"error":"not found"}', "application/json")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str) -> None:
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 414: "URI Too Long", 503: "Unavailable"}
        head = (
            f"HTTP/1.1 {status} {reason.get(status, 'OK')}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        writer.write(head + body)
        await writer.drain()
