"""Print deliveries as JSON lines (demos, debugging, a channel that cannot fail).

Each line is the delivery's event as a webhook would receive it (``type``, ``timestamp``, ``data``),
so what the console shows is what a receiver gets.
"""

from __future__ import annotations

import sys
from typing import TextIO

from services.alerter.channels.base import Channel
from services.alerter.channels.webhook import webhook_body
from shared.contracts import DeliveryTask


class ConsoleChannel(Channel):
    kind = "console"

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        super().__init__(name)
        self._stream = stream

    async def send(self, task: DeliveryTask) -> int | None:
        out = self._stream or sys.stdout
        _, body = webhook_body(task, stage=f"console {self.name}")
        out.write(body.decode("utf-8") + "\n")
        out.flush()
        return None
