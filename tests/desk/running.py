"""The desk service itself (runtime, Kafka bus, store, web app) run in this process for a test."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from pydantic import SecretStr

from services.desk.service import body
from services.desk.settings import DeskSettings
from shared.runtime import serve
from tests.desk.harness import KEYS
from tests.support import free_port, wait_until


def desk_settings(bootstrap: str, prefix: str, data_dir: Path, database_url: str | None = None) -> DeskSettings:
    return DeskSettings(
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=prefix,
        http_host="127.0.0.1",
        http_port=0,
        desk_host="127.0.0.1",
        desk_port=free_port(),
        desk_data_dir=data_dir,
        desk_database_url=SecretStr(database_url) if database_url else None,
        desk_api_keys=SecretStr(",".join(f"{n}:{k}" for n, k in KEYS.items())),
        desk_session_secret=SecretStr("t" * 40),
        log_json=False,
    )


@contextlib.asynccontextmanager
async def running_desk(settings: DeskSettings, *, rebuild: bool = False) -> AsyncIterator[str]:
    """Start the desk, wait until /readyz answers 200, yield its base URL; stop it (SIGTERM's path) after."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve("desk", settings, functools.partial(body, rebuild=rebuild), stop=stop))
    url = f"http://127.0.0.1:{settings.desk_port}"

    async def ready() -> bool:
        if task.done():
            task.result()  # surfaces the error that ended it
        try:
            async with httpx.AsyncClient(trust_env=False) as http:
                return (await http.get(f"{url}/readyz", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_until(ready, timeout=60, interval=0.1)
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
