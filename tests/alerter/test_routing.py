"""Routing rules, the routing file format, digest windows and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.alerter.digest import DigestBuffer, held_task, in_quiet_hours, release_at, window_end
from services.alerter.errors import RoutingError
from services.alerter.handle import tasks_for
from services.alerter.routing import ChannelConfig, QuietHours, channels_for, parse_routing, routing_from_env
from services.alerter.settings import AlerterSettings

from .factories import alert, obs

ROUTING = """
channels:
  ops:
    type: webhook
    url_env: OPS_URL
    secret_env: OPS_SECRET
  newsroom:
    type: slack
    url_env: NEWS_URL
    delivery: digest
    digest_window: 30m
    quiet_hours: {start: "22:00", end: "07:00", timezone: "Europe/Brussels"}
routes:
  - channels: [ops]
    min_severity: shift
  - channels: [newsroom, ops]
    actors: [rutte]
    topics: [tomahawks]
"""
ENV = {"OPS_URL": "https://ops.test/hook", "OPS_SECRET": "whsec_c2VjcmV0", "NEWS_URL": "https://hooks.slack.test/n"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return path


def softening():
    from services.alerter.detect import ShiftDetector

    det = ShiftDetector()
    det.observe(obs("a1", "support"))
    (change,) = det.observe(obs("a2", "undecided", hours=1))
    return change


def test_routes_select_channels_by_figure_topic_and_severity(tmp_path: Path) -> None:
    routing = parse_routing(write(tmp_path, ROUTING), ENV)
    assert channels_for(alert(), routing) == ["ops", "newsroom"]
    assert channels_for(softening(), routing) == ["ops"]  # shift: below the newsroom route's reversal floor
    other = alert().model_copy(update={"actor": "putin"})
    assert channels_for(other, routing) == ["ops"]


def test_secrets_come_from_the_environment_and_are_not_dumped(tmp_path: Path) -> None:
    routing = parse_routing(write(tmp_path, ROUTING), ENV)
    ops = routing.channels["ops"]
    assert ops.url is not None and ops.url.get_secret_value() == "https://ops.test/hook"
    assert "ops.test" not in routing.model_dump_json() and "c2VjcmV0" not in repr(routing)


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (ROUTING, {}, "OPS_URL is not set"),
        (ROUTING, {**ENV, "OPS_SECRET": "plain"}, "whsec_"),
        (ROUTING, {**ENV, "OPS_SECRET": "whsec_%%%not-base64"}, "OPS_SECRET must hold whsec_ and non-empty base64"),
        ("routes:\n  - channels: [nowhere]\n", {}, "unknown channel"),
        ("channels:\n  x: {type: pager}\n", {}, "channels.x.type"),
        ("channels: [\n", {}, "cannot read"),
    ],
)
def test_bad_routing_files_name_the_problem(tmp_path: Path, text: str, env: dict, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        parse_routing(write(tmp_path, text), env)


def test_environment_alone_configures_one_webhook_and_one_slack_channel() -> None:
    settings = AlerterSettings(
        webhook_url=SecretStr("https://hooks.test/in"),
        webhook_secret=SecretStr("whsec_c2VjcmV0"),
        slack_webhook_url=SecretStr("https://hooks.slack.test/x"),
        min_severity="shift",
    )
    routing = routing_from_env(settings)
    assert set(routing.channels) == {"webhook", "slack"}
    assert channels_for(softening(), routing) == ["webhook", "slack"]
    webhook_only = AlerterSettings(webhook_url=SecretStr("https://h.test"), webhook_secret=SecretStr("whsec_c2VjcmV0"))
    assert channels_for(softening(), routing_from_env(webhook_only)) == []


def test_a_webhook_url_without_its_signing_secret_is_refused_and_slack_alone_is_enough() -> None:
    with pytest.raises(ValueError, match="needs STANCEWATCH_WEBHOOK_SECRET"):
        AlerterSettings(webhook_url=SecretStr("https://hooks.test/in"))
    slack_only = routing_from_env(AlerterSettings(slack_webhook_url=SecretStr("https://hooks.slack.test/x")))
    assert set(slack_only.channels) == {"slack"}


def test_digest_window_end_is_aligned() -> None:
    now = datetime(2026, 2, 1, 9, 40, 12, tzinfo=UTC)
    assert window_end(timedelta(minutes=30), now) == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)


def test_quiet_hours_across_midnight_in_a_timezone() -> None:
    quiet = QuietHours(start=time(22), end=time(7), timezone="Europe/Brussels")  # UTC+1 in February
    assert in_quiet_hours(quiet, datetime(2026, 2, 1, 22, 30, tzinfo=UTC))
    assert in_quiet_hours(quiet, datetime(2026, 2, 1, 5, 30, tzinfo=UTC))
    assert not in_quiet_hours(quiet, datetime(2026, 2, 1, 6, 30, tzinfo=UTC))
    cfg = ChannelConfig(type="console", quiet_hours=quiet)
    assert release_at(cfg, datetime(2026, 2, 1, 22, 30, tzinfo=UTC)) == datetime(2026, 2, 2, 6, 0, tzinfo=UTC)
    assert release_at(cfg, datetime(2026, 2, 1, 12, 0, tzinfo=UTC)) is None


def test_alert_during_quiet_hours_is_held_and_otherwise_sent_at_once(tmp_path: Path) -> None:
    routing = parse_routing(write(tmp_path, ROUTING), ENV)
    night = tasks_for(alert(), routing, datetime(2026, 2, 1, 23, 0, tzinfo=UTC))
    assert [(t.channel, t.digest) for t in night] == [("ops", False), ("newsroom", True)]
    assert night[1].not_before == datetime(2026, 2, 2, 6, 0, tzinfo=UTC)
    day = tasks_for(alert(), routing, datetime(2026, 2, 1, 12, 10, tzinfo=UTC))
    assert day[1].not_before == datetime(2026, 2, 1, 12, 30, tzinfo=UTC)


def test_digest_buffer_groups_by_release_and_forgets_batched_items() -> None:
    release = datetime(2026, 2, 1, 12, 30, tzinfo=UTC)
    buf = DigestBuffer()
    buf.hold(held_task("news", alert("a2"), release))
    buf.hold(held_task("news", alert("a3"), release))
    buf.hold(held_task("news", alert("a3"), release))  # redelivered
    assert buf.due(release - timedelta(seconds=1)) == []
    (digest,) = buf.due(release)
    assert [a.article_id for a in digest.alerts] == ["a2", "a3"]
    buf.mark_batched(digest)
    buf.hold(held_task("news", alert("a2"), release))
    assert buf.pending == {}
