"""A real HTTP server on a loopback address for the ingester's tests (a thread, so async tests can call it)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (slow feeds).
    delay: float = 0.0
    #: Send the body in pieces with this pause between them (a server that drips).
    drip: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    #: The client's (address, port): one value per TCP connection.
    peer: tuple[str, int] | None = None


Route = Callable[[Seen], Reply]


class LocalServer:
    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route | Reply] = {}
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, self.client_address[:2])
                server.requests.append(seen)
                route = server.routes.get(self.path.split("?", 1)[0])
                reply = Reply(404, b"not here") if route is None else route if isinstance(route, Reply) else route(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if reply.drip:
                        for i in range(0, len(reply.body), 16):
                            self.wfile.write(reply.body[i : i + 16])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.scheme = "http" if tls is None else "https"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]


@contextmanager
def serving(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    server = LocalServer(host, tls)
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def rss(items: list[tuple[str, str, str | None]], title: str = "Test feed") -> bytes:
    """An RSS 2.0 document of (title, link, RFC 822 date or None) items."""
    parts = []
    for t, link, date in items:
        when = f"<pubDate>{date}</pubDate>" if date else ""
        parts.append(f"<item><title>{t}</title><link>{link}</link>{when}<description>About {t}.</description></item>")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://127.0.0.1/</link>{''.join(parts)}</channel></rss>"
    ).encode()
