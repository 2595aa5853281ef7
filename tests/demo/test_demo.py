"""The demo's pieces: the story feeds reveal items over time and answer 304s; the in-memory demo
runs the whole pipeline in one process and shows verified alerts."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from services.demo.feedserver import FeedServer, StoryFeeds
from services.demo.progress import parse_prometheus
from services.demo.timeline import STORY, replay_lines

ROOT = Path(__file__).resolve().parents[2]


def test_story_items_appear_in_their_feeds_only_when_their_time_has_come() -> None:
    now = [0.0]
    feeds = StoryFeeds(clock=lambda: now[0])
    assert [i.slug for i in feeds.visible()] == [STORY[0].slug]
    now[0] = STORY[-1].at_s
    assert len(feeds.visible()) == len(STORY) and feeds.done()


def test_feed_server_answers_a_repeated_conditional_get_with_304() -> None:
    now = [0.0]
    feeds = StoryFeeds(clock=lambda: now[0])
    now[0] = STORY[-1].at_s  # the whole story is out: the feed no longer changes between requests
    server = FeedServer(feeds).start()
    try:
        url = server.feed_urls()[0]
        with httpx.Client() as client:
            first = client.get(url)
            again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
            page = client.get(re.search(r"<link>(http[^<]+/articles/[^<]+)</link>", first.text).group(1))
    finally:
        server.stop()
    assert first.status_code == 200 and "<rss" in first.text
    assert again.status_code == 304 and again.content == b""
    assert page.status_code == 200 and "<article>" in page.text


def test_story_as_replay_lines_has_increasing_publication_times() -> None:
    lines = replay_lines()
    assert [line["published"] for line in lines] == sorted(line["published"] for line in lines)
    assert len({line["id"] for line in lines}) == len(STORY)


def test_prometheus_text_is_summed_per_metric_name() -> None:
    text = '# HELP x\nstancewatch_a_total{k="1"} 2\nstancewatch_a_total{k="2"} 3\nstancewatch_b 1.5\n'
    assert parse_prometheus(text) == {"stancewatch_a_total": 5.0, "stancewatch_b": 1.5}


def test_in_memory_demo_shows_verified_alerts_and_exits_cleanly() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "services.demo", "--memory", "--speed", "8", "--poll-interval", "1", "--duration", "25"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "REVERSAL" in proc.stdout and "Donald Trump" in proc.stdout
    received = int(re.search(r"demo: (\d+) alerts received \(signatures verified\)", proc.stdout).group(1))
    assert received >= 3


def test_demo_falls_back_to_the_in_memory_bus_when_another_program_holds_the_kafka_port() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(port + 1)}
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        proc = subprocess.run(
            [sys.executable, "-m", "services.demo", "--speed", "8", "--poll-interval", "1", "--duration", "3"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"port {port} is taken by another program" in proc.stdout and "in-memory bus" in proc.stdout
