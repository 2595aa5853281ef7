"""``alerter --test-notification CHANNEL``: one marked test alert, signed like a real one, to a real receiver."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.alerter.sample import TEST_ACTOR
from services.alerter.signing import verify
from services.demo.receiver import WebhookReceiver
from tests.support import clean_env, stancewatch

from .receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"test-notification-signing-key").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a key the receiver does not share").decode()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Verifies every Standard Webhooks signature with SECRET; answers 400 to one that does not verify."""
    receiver = WebhookReceiver(SECRET).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


async def test_a_webhook_test_notification_arrives_signed_and_says_it_is_a_test(
    webhook_receiver: WebhookReceiver,
) -> None:
    url = webhook_receiver.url + "?key=url-held-token"
    env = clean_env(STANCEWATCH_WEBHOOK_URL=url, STANCEWATCH_WEBHOOK_SECRET=SECRET)
    done = await stancewatch("alerter", "--test-notification", "webhook", env=env)
    assert done.status == 0, done.err
    (received,) = webhook_receiver.stats.accepted
    assert webhook_receiver.stats.rejected == []
    assert received.alert.actor == TEST_ACTOR
    assert received.alert.actor_name is not None and "TEST NOTIFICATION" in received.alert.actor_name
    assert all("TEST NOTIFICATION" in e.text for e in received.alert.after.evidence)
    assert f"test notification via webhook (webhook): delivered, HTTP 200; alert id {received.webhook_id}" in done.out
    assert_no_secret(done.out + done.err, SECRET, SECRET.removeprefix("whsec_"), "url-held-token", url)


async def test_a_signature_the_receiver_cannot_verify_is_refused_and_the_command_exits_1(
    webhook_receiver: WebhookReceiver,
) -> None:
    env = clean_env(STANCEWATCH_WEBHOOK_URL=webhook_receiver.url, STANCEWATCH_WEBHOOK_SECRET=OTHER_SECRET)
    done = await stancewatch("alerter", "--test-notification", "webhook", env=env)
    assert done.status == 1
    assert webhook_receiver.stats.accepted == [] and len(webhook_receiver.stats.rejected) == 1
    assert "test notification via webhook (webhook): NOT delivered: webhook webhook: HTTP 400" in done.err
    assert_no_secret(done.out + done.err, OTHER_SECRET, webhook_receiver.url)


async def test_each_run_is_a_new_alert_so_a_receiver_that_drops_duplicates_still_shows_it(
    webhook_receiver: WebhookReceiver,
) -> None:
    env = clean_env(STANCEWATCH_WEBHOOK_URL=webhook_receiver.url, STANCEWATCH_WEBHOOK_SECRET=SECRET)
    for _ in range(2):
        assert (await stancewatch("alerter", "--test-notification", "webhook", env=env)).status == 0
    assert webhook_receiver.stats.duplicates == 0
    assert len({r.webhook_id for r in webhook_receiver.stats.accepted}) == 2


async def test_a_channel_of_the_routing_file_is_tested_by_its_name_with_its_own_secret(
    webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "channels:\n"
        "  ops: {type: webhook, url_env: OPS_WEBHOOK_URL, secret_env: OPS_WEBHOOK_SECRET, delivery: digest}\n"
        "routes:\n  - {channels: [ops], actors: [putin]}\n"
    )
    env = clean_env(STANCEWATCH_ROUTING=str(routing), OPS_WEBHOOK_URL=webhook_receiver.url, OPS_WEBHOOK_SECRET=SECRET)
    done = await stancewatch("alerter", "--test-notification", "ops", env=env)
    assert done.status == 0, done.err
    # Sent at once as a single alert, whatever the channel's routes and delivery mode.
    (received,) = webhook_receiver.stats.accepted
    assert received.alert.actor == TEST_ACTOR


async def test_a_slack_test_notification_is_a_block_kit_message_that_says_it_is_a_test() -> None:
    receiver = Receiver()
    base = await receiver.start()
    try:
        url = f"{base}/services/T000/B000/slack-path-secret"
        done = await stancewatch(
            "alerter", "--test-notification", "slack", env=clean_env(STANCEWATCH_SLACK_WEBHOOK_URL=url)
        )
    finally:
        await receiver.stop()
    assert done.status == 0, done.err
    (request,) = receiver.requests
    message = json.loads(request.body)
    assert message["blocks"][0]["type"] == "header"
    assert "TEST NOTIFICATION" in message["blocks"][0]["text"]["text"]
    assert "test notification via slack (slack): delivered, HTTP 200" in done.out
    assert_no_secret(done.out + done.err, "slack-path-secret")


async def test_a_channel_that_fails_is_tried_once_reported_and_exits_1() -> None:
    receiver = Receiver(script=lambda path, n: (500, {}))
    base = await receiver.start()
    try:
        env = clean_env(STANCEWATCH_WEBHOOK_URL=f"{base}/hook", STANCEWATCH_WEBHOOK_SECRET=SECRET)
        done = await stancewatch("alerter", "--test-notification", "webhook", env=env)
    finally:
        await receiver.stop()
    assert done.status == 1
    (request,) = receiver.requests
    assert verify(SECRET, request.headers, request.body)  # signed like a real alert, even when refused
    assert "NOT delivered: webhook webhook: HTTP 500" in done.err


async def test_an_unknown_channel_names_the_configured_ones_and_exits_1() -> None:
    done = await stancewatch("alerter", "--test-notification", "ops", env=clean_env(STANCEWATCH_CONSOLE_ALERTS="1"))
    assert done.status == 1
    assert "no channel named 'ops' (configured: console)" in done.err


async def test_a_configuration_error_exits_2_as_at_start() -> None:
    env = clean_env(STANCEWATCH_WEBHOOK_URL="https://hooks.test/in")  # a webhook without its signing secret
    done = await stancewatch("alerter", "--test-notification", "webhook", env=env)
    assert done.status == 2
    assert "STANCEWATCH_WEBHOOK_SECRET" in done.err
