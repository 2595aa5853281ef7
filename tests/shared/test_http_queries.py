"""The health server's JSON routes get their query decoded as parse_qs does, and a bad query is a 400.

Over real HTTP on 127.0.0.1, with requests written byte for byte (no client re-encodes them).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from shared.observability import MAX_QUERY_FIELDS, BadRequest, HealthServer, Metrics, check_params
from tests.support import http_get


def echo(params: dict[str, str]) -> dict[str, str]:
    return params


def strict(params: dict[str, str]) -> dict[str, str]:
    check_params(params, ("actor", "topic"))
    return params


def broken(params: dict[str, str]) -> dict[str, str]:
    raise RuntimeError("a bug in a route")


async def refusing(params: dict[str, str]) -> dict[str, str]:
    raise BadRequest("no thanks")


@pytest.fixture
async def served() -> AsyncIterator[tuple[int, Metrics]]:
    metrics = Metrics()
    server = HealthServer(
        metrics, port=0, routes={"/echo": echo, "/strict": strict, "/broken": broken, "/refusing": refusing}
    )
    port = await server.start()
    try:
        yield port, metrics
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("target", "params"),
    [
        ("/echo?topic=eu%2Dtroops%2Dukraine", {"topic": "eu-troops-ukraine"}),
        ("/echo?q=two+words&r=a%20b", {"q": "two words", "r": "a b"}),
        ("/echo?name=Zel%C3%A9nsky&x=%26%3D", {"name": "Zelénsky", "x": "&="}),
        ("/echo?actor=&topic=t", {"actor": "", "topic": "t"}),
        ("/echo", {}),
        ("/ech%6F?a=1", {"a": "1"}),  # the path is decoded too
        ("/echo?a=1#fragment", {"a": "1"}),
    ],
)
async def test_a_route_sees_its_query_percent_decoded(served: tuple[int, Metrics], target: str, params: dict) -> None:
    port, _ = served
    status, body = await http_get(port, target)
    assert status == 200 and json.loads(body) == params


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/echo?actor=trump&actor=putin", "given more than once: actor"),
        ("/echo?actor=%FF", "not UTF-8"),
        ("/echo?" + "&".join(f"p{i}=1" for i in range(MAX_QUERY_FIELDS + 1)), f"at most {MAX_QUERY_FIELDS}"),
        ("/strict?actr=trump", "unknown parameter(s) actr (accepted: actor, topic)"),
        ("/refusing", "no thanks"),
    ],
)
async def test_a_bad_query_is_a_400_with_a_json_reason_and_is_counted(
    served: tuple[int, Metrics], target: str, reason: str
) -> None:
    port, metrics = served
    status, body = await http_get(port, target)
    assert status == 400
    answer = json.loads(body)
    assert answer["error"] == "bad request" and reason in answer["reason"]
    route = target.partition("?")[0].replace("%6F", "o")
    counted = metrics.counter("http_route_errors_total", "", ("route", "status")).value(route=route, status="400")
    assert counted == 1


async def test_a_failing_route_is_a_500_and_the_server_goes_on_serving(served: tuple[int, Metrics]) -> None:
    port, metrics = served
    status, body = await http_get(port, "/broken")
    assert status == 500 and json.loads(body) == {"error": "internal error"}
    assert (await http_get(port, "/echo?a=1"))[0] == 200
    assert metrics.counter("http_route_errors_total", "", ("route", "status")).value(route="/broken", status="500") == 1
