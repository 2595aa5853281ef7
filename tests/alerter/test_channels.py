"""Channels: Slack escaping and limits, signed webhooks, HTTP error classification (MockTransport)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from pydantic import SecretStr

from services.alerter.channels.slack import MAX_BLOCKS, SlackChannel, escape_mrkdwn, safe_link, slack_message
from services.alerter.channels.webhook import WebhookChannel
from services.alerter.deliver import immediate_task
from services.alerter.digest import digest_task
from services.alerter.errors import DeliveryError
from services.alerter.signing import verify
from shared.http import parse_retry_after

from .factories import T0, alert

SECRET = "whsec_" + base64.b64encode(b"channel-test-key").decode()


def all_texts(message: dict) -> list[str]:
    """Every text string anywhere in a Block Kit payload."""
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(message)
    return out


def test_escape_mrkdwn_turns_control_characters_into_entities() -> None:
    assert escape_mrkdwn("a & b <!channel> <@U123>") == "a &amp; b &lt;!channel&gt; &lt;@U123&gt;"


def test_headline_with_mentions_and_forged_link_cannot_ping_or_link() -> None:
    hostile = alert(
        title="Breaking <!channel> <@U123> see <https://evil.test|your bank> & more",
        sentence="He said <!here> the plan & the <@U999> vote changed.",
    )
    texts = all_texts(slack_message([hostile], digest=False))
    joined = "\n".join(texts)
    for raw in ("<!channel>", "<@U123>", "<!here>", "<@U999>", "<https://evil.test"):
        assert raw not in joined
    assert "&lt;!channel&gt;" in joined and "&lt;@U123&gt;" in joined
    assert "the plan &amp; the" in joined
    # The only real link tokens are our own citations of article URLs.
    links = [t for t in joined.split("<")[1:]]
    assert all(part.startswith("https://news.test/") for part in links)


def test_unsafe_article_url_is_not_linked() -> None:
    assert safe_link("javascript:alert(1)", "x") == "x"
    assert safe_link("https://a.test/x|<!channel>", "label") == "label"
    assert safe_link("https://a.test/p?a=1&b=2", "T & C") == "<https://a.test/p?a=1&amp;b=2|T &amp; C>"


def test_single_alert_message_has_header_before_after_and_severity() -> None:
    msg = slack_message([alert()], digest=False)
    types = [b["type"] for b in msg["blocks"]]
    assert types[0] == "header" and types.count("section") == 3
    joined = "\n".join(all_texts(msg))
    assert "support → oppose" in joined and "severity *reversal*" in joined
    assert "*Before*" in joined and "*After*" in joined and "1.2.3" in joined


def test_messages_stay_within_slack_limits() -> None:
    long = alert(title="T" * 5000, sentence="word " * 3000)
    single = slack_message([long], digest=False)
    header = single["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    for block in single["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    digest = slack_message([long] * 40, digest=True)
    assert len(digest["blocks"]) <= MAX_BLOCKS
    assert "…and" in digest["blocks"][-1]["elements"][0]["text"]


def test_escaping_is_not_undone_by_clipping() -> None:
    msg = slack_message([alert(sentence="&" * 4000)], digest=False)
    for text in all_texts(msg):
        # No dangling half entity such as "&am" at a cut.
        for i, ch in enumerate(text):
            if ch == "&":
                assert text[i : i + 5] in ("&amp;",) or text[i : i + 4] in ("&lt;", "&gt;")


async def test_webhook_sends_a_signed_alert_created_event_with_the_alert_id_as_webhook_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    a = alert()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel("hooks", SecretStr("https://hooks.test/in"), SecretStr(SECRET), client)
        assert await channel.send(immediate_task("hooks", a, T0)) == 204
    (req,) = seen
    assert verify(SECRET, dict(req.headers), req.content) == a.alert_id
    body = json.loads(req.content)
    assert (body["type"], body["timestamp"]) == ("alert.created", "2026-02-01T09:00:00Z")
    assert body["data"]["from"] == "support" and body["data"]["alert_id"] == a.alert_id


async def test_webhook_digest_is_an_alert_digest_event_keyed_by_the_delivery_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel("hooks", SecretStr("https://hooks.test/in"), SecretStr(SECRET), client)
        await channel.send(digest_task("hooks", T0, [alert("a2"), alert("a3")]))
    body = json.loads(seen[0].content)
    assert seen[0].headers["webhook-id"] == body["data"]["delivery_id"]
    assert seen[0].headers["webhook-id"].startswith("digest:hooks:")
    assert body["type"] == "alert.digest" and [a["article_id"] for a in body["data"]["alerts"]] == ["a2", "a3"]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False), (410, False)],
)
async def test_http_errors_are_classified_and_never_show_the_url(status: int, retryable: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"retry-after": "7"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = SlackChannel("team", SecretStr("https://hooks.slack.test/services/T0/B0/SECRETPART"), client)
        with pytest.raises(DeliveryError) as info:
            await channel.send(immediate_task("team", alert(), T0))
    err = info.value
    assert (err.status, err.retryable, err.retry_after_s) == (status, retryable, 7.0)
    assert "SECRETPART" not in str(err) and "team" in str(err)


async def test_timeout_is_a_retryable_delivery_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel("hooks", SecretStr("https://hooks.test/in"), None, client)
        with pytest.raises(DeliveryError, match="timeout") as info:
            await channel.send(immediate_task("team", alert(), T0))
    assert info.value.retryable and info.value.status is None


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
