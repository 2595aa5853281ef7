"""``stancewatch ingest --once --out``: one cycle without Kafka, JSON lines out, a summary and an exit status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from services.ingester.oneshot import main
from shared.contracts import RawArticle
from tests.ingester.local_server import LocalServer, Reply, rss

#: An hour ago: the one-shot command runs on the real clock.
DATE = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)


def test_one_cycle_writes_replayable_lines_and_reports_failures(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.routes["/a"] = Reply(
        200, rss([("Alpha", "https://n.example/a", DATE), ("Beta", "https://n.example/b", DATE)])
    )
    server.routes["/b"] = Reply(200, rss([("Beta again", "https://n.example/b?utm_source=x", DATE)]))
    server.routes["/gone"] = Reply(404, b"no")
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("\n".join(server.url(p) for p in ("/a", "/b", "/gone")) + "\n")
    out = tmp_path / "articles.jsonl"
    status = main(["--feeds", str(feeds), "--once", "--out", str(out), "--no-fulltext"])
    lines = out.read_text().splitlines()
    articles = [RawArticle.from_json_bytes(line) for line in lines]
    assert status == 1
    # Either feed may win the shared story; it is written once, under its canonical URL.
    assert sorted(a.url for a in articles) == ["https://n.example/a", "https://n.example/b"]
    assert {"id", "source", "url", "published", "title", "text"} <= set(json.loads(lines[0]))
    err = capsys.readouterr().err
    assert "3 feeds, 2 ok (0 not modified), 1 failed [http 1]; 2 new articles" in err
    assert "/gone: fetch: status 404" in err


def test_state_file_makes_a_second_run_publish_only_new_articles(server: LocalServer, tmp_path: Path) -> None:
    etag = '"e1"'
    server.routes["/a"] = lambda req: (
        Reply(304)
        if req.headers.get("if-none-match") == etag
        else Reply(200, rss([("One", "https://n.example/1", DATE)]), {"ETag": etag})
    )
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - url: {server.url('/a')}\n    name: Local desk\n")
    state, first, second = tmp_path / "state.json", tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    assert main(["--feeds", str(feeds), "--once", "--out", str(first), "--no-fulltext", "--state", str(state)]) == 0
    assert main(["--feeds", str(feeds), "--once", "--out", str(second), "--no-fulltext", "--state", str(state)]) == 0
    [article] = [RawArticle.from_json_bytes(x) for x in first.read_text().splitlines()]
    assert article.source == "Local desk" and second.read_text() == ""
    assert server.hits("/a")[1].headers.get("if-none-match") == etag


def test_bad_feed_list_exits_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - name: missing url\n")
    assert main(["--feeds", str(bad), "--once", "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "expected a mapping with a 'url'" in capsys.readouterr().err
