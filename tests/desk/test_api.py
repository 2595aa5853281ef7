"""The desk over real HTTP on 127.0.0.1: the JSON API's filters, pages and refusals, and who may write."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from services.desk.store import Store
from tests.desk.factories import alert, observation, position
from tests.desk.harness import KEYS, DeskServer

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "bad_requests.yaml").read_text())
EDITOR = {"Authorization": f"Bearer {KEYS['editor']}"}


async def seed(store: Store) -> dict[str, Any]:
    """Two figures: Lind reverses on the bridge (one alert), Oda wavers on the tram line (one shift)."""
    l1 = observation("l1", "support", hours=1, sentence="Lind said: “The bridge will carry the town’s future.”")
    l2 = observation("l2", "oppose", hours=5, sentence="Lind now calls the bridge “a ferry toll in disguise”.")
    o1 = observation("o1", "support", actor="councillor-oda", topic="tram-line", source="Valley Post")
    o2 = observation(
        "o2",
        "undecided",
        actor="councillor-oda",
        topic="tram-line",
        hours=8,
        source='=HYPERLINK("x")',
        sentence="Oda said the tram line needs another year of study.",
    )
    for i, obs in enumerate((l1, l2, o1, o2)):
        await store.apply_observation(obs, 0, i)
    await store.apply_position("mayor-lind:harbour-bridge", position(l1, l2), 0, 1)
    await store.apply_position("councillor-oda:tram-line", position(o1, o2), 1, 1)
    reversal, shift = alert(l1, l2), alert(o1, o2)
    await store.apply_alert(reversal, 0, 5)
    await store.apply_alert(shift, 1, 6)
    return {"l1": l1, "l2": l2, "o1": o1, "o2": o2, "reversal": reversal, "shift": shift}


@pytest.fixture
async def desk(store: Store) -> AsyncIterator[DeskServer]:
    server = DeskServer(store)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def http(desk: DeskServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=desk.url, follow_redirects=False, trust_env=False) as client:
        yield client


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
async def test_a_bad_or_unknown_parameter_is_refused_with_its_reason(
    desk: DeskServer, http: httpx.AsyncClient, case: dict[str, Any]
) -> None:
    await seed(desk.store)
    response = await http.get(case["path"].replace("LONG", "w" * 201))
    assert response.status_code == case.get("status", 400)
    if case.get("html"):
        assert case["reason"].replace("'", "&#x27;") in response.text
    else:
        assert case["reason"] in response.json()["error"]


async def test_the_overview_api_lists_every_pair_with_its_established_stance(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    await seed(desk.store)
    body = (await http.get("/api/overview")).json()
    cells = {(c["actor"], c["topic"]): c for c in body["cells"]}
    assert cells[("mayor-lind", "harbour-bridge")]["established"] == "oppose"
    assert cells[("councillor-oda", "tram-line")]["latest"] == "undecided"
    assert {f["id"] for f in body["figures"]} == {"mayor-lind", "councillor-oda"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=mayor-lind", ["reversal"]),
        ("topic=tram-line", ["shift"]),
        ("severity=shift", ["shift"]),
        ("q=ferry+toll", ["reversal"]),
        ("q=ferry%20TOLL", ["reversal"]),
        ("q=%E2%80%9Ca%20ferry", ["reversal"]),
        ("since=2026-03-02T14:00:00Z", ["shift"]),
        ("until=2026-03-02T14:00:00%2B00:00", ["reversal"]),
        ("status=retracted", []),
    ],
)
async def test_alerts_are_filtered_by_url_decoded_parameters(
    desk: DeskServer, http: httpx.AsyncClient, query: str, expected: list[str]
) -> None:
    seeded = await seed(desk.store)
    body = (await http.get(f"/api/alerts?{query}")).json()
    names = {seeded[n].alert_id: n for n in ("reversal", "shift")}
    assert [names[a["alert_id"]] for a in body["items"]] == expected
    assert body["total"] == len(expected)


async def test_observations_page_through_with_next_offset(desk: DeskServer, http: httpx.AsyncClient) -> None:
    await seed(desk.store)
    seen, url = [], "/api/observations?limit=3"
    while True:
        body = (await http.get(url)).json()
        seen += [o["article_id"] for o in body["items"]]
        if body["next_offset"] is None:
            break
        url = f"/api/observations?limit=3&offset={body['next_offset']}"
    assert sorted(seen) == ["l1", "l2", "o1", "o2"]


async def test_the_timeline_api_puts_each_alert_on_the_observation_that_raised_it(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    seeded = await seed(desk.store)
    body = (await http.get("/api/timeline", params={"actor": "mayor-lind", "topic": "harbour-bridge"})).json()
    assert [i["observation"]["article_id"] for i in body["items"]] == ["l1", "l2"]
    assert [a["alert_id"] for a in body["items"][1]["alerts"]] == [seeded["reversal"].alert_id]
    assert body["items"][1]["observation"]["extractor"]["judge"] == "combined-c4-test"


async def test_feedback_without_credentials_is_refused_and_nothing_is_published(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    seeded = await seed(desk.store)
    payload = {"alert_id": seeded["reversal"].alert_id, "verdict": "not-holder"}
    assert (await http.post("/api/feedback", json=payload)).status_code == 401
    wrong = await http.post("/api/feedback", json=payload, headers={"Authorization": "Bearer not-a-key-at-all-00"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert desk.published() == []


async def test_feedback_with_an_api_key_is_published_under_the_keys_name_and_shown_after(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    seeded = await seed(desk.store)
    reversal = seeded["reversal"]
    payload = {"alert_id": reversal.alert_id, "verdict": "not-holder", "note": "That was her deputy <speaking>."}
    response = await http.post("/api/feedback", json=payload, headers=EDITOR)
    assert response.status_code == 201, response.text
    (published,) = desk.published()
    assert (published.author, published.verdict, published.alert_id) == ("editor", "not-holder", reversal.alert_id)
    assert (published.actor, published.topic, published.article_id, published.stance) == (
        "mayor-lind",
        "harbour-bridge",
        "l2",
        "oppose",
    )
    assert desk.bus.records(desk.topics.feedback.name)[0].key == "mayor-lind:harbour-bridge"
    # The sentences judged travel with the verdict (the corrections export makes labelled examples of them).
    assert published.evidence == reversal.after.evidence and published.evidence
    assert published.article == reversal.after.article
    listed = (await http.get("/api/feedback", params={"alert_id": reversal.alert_id})).json()
    assert [f["feedback_id"] for f in listed["items"]] == [published.feedback_id]
    assert KEYS["editor"] not in response.text + json.dumps(listed)


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        (
            {"actor": "mayor-lind", "topic": "harbour-bridge", "article_id": "nope", "verdict": "correct"},
            404,
            "no such",
        ),
        ({"alert_id": "alrt_missing", "verdict": "correct"}, 404, "no alert"),
        ({"actor": "mayor-lind", "verdict": "correct"}, 400, "required"),
        ({"actor": "mayor-lind", "topic": "harbour-bridge", "article_id": "l1", "verdict": "meh"}, 400, "verdict"),
        (
            {"actor": "mayor-lind", "topic": "harbour-bridge", "article_id": "l1", "verdict": "correct", "x": 1},
            400,
            "x",
        ),
        (
            {
                "actor": "mayor-lind",
                "topic": "harbour-bridge",
                "article_id": "l1",
                "verdict": "correct",
                "corrected_stance": "oppose",
            },
            400,
            "corrected_stance",
        ),
    ],
)
async def test_feedback_that_names_nothing_known_or_is_malformed_is_refused(
    desk: DeskServer, http: httpx.AsyncClient, payload: dict[str, Any], status: int, reason: str
) -> None:
    await seed(desk.store)
    response = await http.post("/api/feedback", json=payload, headers=EDITOR)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert desk.published() == []


async def login(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post("/login", data={"key": key, "next": "/alerts"})


async def test_a_login_with_a_key_gives_an_httponly_strict_session_cookie(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    assert (await login(http, "wrong-key-0000000000")).status_code == 401
    response = await login(http, KEYS["night-desk"])
    assert response.status_code == 303 and response.headers["location"] == "/alerts"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert KEYS["night-desk"] not in cookie
    page = await http.get("/alerts")
    assert "signed in as <b>night-desk</b>" in page.text
    assert KEYS["night-desk"] not in page.text


async def test_a_form_post_without_its_csrf_token_is_refused_and_with_it_is_published(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    seeded = await seed(desk.store)
    await login(http, KEYS["editor"])
    form = {"alert_id": seeded["reversal"].alert_id, "verdict": "wrong-stance", "return_to": "/alerts"}
    assert (await http.post("/feedback", data=form)).status_code == 403
    assert (await http.post("/feedback", data={**form, "csrf_token": "forged"})).status_code == 403
    assert desk.published() == []
    page = (await http.get("/alerts")).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = await http.post("/feedback", data={**form, "csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == f"/alerts#alert-{seeded['reversal'].alert_id}"
    assert [f.verdict for f in desk.published()] == ["wrong-stance"]


async def test_the_api_with_a_session_needs_the_csrf_header_too(desk: DeskServer, http: httpx.AsyncClient) -> None:
    seeded = await seed(desk.store)
    await login(http, KEYS["editor"])
    payload = {"alert_id": seeded["reversal"].alert_id, "verdict": "correct"}
    assert (await http.post("/api/feedback", json=payload)).status_code == 403
    page = (await http.get("/alerts")).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert (await http.post("/api/feedback", json=payload, headers={"X-CSRF-Token": token})).status_code == 201


async def test_a_cross_site_form_post_is_refused_even_with_a_session(desk: DeskServer, http: httpx.AsyncClient) -> None:
    await login(http, KEYS["editor"])
    response = await http.post(
        "/feedback", data={"verdict": "correct"}, headers={"Origin": "https://elsewhere.example"}
    )
    assert response.status_code == 403


async def test_keyed_reads_need_a_key_or_a_session(store: Store) -> None:
    server = DeskServer(store, read_auth="key")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            assert (await http.get("/api/alerts")).status_code == 401
            page = await http.get("/alerts")
            where = urlsplit(page.headers["location"])
            assert (page.status_code, where.path, parse_qs(where.query)["next"]) == (303, "/login", ["/alerts"])
            assert (await http.get("/api/alerts", headers=EDITOR)).status_code == 200
            await login(http, KEYS["editor"])
            assert (await http.get("/alerts")).status_code == 200
    finally:
        await server.stop()


async def test_pages_escape_article_text(desk: DeskServer, http: httpx.AsyncClient) -> None:
    hostile = observation(
        "x1",
        "support",
        title="<script>alert('t')</script> Bridge vote",
        sentence='Lind said "<img src=x onerror=alert(1)>" at the vote.',
        source="<b>Bold Wire</b>",
    )
    await desk.store.apply_observation(hostile, 0, 0)
    await desk.store.apply_position("mayor-lind:harbour-bridge", position(hostile), 0, 1)
    page = (await http.get("/timeline", params={"actor": "mayor-lind", "topic": "harbour-bridge"})).text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Bold Wire</b>" not in page
    assert "&lt;script&gt;" in page
    assert "<mark>&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</mark>" in page
    assert "default-src 'none'" in (await http.get("/")).headers["content-security-policy"]


async def test_the_csv_export_keeps_the_filters_and_defuses_spreadsheet_formulas(
    desk: DeskServer, http: httpx.AsyncClient
) -> None:
    seeded = await seed(desk.store)
    response = await http.get("/alerts/export.csv", params={"topic": "tram-line"})
    assert response.headers["content-disposition"].endswith('stancewatch-alerts.csv"')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["alert_id"] for r in rows] == [seeded["shift"].alert_id]
    assert rows[0]["after_source"] == '\'=HYPERLINK("x")'
    everything = (await http.get("/alerts/export.json")).json()
    api = (await http.get("/api/alerts")).json()["items"]
    assert [a["alert_id"] for a in everything] == [a["alert_id"] for a in api]
