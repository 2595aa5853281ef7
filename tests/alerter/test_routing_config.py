"""Routing files as the alerter loads them: digest schedules, and routes checked against the watchlist.

Cases: cases/routing_config.yaml, with a user's own watchlist in cases/watchlist_eu.yaml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.alerter.errors import RoutingError
from services.alerter.routing import load_routing
from services.alerter.settings import AlerterSettings
from tests.support import ROOT

HERE = Path(__file__).parent / "cases"
CASES = yaml.safe_load((HERE / "routing_config.yaml").read_text(encoding="utf-8"))
WATCHLISTS = {"eu": HERE / "watchlist_eu.yaml"}
ENV = {"OPS_URL": "https://ops.test/hook", "NEWS_URL": "https://hooks.slack.test/n"}


def settings_for(tmp_path: Path, case: dict) -> AlerterSettings:
    routing = tmp_path / "routing.yaml"
    routing.write_text(case["routing"], encoding="utf-8")
    watchlist = WATCHLISTS[case["watchlist"]] if "watchlist" in case else None
    return AlerterSettings(routing=routing, watchlist=str(watchlist) if watchlist else None)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_routing_file_loads_or_is_refused_with_an_error_that_says_where_and_why(tmp_path: Path, case: dict) -> None:
    settings = settings_for(tmp_path, case)
    if case.get("ok"):
        routing = load_routing(settings, ENV)
        assert routing.routes
        return
    with pytest.raises(RoutingError) as caught:
        load_routing(settings, ENV)
    message = str(caught.value)
    assert message.startswith(f"routing {settings.routing}: ")
    for piece in case["error"]:
        assert piece in message


def test_an_unreadable_watchlist_is_an_error_of_the_routing_check(tmp_path: Path) -> None:
    case = {"routing": "channels: {ops: {type: console}}\nroutes: [{channels: [ops], actors: [trump]}]\n"}
    settings = settings_for(tmp_path, case).model_copy(update={"watchlist": str(tmp_path / "missing.yaml")})
    with pytest.raises(RoutingError, match=r"cannot check routes against the watchlist: .*missing\.yaml"):
        load_routing(settings, ENV)


def test_checking_routes_reads_the_watchlist_without_loading_the_language_pipeline(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("channels: {ops: {type: console}}\nroutes: [{channels: [ops], actors: [trump]}]\n")
    script = (
        "import sys\n"
        "from services.alerter.routing import load_routing\n"
        "from services.alerter.settings import AlerterSettings\n"
        f"routing = load_routing(AlerterSettings(routing={str(routing)!r}), {{}})\n"
        "assert routing.routes[0].actors == ['trump']\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('spacy', 'onnxruntime', 'tokenizers', 'numpy'))\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
