"""Delivery channels, one plugin per file behind :class:`Channel`."""

from services.alerter.channels.base import Channel
from services.alerter.channels.console import ConsoleChannel
from services.alerter.channels.slack import SlackChannel
from services.alerter.channels.webhook import WebhookChannel

__all__ = ["Channel", "ConsoleChannel", "SlackChannel", "WebhookChannel"]
