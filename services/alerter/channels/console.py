"""Print alerts as JSON lines (demos, debugging, a channel that cannot fail)."""

from __future__ import annotations

import sys
from typing import TextIO

from services.alerter.channels.base import Channel
from shared.contracts import PositionChange


class ConsoleChannel(Channel):
    kind = "console"

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        super().__init__(name)
        self._stream = stream

    async def send(self, alerts: list[PositionChange], *, delivery_id: str, digest: bool) -> int | None:
        out = self._stream or sys.stdout
        for alert in alerts:
            out.write(alert.to_json_bytes().decode("utf-8") + "\n")
        out.flush()
        return None
