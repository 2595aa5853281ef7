"""Helpers for tests (not fixtures)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KAFKA_SCRIPT = ROOT / "deploy" / "kafka" / "kafka.sh"


async def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> None:
    """Poll ``predicate`` (sync or async) until true; fail with a clear message on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


class OwnBroker:
    """A broker of the test's own (ports and data folder) that the test may stop and start again.

    The suite's broker is shared by every test; a test that takes the broker away needs its own.
    """

    #: The user ``KAFKA_SASL=scram`` creates (kafka.sh's defaults).
    SASL_USERNAME = "stancewatch"
    SASL_PASSWORD = "stancewatch-secret"

    def __init__(self, cache: Path, *, sasl: bool = False, tls: bool = False) -> None:
        cache.mkdir(parents=True, exist_ok=True)
        jars = ROOT / ".cache" / "kafka-jars"
        if (jars / ".complete").exists() and not (cache / "kafka-jars").exists():
            (cache / "kafka-jars").symlink_to(jars)  # reuse the jars `make test` already fetched
        self.cache = cache
        self.port = free_port()
        self.env = {
            **os.environ,
            "STANCEWATCH_CACHE": str(cache),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            "KAFKA_SASL": "scram" if sasl else "",
            "KAFKA_TLS": "1" if tls else "",
        }

    @property
    def ca(self) -> Path:
        """The CA that signed the broker's certificate (``tls=True``)."""
        return self.cache / f"kafka-tls-{self.port}" / "ca.pem"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run(self, action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(KAFKA_SCRIPT), action], env=self.env, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        done = self.run("start")
        assert done.returncode == 0, f"broker start failed: {done.stderr[-2000:]}"

    def stop(self) -> None:
        done = self.run("stop")
        assert done.returncode == 0, f"broker stop failed: {done.stderr[-2000:]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Done:
    status: int
    out: str
    err: str


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any STANCEWATCH_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("STANCEWATCH_")}
    return env | extra


async def stancewatch(*args: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> Done:
    """Run ``stancewatch ARGS`` as a real process without blocking the loop (servers in it keep serving)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        cwd=ROOT,
        env=clean_env() if env is None else env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


async def http_get(port: int, target: str, host: str = "127.0.0.1", timeout: float = 10.0) -> tuple[int, bytes]:
    """GET ``target`` byte for byte as written, over a real socket: no client re-encodes its escapes."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
