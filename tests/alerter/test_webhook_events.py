"""Webhook bodies are Standard Webhooks events that validate against the checked-in JSON Schema.

Channels render every event type: a new alert, a corroboration, a retraction, a digest.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import jsonschema
import pytest
import standardwebhooks
from pydantic import SecretStr

from services.alerter.channels import ConsoleChannel, WebhookChannel
from services.alerter.channels.slack import slack_message
from services.alerter.deliver import immediate_task
from services.alerter.digest import digest_task
from services.alerter.errors import DeliveryError
from services.alerter.signing import verify
from shared.contracts import DeliveryTask
from shared.contracts.webhooks import SCHEMA_PATH, parse_webhook_event, schema_text

from .factories import T0, alert, corroborated, retracted

SECRET = "whsec_" + base64.b64encode(b"webhook-events-key").decode()
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def tasks() -> dict[str, DeliveryTask]:
    created = alert("a2")
    again = corroborated(created, ("a3", "Herald"))
    return {
        "alert.created": immediate_task("hooks", created, T0),
        "alert.corroborated": immediate_task("hooks", again, T0 + timedelta(hours=1), "alert.corroborated"),
        "alert.retracted": immediate_task("hooks", retracted(again), T0 + timedelta(hours=9.5), "alert.retracted"),
        "alert.digest": digest_task("hooks", T0 + timedelta(hours=10), [again, retracted(alert("a4"))]),
    }


async def send_all(items: list[DeliveryTask]) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel("hooks", SecretStr("https://hooks.test/in"), SecretStr(SECRET), client)
        for task in items:
            await channel.send(task)
    return seen


def test_the_checked_in_schema_is_the_one_the_models_generate() -> None:
    # `make schemas` regenerates it after a change to shared/contracts/webhooks.py or the alert model.
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("event", ["alert.created", "alert.corroborated", "alert.retracted", "alert.digest"])
async def test_every_body_the_webhook_channel_sends_is_a_signed_event_valid_against_the_schema(event: str) -> None:
    (request,) = await send_all([tasks()[event]])
    verify(SECRET, dict(request.headers), request.content)
    body = json.loads(request.content)
    VALIDATOR.validate(body)
    assert set(body) == {"type", "timestamp", "data"} and body["type"] == event
    assert parse_webhook_event(request.content).type == event


async def test_a_digest_lists_each_alert_once_with_its_status_and_both_sides_quoted() -> None:
    (request,) = await send_all([tasks()["alert.digest"]])
    data = json.loads(request.content)["data"]
    assert data["count"] == len(data["alerts"]) == 2
    assert [(a["article_id"], a["status"]) for a in data["alerts"]] == [("a2", "active"), ("a4", "retracted")]
    first = data["alerts"][0]
    assert first["before"]["quotes"] and first["after"]["link"] == "https://news.test/a2"
    assert [c["outlet"] for c in first["corroborations"]] == ["Herald"]


async def test_the_event_timestamp_is_when_it_happened_not_when_it_was_sent() -> None:
    requests = await send_all(list(tasks().values()))
    stamps = [json.loads(r.content)["timestamp"] for r in requests]
    # queued; queued an hour later; the retraction's own time (queued 30 min after it); the digest's release
    assert stamps == ["2026-02-01T09:00:00Z", "2026-02-01T10:00:00Z", "2026-02-01T18:00:00Z", "2026-02-01T19:00:00Z"]


async def test_a_retried_delivery_keeps_its_webhook_id_and_body_and_each_event_has_its_own_id() -> None:
    items = list(tasks().values())
    first, retry = await send_all(items), await send_all([t.model_copy(update={"attempt": 3}) for t in items])
    assert [r.headers["webhook-id"] for r in first] == [r.headers["webhook-id"] for r in retry]
    assert [r.content for r in first] == [r.content for r in retry]
    ids = [r.headers["webhook-id"] for r in first]
    assert len(set(ids)) == len(ids) and ids[0] == items[0].alerts[0].alert_id
    # a second new source is a new event of the same alert
    more = corroborated(items[1].alerts[0], ("a5", "Daily"))
    (later,) = await send_all([immediate_task("hooks", more, T0, "alert.corroborated")])
    assert later.headers["webhook-id"] not in ids


@pytest.mark.parametrize(
    ("event", "change", "where"),
    [
        ("alert.created", {"status": "retracted"}, "status"),
        ("alert.corroborated", {"corroborations": []}, "corroborations"),
        ("alert.retracted", {"status": "active"}, "status"),
    ],
)
def test_the_schema_refuses_an_alert_that_does_not_fit_its_event(event: str, change: dict, where: str) -> None:
    body = {"type": event, "timestamp": "2026-02-01T09:00:00Z", "data": json.loads(alert().to_json_bytes())}
    body["data"] |= change
    assert not VALIDATOR.is_valid(body)
    # the reason, from the event's own branch (the mapping of the discriminator)
    branch = {"$defs": SCHEMA["$defs"], "$ref": SCHEMA["discriminator"]["mapping"][event]}
    errors = jsonschema.Draft202012Validator(branch).iter_errors(body)
    assert [list(e.absolute_path) for e in errors] == [["data", where]]


def test_the_schema_refuses_an_unknown_event_type_and_a_body_without_the_envelope() -> None:
    data = json.loads(alert().to_json_bytes())
    assert not VALIDATOR.is_valid({"type": "alert.edited", "timestamp": "2026-02-01T09:00:00Z", "data": data})
    assert not VALIDATOR.is_valid(data)


async def test_a_task_whose_alert_does_not_fit_its_event_fails_for_good_naming_the_stage() -> None:
    wrong = immediate_task("hooks", alert(), T0, "alert.retracted")  # an active alert sent as retracted
    with pytest.raises(DeliveryError, match=r"webhook hooks: alert.retracted body does not fit") as info:
        await send_all([wrong])
    assert not info.value.retryable


async def test_the_console_prints_each_event_with_its_type() -> None:
    out = io.StringIO()
    console = ConsoleChannel("console", stream=out)
    for task in tasks().values():
        await console.send(task)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["type"] for line in lines] == [
        "alert.created",
        "alert.corroborated",
        "alert.retracted",
        "alert.digest",
    ]
    for line in lines:
        VALIDATOR.validate(line)


def slack_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_slack_follows_a_corroboration_up_with_the_new_source_escaped() -> None:
    hostile = corroborated(alert(), ("a3", "Herald <!channel> & <@U123>"))
    message = slack_message([hostile], digest=False, event="alert.corroborated")
    text = message["blocks"][0]["text"]["text"]
    assert "another source: <https://news.test/a3|Herald &lt;!channel&gt; &amp; &lt;@U123&gt;: Headline of a3>" in text
    assert "<!channel>" not in slack_text(message) and "<@U123>" not in slack_text(message)
    assert len(message["blocks"]) == 2 and hostile.alert_id in message["blocks"][1]["elements"][0]["text"]


def test_slack_says_why_an_alert_was_retracted_escaped() -> None:
    gone = retracted(alert(), note="Quote was from <!here> his aide & not him")
    message = slack_message([gone], digest=False, event="alert.retracted")
    text = message["blocks"][0]["text"]["text"]
    assert "retracted: not holder: Quote was from &lt;!here&gt; his aide &amp; not him" in text
    assert "<!here>" not in slack_text(message)
    assert (
        "retracted: no reason given"
        in slack_message([gone.model_copy(update={"retraction": None})], digest=False, event="alert.retracted")["text"]
    )


def test_a_slack_digest_marks_a_retracted_alert() -> None:
    message = slack_message([alert("a2"), retracted(alert("a4"))], digest=True)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    summaries = [t for t in sections if "severity" in t]
    assert ["*retracted*" in t for t in summaries] == [False, True]


async def test_the_reference_standard_webhooks_library_verifies_every_body_the_channel_signs() -> None:
    # An implementation we did not write: what it accepts, any Standard Webhooks receiver accepts.
    reference = standardwebhooks.Webhook(SECRET)
    for task, request in zip(tasks().values(), await send_all(list(tasks().values())), strict=True):
        payload = reference.verify(request.content, dict(request.headers))
        assert payload["type"] == (task.event if not task.digest else "alert.digest")
    # ... and a message it signs verifies with ours, so the secret format and the signed content agree.
    when = datetime.now(UTC)
    signature = reference.sign("msg_1", when, b'{"type":"alert.created"}')
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(when.timestamp())), "webhook-signature": signature}
    assert verify(SECRET, headers, b'{"type":"alert.created"}') == "msg_1"
