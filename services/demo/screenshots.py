"""Screenshots of the desk for the README, taken from the running demo (``make screenshots``).

Starts the local broker if needed, runs the demo story through the four services at a higher speed,
waits until the story's alerts are on the desk, then photographs the overview, Trump's timeline on
Ukraine's territory and the alerts inbox in headless Chromium (laptop width, and the overview at phone
width). Nothing is drawn by hand: what the README shows is what the desk served.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from services.demo.__main__ import KAFKA, ROOT, Pipeline, free_port, new_secret, service_env, start_desk
from services.demo.feedserver import FeedServer, StoryFeeds
from services.demo.receiver import WebhookReceiver

OUT = ROOT / "docs" / "desk"
#: (file, path on the desk, window width, height)
SHOTS = (
    ("overview.png", "", 1280, 720),
    ("timeline.png", "timeline?actor=trump&topic=ukraine-territory", 1280, 1100),
    ("alerts.png", "alerts", 1280, 1000),
    ("overview-phone.png", "", 390, 844),
)


def photograph(url: str, out: Path) -> list[Path]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never go online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        raise SystemExit("screenshots: no chromium/chromedriver (make browser installs them where it can)")
    written = []
    for name, path, width, height in SHOTS:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        try:
            driver.get(url + path)
            target = out / name
            driver.save_screenshot(str(target))
            written.append(target)
        finally:
            driver.quit()
    return written


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise SystemExit(f"screenshots: {what} not within {timeout:.0f} s")


def alerts_on_desk(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "api/alerts", timeout=2) as resp:
            import json

            return int(json.load(resp).get("total", 0))
    except OSError:
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make screenshots", description=__doc__)
    parser.add_argument("--speed", type=float, default=6.0, help="story speed factor")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}")
    was_running = subprocess.run([str(KAFKA), "status"], capture_output=True).returncode == 0
    if not was_running and subprocess.run([str(KAFKA), "start"]).returncode != 0:
        return 1
    prefix = f"shots{int(time.time())}."
    log_dir = ROOT / ".cache" / "demo" / prefix.rstrip(".")
    log_dir.mkdir(parents=True, exist_ok=True)
    secret = new_secret()
    feeds = FeedServer(StoryFeeds(speed=args.speed)).start()
    receiver = WebhookReceiver(secret).start()
    feeds_file = log_dir / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    pipeline = Pipeline(log_dir)
    try:
        for name in ("ingester", "enricher", "alerter"):
            env = service_env(
                name, bootstrap=bootstrap, prefix=prefix, port=free_port(), feeds_file=feeds_file,
                webhook_url=receiver.url, secret=secret, poll_interval=1.0, alert_grace="1s",
            )  # fmt: skip
            pipeline.start(name, env)
        url, _ = start_desk(pipeline, bootstrap, prefix, log_dir)
        wait_for(feeds.feeds.done, 600, "the whole story")
        wait_for(lambda: len(receiver.stats.accepted) >= 4 and alerts_on_desk(url) >= 4, 180, "the story's alerts")
        time.sleep(3)  # the last positions reach the desk
        args.out.mkdir(parents=True, exist_ok=True)
        for path in photograph(url, args.out):
            print(f"screenshots: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    finally:
        pipeline.stop()
        feeds.stop()
        receiver.stop()
        if not was_running:
            subprocess.run([str(KAFKA), "stop"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
