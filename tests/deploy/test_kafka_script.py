"""The broker script: start/stop twice in a row, a second start is a no-op, status tells the truth.

Runs a second broker on its own ports and data folder so the suite's broker is untouched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support import KAFKA_SCRIPT as SCRIPT
from tests.support import ROOT, free_port


def run(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), action], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_broker_script_starts_and_stops_cleanly_twice_and_a_second_start_is_a_no_op(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    jars = ROOT / ".cache" / "kafka-jars"
    if (jars / ".complete").exists():  # reuse the jars `make test` already fetched
        cache.mkdir()
        (cache / "kafka-jars").symlink_to(jars)
    port, cport = free_port(), free_port()
    env = {**os.environ, "STANCEWATCH_CACHE": str(cache), "KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(cport)}
    try:
        for _ in range(2):
            started = run("start", env)
            assert started.returncode == 0, started.stderr
            assert f"started on 127.0.0.1:{port}" in started.stdout
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
            listeners = [
                line
                for line in (cache / f"kafka-{port}.properties").read_text().splitlines()
                if line.startswith(("listeners=", "advertised.listeners="))
            ]
            assert listeners and all("0.0.0.0" not in x and x.count("127.0.0.1") >= 1 for x in listeners)
            again = run("start", env)
            assert again.returncode == 0 and "already running" in again.stdout
            assert run("status", env).returncode == 0
            stopped = run("stop", env)
            assert stopped.returncode == 0 and "stopped" in stopped.stdout
            assert run("status", env).returncode == 3
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
        assert "not running" in run("stop", env).stdout
    finally:
        run("stop", env)
        shutil.rmtree(cache, ignore_errors=True)
