"""What a digest says: for every alert, both sides of the change with their quotes, outlet and link."""

from __future__ import annotations

import base64
import json

import httpx
from pydantic import SecretStr

from services.alerter.channels.slack import slack_message
from services.alerter.channels.webhook import WebhookChannel
from services.alerter.detect import ShiftDetector
from services.alerter.digest import digest_task
from services.alerter.signing import verify
from shared.contracts import PositionChange
from shared.contracts.webhooks import DigestData

from .factories import T0, obs
from .receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"digest-test-key").decode()


def reversal(actor: str, before: tuple[str, str, str], after: tuple[str, str, str]) -> PositionChange:
    """support -> oppose; each side is (article id, outlet, quote)."""
    det = ShiftDetector(clock=lambda: T0)
    det.observe(obs(before[0], "support", actor=actor, source=before[1], sentence=before[2]))
    (change,) = det.observe(obs(after[0], "oppose", actor=actor, hours=4, source=after[1], sentence=after[2]))
    return change


ALERTS = [
    reversal(
        "rutte",
        ("b1", "Harbour Gazette", "Rutte said the long-range missiles should be sent soon."),
        ("b2", "Valley Courier", "Rutte said sending the missiles now would be a mistake."),
    ),
    reversal(
        "trump",
        ("c1", "Morning Ledger", "Trump said he would approve the missiles <!channel> & more."),
        ("c2", "Evening Post", "Trump said the missiles would stay home."),
    ),
]


def test_each_entry_carries_before_and_after_with_quotes_outlet_and_link() -> None:
    content = DigestData.of(ALERTS, delivery_id="digest:desk:1").model_dump(mode="json", by_alias=True)
    assert content["delivery_id"] == "digest:desk:1" and content["count"] == 2
    for entry, alert in zip(content["alerts"], ALERTS, strict=True):
        assert entry["alert_id"] == alert.alert_id and (entry["from"], entry["to"]) == ("support", "oppose")
        for side, record in (("before", alert.before), ("after", alert.after)):
            assert entry[side]["quotes"] == [ev.text for ev in record.evidence]
            assert entry[side]["outlet"] == record.article.source
            assert entry[side]["link"] == record.article.url
            assert entry[side]["stance"] == record.stance
    assert content["alerts"][0]["before"]["outlet"] == "Harbour Gazette"
    assert content["alerts"][1]["after"]["quotes"] == ["Trump said the missiles would stay home."]


def test_a_slack_digest_shows_both_sides_of_every_alert_with_the_quotes_escaped() -> None:
    message = slack_message(ALERTS, digest=True)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    befores = [s for s in sections if s.startswith("*Before*")]
    afters = [s for s in sections if s.startswith("*After*")]
    assert len(befores) == len(afters) == 2
    assert "Harbour Gazette" in befores[0] and "https://news.test/b1" in befores[0]
    assert "Rutte said the long-range missiles should be sent soon." in befores[0]
    assert "Valley Courier" in afters[0] and "would be a mistake" in afters[0]
    assert "&lt;!channel&gt; &amp; more" in befores[1] and "<!channel>" not in befores[1]


async def test_a_webhook_digest_is_signed_and_lists_both_sides_over_http() -> None:
    receiver = Receiver()
    url = await receiver.start()
    try:
        async with httpx.AsyncClient() as client:
            channel = WebhookChannel("desk", SecretStr(f"{url}/in"), SecretStr(SECRET), client)
            task = digest_task("desk", ALERTS[0].created_at, ALERTS)
            await channel.send(task)
    finally:
        await receiver.stop()
    (request,) = receiver.to("/in")
    assert verify(SECRET, request.headers, request.body) == task.delivery_id
    body = json.loads(request.body)
    assert body["type"] == "alert.digest"
    assert [e["before"]["quotes"][0] for e in body["data"]["alerts"]] == [a.before.evidence[0].text for a in ALERTS]
    assert [e["after"]["link"] for e in body["data"]["alerts"]] == ["https://news.test/b2", "https://news.test/c2"]
