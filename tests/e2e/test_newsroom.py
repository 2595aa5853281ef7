"""A newsroom's afternoon, in a real browser: the demo story flows in, an editor corrects an alert by a click.

The four services run as processes on the real broker, the demo's feeds and a webhook receiver on
127.0.0.1. The overview must show Trump's position on Ukraine's territory as oppose, its timeline the
before and after quotes; clicking "not this person's view" on that alert must bring a signed
``alert.retracted`` to the receiver and take the position off the overview.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.demo.__main__ import Pipeline, free_port, new_secret, service_env, start_desk
from services.demo.feedserver import FeedServer, StoryFeeds
from services.demo.receiver import WebhookReceiver
from tests.desk.browser import browser, needs_chromium
from tests.support import wait_until

pytestmark = [needs_chromium, pytest.mark.slow]

#: Story time runs this many times faster than the demo's.
SPEED = 6.0
CELL = 'td.cell[data-actor="trump"][data-topic="ukraine-territory"]'


def overview_cell(url: str) -> str:
    from selenium.webdriver.common.by import By

    driver = browser()
    try:
        driver.get(url)
        cells = driver.find_elements(By.CSS_SELECTOR, CELL)
        return cells[0].text if cells else ""
    finally:
        driver.quit()


def correct_the_alert(url: str, key: str, alert_id: str) -> dict[str, Any]:
    """Overview → the cell's timeline → log in → "not this person's view" on the alert."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    seen: dict[str, Any] = {}
    driver = browser()
    try:
        driver.get(url)
        cell = driver.find_element(By.CSS_SELECTOR, CELL)
        seen["cell"] = cell.text
        cell.find_element(By.TAG_NAME, "a").click()
        WebDriverWait(driver, 30).until(lambda d: "/timeline" in d.current_url)  # each click loads a page
        seen["title"] = driver.find_element(By.TAG_NAME, "h1").text
        seen["quotes"] = [q.text for q in driver.find_elements(By.CSS_SELECTOR, "blockquote.evidence")]
        driver.find_element(By.LINK_TEXT, "log in to give feedback").click()
        driver.find_element(By.NAME, "key").send_keys(key)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, f"fb-alert-{alert_id}"))
        form = driver.find_element(By.ID, f"fb-alert-{alert_id}")
        form.find_element(By.XPATH, './/button[normalize-space()="not this person\'s view"]').click()
        # The click posts the form and the desk answers with the page again: wait for the feedback it
        # shows as given (quitting the browser before that could cancel the request).
        given = f"#alert-{alert_id} ul.feedback-given"
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, given))
        seen["given"] = driver.find_element(By.CSS_SELECTOR, given).text
        seen["page"] = driver.page_source
    finally:
        driver.quit()
    return seen


async def test_an_editor_retracts_a_wrong_alert_and_every_channel_and_the_overview_follow(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    secret = new_secret()
    feeds = FeedServer(StoryFeeds(speed=SPEED)).start()
    receiver = WebhookReceiver(secret).start()
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.feed_urls()) + "\n")
    pipeline = Pipeline(tmp_path)

    def territory(kind: str) -> list[Any]:
        return [
            r
            for r in receiver.stats.accepted
            if r.type == kind and (r.alert.actor, r.alert.topic) == ("trump", "ukraine-territory")
        ]

    try:
        for name in ("ingester", "enricher", "alerter"):
            env = service_env(
                name,
                bootstrap=kafka_bootstrap,
                prefix=topic_prefix,
                port=free_port(),
                feeds_file=feeds_file,
                webhook_url=receiver.url,
                secret=secret,
                poll_interval=1.0,
                alert_grace="1s",
            )
            pipeline.start(name, env)
        url, key = start_desk(pipeline, kafka_bootstrap, topic_prefix, tmp_path)
        await wait_until(lambda: bool(territory("alert.created")), 240)
        (created,) = territory("alert.created")
        alert = created.alert
        assert (alert.from_stance, alert.to_stance) == ("support", "oppose")

        async def desk_has_it() -> bool:
            async with httpx.AsyncClient(trust_env=False) as http:
                return (await http.get(f"{url}api/alerts/{alert.alert_id}")).status_code == 200

        await wait_until(desk_has_it, 60)
        await wait_until(lambda: asyncio.to_thread(lambda: "oppose" in overview_cell(url)), 60)
        seen = await asyncio.to_thread(correct_the_alert, url, key, alert.alert_id)
        await wait_until(lambda: bool(territory("alert.retracted")), 120)
        await wait_until(lambda: asyncio.to_thread(lambda: "oppose" not in overview_cell(url)), 120)
        assert pipeline.dead() == [], f"exited: {pipeline.dead()}"
    finally:
        pipeline.stop()
        feeds.stop()
        receiver.stop()

    assert "oppose" in seen["cell"]
    quotes = " ".join(seen["quotes"])
    assert "win back all of its territory" in quotes and "battle line" in quotes  # before and after, with evidence
    (retracted,) = territory("alert.retracted")
    assert retracted.alert.alert_id == alert.alert_id and retracted.alert.status == "retracted"
    assert retracted.alert.retraction is not None and retracted.alert.retraction.verdict == "not-holder"
    assert retracted.webhook_id != created.webhook_id  # its own event: a receiver dropping repeats keeps it
    assert "not this person's view" in seen["given"]
    assert key not in seen["page"]
    assert receiver.stats.rejected == []
