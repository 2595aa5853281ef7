"""``make demo``: the whole product on this machine, watched from the terminal.

Starts the local Kafka broker (unless one runs), serves the bundled story as RSS feeds on
127.0.0.1, runs a webhook receiver that verifies signatures, starts the three services as
separate processes on a fresh topic prefix, prints progress and each alert as it arrives.
Ctrl-C (or ``--duration``) stops every process it started. Without Java or Maven it runs the
same pipeline in one process on the in-memory bus instead.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from services.demo.feedserver import DEMO_ALERT_GRACE, FeedServer, StoryFeeds
from services.demo.progress import progress_line
from services.demo.receiver import Received, WebhookReceiver
from services.demo.render import render_event

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "deploy" / "kafka" / "kafka.sh"
SERVICES = ("ingester", "enricher", "alerter")
#: Where the demo serves the desk when that port is free (the port compose and Kubernetes use).
DESK_PORT = 8090


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def service_env(
    name: str,
    *,
    bootstrap: str,
    prefix: str,
    port: int,
    feeds_file: Path,
    webhook_url: str,
    secret: str,
    poll_interval: float,
    bus: str = "kafka",
    alert_grace: str | None = None,
) -> dict[str, str]:
    """Environment of one service process: the demo's topics, local feeds, local webhook."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "STANCEWATCH_BUS": bus,
        "STANCEWATCH_TOPIC_PREFIX": prefix,
        "STANCEWATCH_HTTP_HOST": "127.0.0.1",
        "STANCEWATCH_HTTP_PORT": str(port),
        "STANCEWATCH_LOG_JSON": "1",
        "PYTHONUNBUFFERED": "1",
    }
    if name == "ingester":
        env |= {
            "STANCEWATCH_FEEDS": str(feeds_file),
            "STANCEWATCH_FETCH_ALLOW_HOSTS": "127.0.0.1",
            "STANCEWATCH_POLL_MIN_INTERVAL": str(poll_interval),
            "STANCEWATCH_POLL_DEFAULT_INTERVAL": str(poll_interval),
            "STANCEWATCH_POLL_MAX_INTERVAL": str(max(poll_interval, 10.0)),
        }
    if name == "alerter":
        env |= {"STANCEWATCH_WEBHOOK_URL": webhook_url, "STANCEWATCH_WEBHOOK_SECRET": secret}
        if alert_grace is not None:
            env["STANCEWATCH_ALERT_GRACE"] = alert_grace
    # Consumer groups are the broker's, not the prefix's: each run (a demo, a test) gets groups of its own,
    # so two runs never join one group and rebalance each other.
    if name == "enricher":
        env["STANCEWATCH_CONSUMER_GROUP"] = f"{prefix}enricher"
    if name == "alerter":
        env["STANCEWATCH_GROUP_ID"] = f"{prefix}alerter"
        env["STANCEWATCH_DELIVERY_GROUP_ID"] = f"{prefix}alerter-delivery"
    return env


