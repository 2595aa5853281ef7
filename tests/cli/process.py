"""Run ``stancewatch`` as a real process from an async test, so servers in the test's loop keep serving."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from tests.support import ROOT


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
