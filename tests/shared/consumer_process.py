"""A consumer in its own process, for kill and SIGTERM tests.

usage: python -m tests.shared.consumer_process BOOTSTRAP TOPIC GROUP DLQ LOGFILE SECONDS_PER_MESSAGE
Appends "start <id>" and "done <id>" lines to LOGFILE around each message's (slow) work.
"""

from __future__ import annotations

import asyncio
import sys

from shared.bus import ConsumerLoop, KafkaBus, Record
from shared.contracts import RawArticle
from shared.runtime import install_signal_handlers


async def main(bootstrap: str, topic: str, group: str, dlq: str, logfile: str, delay: float) -> None:
    bus = KafkaBus(bootstrap)
    await bus.start()

    def note(line: str) -> None:
        with open(logfile, "a") as fh:
            fh.write(line + "\n")

    async def handler(rec: Record) -> None:
        art = rec.decode(RawArticle)
        note(f"start {art.id}")
        await asyncio.sleep(delay)
        note(f"done {art.id}")

    stop = asyncio.Event()
    install_signal_handlers(stop)
    loop = ConsumerLoop(bus, [topic], group, handler, dead_letter_topic=dlq, batch_size=1)
    try:
        await loop.run(stop)
    finally:
        await bus.stop()
    note("exited")


if __name__ == "__main__":
    b, t, g, d, f, s = sys.argv[1:7]
    asyncio.run(main(b, t, g, d, f, float(s)))
