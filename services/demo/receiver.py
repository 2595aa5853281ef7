"""A local webhook receiver that verifies Standard Webhooks signatures and drops duplicates.

Used by the demo (to show alerts as they arrive), the end-to-end test and the latency benchmark.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.alerter.errors import SignatureError
from services.alerter.signing import verify
from shared.contracts import PositionChange
from shared.contracts.webhooks import AlertDigest, parse_webhook_event

#: Bodies above this are refused before reading (an alert is a few kB).
MAX_BODY = 2_000_000


@dataclass
class Received:
    webhook_id: str
    alert: PositionChange
    at: float  # time.time() at receipt
    #: The body's event type (``alert.created``, ``alert.corroborated``, ``alert.retracted``, ``alert.digest``).
    type: str = "alert.created"


@dataclass
class ReceiverStats:
    accepted: list[Received] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    #: Every webhook-id delivered, duplicates included, in arrival order.
    deliveries: list[str] = field(default_factory=list)
    #: ``alert.digest`` bodies (a digest channel's batches).
    digests: list[AlertDigest] = field(default_factory=list)


class WebhookReceiver:
    def __init__(
        self,
        secret: str,
        on_alert: Callable[[Received], None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        answer_after_s: float = 0.0,
    ) -> None:
        self.secret = secret
        #: A slow endpoint (fault tests): each request is taken in only this long after it arrived, so
        #: deliveries queue up at the sender, and a sender killed meanwhile never sees the answer.
        self.answer_after_s = answer_after_s
        self.stats = ReceiverStats()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_error(413)
                    return
                body = self.rfile.read(length)
                arrived = clock()
                if outer.answer_after_s > 0:
                    time.sleep(outer.answer_after_s)  # the endpoint's own latency (this thread only)
                status = outer.accept(dict(self.headers.items()), body, arrived)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._on_alert = on_alert
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    def accept(self, headers: dict[str, str], body: bytes, now: float) -> int:
        try:
            webhook_id = verify(self.secret, headers, body)
            event = parse_webhook_event(body)
        except (SignatureError, ValueError) as exc:
            with self._lock:
                self.stats.rejected.append(str(exc))
            return 400
        with self._lock:
            self.stats.deliveries.append(webhook_id)
            if webhook_id in self._seen:
                self.stats.duplicates += 1
                return 200  # already have it: acknowledge so the sender stops retrying
            self._seen.add(webhook_id)
            if isinstance(event, AlertDigest):
                self.stats.digests.append(event)  # a summary of alerts, not an alert event of its own
                return 200
            received = Received(webhook_id, event.data, now, event.type)
            self.stats.accepted.append(received)
        if self._on_alert is not None:
            self._on_alert(received)
        return 200

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