class Pipeline:
    """The services as child processes; stops them in reverse order, gracefully first.

    Each process has a name of its own; ``command`` (the name by default) says which service it runs,
    so two instances of one service (``alerter-a``, ``alerter-b``) can run side by side.
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def start(self, name: str, env: dict[str, str], command: str | None = None) -> None:
        self.ports[name] = int(env["STANCEWATCH_HTTP_PORT"])
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", command or name],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops the children in order
        )

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def metrics_urls(self) -> dict[str, str]:
        return {n: f"http://127.0.0.1:{p}/metrics" for n, p in self.ports.items()}

    def stop(self, timeout: float = 20.0) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def print_alert(received: Received) -> None:
    print("\n" + render_event(received.type, received.alert, colour=sys.stdout.isatty()) + "\n", flush=True)


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_on_kafka(args: argparse.Namespace) -> int:
    port = int(os.environ.get("KAFKA_PORT", "9092"))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}")
    was_running = subprocess.run([str(KAFKA), "status"], capture_output=True).returncode == 0
    if not was_running and _port_taken(port):
        print(f"demo: port {port} is taken by another program, not our broker — running in one process on the "
              "in-memory bus (set KAFKA_PORT to a free port for Kafka)")  # fmt: skip
        return asyncio.run(run_in_memory(args))
    if not was_running and subprocess.run([str(KAFKA), "start"]).returncode != 0:
        print("demo: the local Kafka broker did not start (see .cache/kafka-*.log)", file=sys.stderr)
        return 1
    prefix = f"demo{int(time.time())}."
    secret = new_secret()
    log_dir = ROOT / ".cache" / "demo" / prefix.rstrip(".")
    log_dir.mkdir(parents=True, exist_ok=True)
    feeds = FeedServer(StoryFeeds(speed=args.speed)).start()
    receiver = WebhookReceiver(secret, on_alert=print_alert).start()
    feeds_file = log_dir / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    pipeline = Pipeline(log_dir)
    print(f"demo: Kafka at {bootstrap}, topics {prefix}*, feeds at {feeds.base_url}, webhooks to {receiver.url}")
    print(f"demo: service logs in {log_dir}; Ctrl-C stops everything\n")
    stopping = False

    def on_signal(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        topics_env = service_env(
            "topics",
            bootstrap=bootstrap,
            prefix=prefix,
            port=0,
            feeds_file=feeds_file,
            webhook_url=receiver.url,
            secret=secret,
            poll_interval=args.poll_interval,
        )
        subprocess.run([sys.executable, "-m", "services.cli", "topics"], env=topics_env, cwd=ROOT, check=True)
        for name in SERVICES:
            pipeline.start(
                name,
                service_env(
                    name,
                    bootstrap=bootstrap,
                    prefix=prefix,
                    port=free_port(),
                    feeds_file=feeds_file,
                    webhook_url=receiver.url,
                    secret=secret,
                    poll_interval=args.poll_interval,
                    alert_grace=DEMO_ALERT_GRACE,
                ),
            )
        desk_url, desk_key = start_desk(pipeline, bootstrap, prefix, log_dir)
        print(f"demo: the desk is at {desk_url} (log in with the key {desk_key} to correct the machine)\n")
        started = time.monotonic()
        announced = False
        while not stopping:
            time.sleep(2)
            if dead := pipeline.dead():
                for name in dead:
                    print(f"demo: {name} exited; its last log lines:\n{pipeline.tail(name)}", file=sys.stderr)
                return 1
            print(f"  [{time.monotonic() - started:5.0f}s] {progress_line(pipeline.metrics_urls())}", flush=True)
            if feeds.feeds.done() and not announced:
                print("demo: the whole story is out; alerts may still arrive. Ctrl-C to stop.", flush=True)
                announced = True
            if args.duration and time.monotonic() - started >= args.duration:
                break
    except KeyboardInterrupt:
        pass
    finally:
        print("\ndemo: stopping…", flush=True)
        pipeline.stop()
        feeds.stop()
        receiver.stop()
        if not was_running:
            subprocess.run([str(KAFKA), "stop"])
        stats = receiver.stats
        print(
            f"demo: {len(stats.accepted)} alerts received (signatures verified), "
            f"{stats.duplicates} duplicates dropped, {len(stats.rejected)} rejected"
        )
    return 0


def start_desk(pipeline: Pipeline, bootstrap: str, prefix: str, log_dir: Path) -> tuple[str, str]:
    """The desk on the demo's topics, its store under the demo's directory; a fresh key for this run."""
    port = DESK_PORT if not _port_taken(DESK_PORT) else free_port()
    key = secrets.token_urlsafe(18)
    # The environment every demo service gets (feeds and webhook are not the desk's business), plus its own.
    env = service_env(
        "desk", bootstrap=bootstrap, prefix=prefix, port=free_port(), feeds_file=log_dir / "feeds.txt",
        webhook_url="", secret="", poll_interval=1.0,
    )  # fmt: skip
    env |= {
        "STANCEWATCH_DESK_HOST": "127.0.0.1",
        "STANCEWATCH_DESK_PORT": str(port),
        "STANCEWATCH_DESK_DATA_DIR": str(log_dir / "desk"),
        "STANCEWATCH_DESK_API_KEYS": f"demo:{key}",
        "STANCEWATCH_DESK_GROUP_ID": f"{prefix}desk",
    }
    pipeline.start("desk", env)
    return f"http://127.0.0.1:{port}/", key


async def run_in_memory(args: argparse.Namespace) -> int:
    """The same three services in one process on the in-memory bus (no Java needed)."""
    from services.demo.inprocess import run_pipeline_in_memory

    return await run_pipeline_in_memory(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--speed", type=float, default=1.0, help="story speed factor (2 = twice as fast)")
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)")
    parser.add_argument("--poll-interval", type=float, default=2.0, help="seconds between feed polls")
    parser.add_argument("--memory", action="store_true", help="one process on the in-memory bus (no Kafka)")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing or args.memory:
        if missing:
            print(f"demo: {' and '.join(missing)} not found — running the pipeline in one process on the in-memory bus")
        return asyncio.run(run_in_memory(args))
    return run_on_kafka(args)


if __name__ == "__main__":
    sys.exit(main())
