"""The health server: health, readiness, Prometheus metrics and JSON routes added after start."""

from __future__ import annotations

import httpx

from shared.observability import HealthServer, Metrics


async def test_health_metrics_and_a_route_added_after_start_are_served() -> None:
    metrics = Metrics()
    metrics.counter("things_total", "Things", ["kind"]).inc(2, kind="a")
    routes: dict = {}
    ready = {"ok": False}
    server = HealthServer(metrics, port=0, ready=lambda: ready["ok"], routes=routes)
    port = await server.start()
    routes["/positions"] = lambda params: {"actor": params.get("actor"), "count": 0}  # as the alerter does
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            assert (await client.get("/readyz")).status_code == 503
            ready["ok"] = True
            assert (await client.get("/readyz")).status_code == 200
            assert 'stancewatch_things_total{kind="a"} 2' in (await client.get("/metrics")).text
            assert (await client.get("/positions?actor=trump")).json() == {"actor": "trump", "count": 0}
            assert (await client.get("/nope")).status_code == 404
    finally:
        await server.stop()


def test_a_large_counter_is_exposed_exactly_and_the_same_name_returns_the_same_metric() -> None:
    metrics = Metrics()
    polls = metrics.counter("polls_total", "Polls", ["outcome"])
    polls.inc(12_345_678, outcome="ok")
    polls.inc(40, outcome="ok")
    assert metrics.counter("polls_total", "Polls", ["outcome"]) is polls
    (line,) = [x for x in metrics.render().splitlines() if x.startswith("stancewatch_polls_total{")]
    assert float(line.rsplit(" ", 1)[1]) == 12_345_718  # not rounded to six digits
    assert polls.value(outcome="ok") == 12_345_718 and polls.total() == 12_345_718
    try:
        metrics.gauge("polls_total", "Polls", ["outcome"])
    except ValueError as exc:
        assert "registered twice" in str(exc)
    else:
        raise AssertionError("a second metric of another kind under the same name must be refused")
