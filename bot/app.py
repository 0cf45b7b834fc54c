"""The Bolt app: a Web API client with retry handlers, request verification, and every handler."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

import handlers

from .events import once_per_request
from .settings import Settings


def web_client(settings: Settings, token: str | None = None, *, anonymous: bool = False) -> WebClient:
    """A Web API client that waits out rate limits (429 + Retry-After) and retries dropped connections.

    Its token: ``token``, else SLACK_BOT_TOKEN unless ``anonymous`` (OAuth: each workspace's own)."""
    if token is None and not anonymous and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    client = WebClient(token=token, base_url=settings.api_url) if settings.api_url else WebClient(token=token)
    client.retry_handlers = [ConnectionErrorRetryHandler(max_retry_count=2),
                             RateLimitErrorRetryHandler(max_retry_count=5)]
    return client


def build_app(settings: Settings, quotes: handlers.Quotes, once: handlers.Once, *, client: WebClient | None = None,
              digests: handlers.Digests | None = None, oauth_settings: OAuthSettings | None = None,
              executor: Executor | None = None, alerts: handlers.Alerts | None = None,
              feedback: handlers.Feedback | None = None,
              installations: handlers.Installations | None = None) -> App:
    """The Bolt app. The signing secret is required: Bolt answers a forged or stale request with 401.

    ``once`` holds the claim rows (``bot.events.EventLog``): every request is recorded before it is
    acknowledged (``events.once_per_request``: retried events dropped, replays refused, 503 when
    the database cannot record it), and buttons that write act once.
    With ``oauth_settings`` it serves every workspace that installed it (``/slack/install``);
    ``installations`` hears when one leaves (``handlers.lifecycle``)."""
    if settings.slack_signing_secret is None:
        raise ValueError("SLACK_SIGNING_SECRET is not set; copy it from your Slack app's Basic Information page")
    app = App(
        client=client or web_client(settings, anonymous=oauth_settings is not None),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        token_verification_enabled=False,
        logger=logging.getLogger("quotebot.bolt"),
        oauth_settings=oauth_settings,
        listener_executor=executor,
    )
    app.middleware(once_per_request(once.first_time))
    handlers.register(app, quotes, once, digests, alerts, feedback, installations)
    return app
