"""The desk's web app on a real 127.0.0.1 port, for HTTP tests (feedback published on the in-memory bus)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from services.desk.auth import Keyring, Sessions
from services.desk.store import Store
from services.desk.web import DeskApp, DeskConfig
from shared.bus.memory import MemoryBus
from shared.contracts import Feedback
from shared.topics import Topics
from tests.desk.factories import at

KEYS = {"editor": "k-editor-0123456789abcdef", "night-desk": "k-night-0123456789abcdef"}
SESSION_SECRET = b"s" * 32


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: at(100))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class DeskServer:
    def __init__(self, store: Store, *, read_auth: str = "open", keys: dict[str, str] | None = None) -> None:
        self.store = store
        self.bus = MemoryBus(default_partitions=6)
        self.topics = Topics(prefix="desk-test.")
        self.clock = Clock()
        keyring = Keyring(KEYS if keys is None else keys)
        self.config = DeskConfig(
            keyring=keyring, sessions=Sessions(SESSION_SECRET, keyring, timedelta(hours=12)), read_auth=read_auth
        )
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def publish(self, feedback: Feedback) -> None:
        await self.bus.publish(self.topics.feedback.name, feedback, key=feedback.key)

    def published(self) -> list[Feedback]:
        return [Feedback.from_json_bytes(r.value or b"") for r in self.bus.records(self.topics.feedback.name)]

    async def start(self) -> str:
        await self.bus.start()
        app = DeskApp(self.store, self.publish, self.config, clock=self.clock).app()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.bus.stop()
