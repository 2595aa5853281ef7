"""``stancewatch alerter --check-config`` and start-up refuse a routing that names what the watchlist lacks."""

from __future__ import annotations

from pathlib import Path

from tests.support import clean_env, stancewatch

WATCHLIST = Path(__file__).parent / "cases" / "watchlist_eu.yaml"
ROUTING = """
channels:
  desk: {type: console, delivery: digest, digest_schedule: {at: ["07:00", "17:30"], timezone: Europe/Brussels,
                                                         days: [mon, tue, wed, thu, fri]}}
  ops: {type: console}
routes:
  - {name: paris-desk, channels: [desk], actors: [%s], topics: [eu-troops-ukraine]}
  - {channels: [ops]}
"""


def env_for(tmp_path: Path, actor: str) -> dict[str, str]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING % actor, encoding="utf-8")
    return clean_env(STANCEWATCH_ROUTING=str(routing), STANCEWATCH_WATCHLIST=str(WATCHLIST))


async def test_check_config_describes_a_valid_routing_with_its_schedule_and_the_watchlist_it_checked(
    tmp_path: Path,
) -> None:
    done = await stancewatch("alerter", "--check-config", env=env_for(tmp_path, "macron"))
    assert done.status == 0, done.err
    assert "channel desk: console, digest at 07:00, 17:30 Europe/Brussels (mon, tue, wed, thu, fri)" in done.out
    assert "channel ops: console, immediate" in done.out
    assert f"checked against watchlist {WATCHLIST}" in done.out


async def test_check_config_refuses_an_unknown_actor_naming_the_route_the_key_and_the_closest_id(
    tmp_path: Path,
) -> None:
    done = await stancewatch("alerter", "--check-config", env=env_for(tmp_path, "macorn"))
    assert done.status == 2
    assert "routes.0.actors (route 'paris-desk'): unknown figure 'macorn'" in done.err
    assert "did you mean 'macron'?" in done.err
    assert done.out == ""


async def test_the_service_does_not_start_with_an_unknown_actor_in_its_routing(tmp_path: Path) -> None:
    # No broker is reachable on this port: the routing is refused before any connection is tried.
    env = env_for(tmp_path, "macorn") | {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    done = await stancewatch("alerter", env=env, timeout=30)
    assert done.status == 2
    assert "unknown figure 'macorn'" in done.err and "did you mean 'macron'?" in done.err
