"""The desk in a real headless Chromium: the overview, the timeline's quotes, and a correction sent from a click.

Selenium drives the system's chromium through the system's chromedriver, both by path, so Selenium Manager
never runs and nothing is downloaded. Skipped, saying so, only when no chromium is installed (`make browser`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

import httpx

from shared.bus import KafkaBus
from shared.contracts import Feedback
from shared.topics import Topics
from tests.desk.browser import browser, needs_chromium
from tests.desk.factories import alert, observation, position
from tests.desk.harness import KEYS
from tests.desk.running import desk_settings, running_desk
from tests.support import wait_until

pytestmark = needs_chromium

BEFORE = "Lind said the harbour bridge “will pay for itself within ten years”."
AFTER = "Lind told the council the bridge is “a debt our grandchildren will curse”."


def walk_through(url: str, alert_id: str) -> dict[str, str]:
    """What a newsroom editor does, in the browser; returns what the pages showed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict[str, str] = {}
    driver = browser()
    try:
        driver.get(f"{url}/")
        cell = driver.find_element(By.CSS_SELECTOR, 'td.cell[data-actor="mayor-lind"][data-topic="harbour-bridge"]')
        seen["overview_row"] = driver.find_element(By.XPATH, "//tbody/tr/th").text
        seen["overview_cell"] = cell.text
        cell.find_element(By.TAG_NAME, "a").click()
        WebDriverWait(driver, 30).until(lambda d: "/timeline" in d.current_url)  # each click loads a page
        seen["timeline_title"] = driver.find_element(By.TAG_NAME, "h1").text
        seen["quotes"] = " | ".join(
            q.text for q in driver.find_elements(By.CSS_SELECTOR, "li.obs > blockquote.evidence mark")
        )
        driver.find_element(By.LINK_TEXT, "log in to give feedback").click()
        driver.find_element(By.NAME, "key").send_keys(KEYS["editor"])
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, f"fb-alert-{alert_id}"))
        form = driver.find_element(By.ID, f"fb-alert-{alert_id}")
        form.find_element(By.NAME, "note").send_keys("Her deputy said this, not her.")
        form.find_element(By.XPATH, './/button[normalize-space()="not this person\'s view"]').click()
        given = f"#alert-{alert_id} ul.feedback-given"
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, given))
        seen["after_click_url"] = driver.current_url
        seen["alert_feedback"] = driver.find_element(By.CSS_SELECTOR, f"#alert-{alert_id} ul.feedback-given").text
        seen["page_source"] = driver.page_source
    finally:
        driver.quit()
    return seen


async def test_an_editor_sees_the_stance_and_quotes_and_corrects_an_alert_by_a_click(
    kafka_bus: KafkaBus, kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    before = observation("b1", "support", hours=1, sentence=BEFORE, source="Harbour Gazette")
    after = observation("b2", "oppose", hours=30, sentence=AFTER, source="Valley Post")
    raised = alert(before, after)
    for obs in (before, after):
        await kafka_bus.publish(topics.observations.name, obs, key=obs.key)
    pos = position(before, after)
    await kafka_bus.publish(topics.positions.name, pos, key=pos.key)
    await kafka_bus.publish(topics.alerts.name, raised, key=raised.key)

    async with running_desk(desk_settings(kafka_bootstrap, topics.prefix, tmp_path)) as url:
        async with httpx.AsyncClient(trust_env=False) as http:
            await wait_until(lambda: _has_alert(http, url, raised.alert_id), timeout=30)
        # Selenium blocks: it runs in a thread while this loop serves the desk.
        seen = await asyncio.to_thread(walk_through, url, raised.alert_id)

        async def published() -> list[Feedback]:
            records = await kafka_bus.read_all(topics.feedback.name)
            return [Feedback.from_json_bytes(r.value or b"") for r in records]

        await wait_until(lambda: _nonempty(published()), timeout=30)
        (given,) = await published()

    assert seen["overview_row"] == "Mayor Lind"
    assert "oppose" in seen["overview_cell"] and "90% sure" in seen["overview_cell"]
    assert seen["timeline_title"] == "Mayor Lind · harbour bridge"
    assert seen["quotes"] == "“will pay for itself within ten years” | “a debt our grandchildren will curse”"
    assert seen["after_click_url"].endswith(f"#alert-{raised.alert_id}")
    assert "not this person's view by editor" in seen["alert_feedback"]
    assert KEYS["editor"] not in seen["page_source"]
    assert (given.verdict, given.alert_id, given.article_id, given.author) == (
        "not-holder",
        raised.alert_id,
        "b2",
        "editor",
    )
    assert given.note == "Her deputy said this, not her."


async def _has_alert(http: httpx.AsyncClient, url: str, alert_id: str) -> bool:
    response = await http.get(f"{url}/api/alerts/{alert_id}")
    return response.status_code == 200


async def _nonempty(pending: Awaitable[list[Feedback]]) -> bool:
    return bool(await pending)
