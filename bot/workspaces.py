"""The workspaces the bot serves: one, with SLACK_BOT_TOKEN; or many, installed by OAuth.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, ``/slack/install`` starts Slack's OAuth flow and
``/slack/oauth_redirect`` finishes it; slack_sdk's SQLAlchemy stores keep the installations and
the OAuth states in the shared database (their tables are theirs: created here if missing). Every
workspace searches the one shared library; subscriptions and digests are per workspace (team id).
"""

from __future__ import annotations

import zlib

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import text
from sqlalchemy.engine import Engine

from index.migrations import exclusive

from .app import web_client
from .settings import Settings

STATE_EXPIRY_S = 600


# What the handlers call and receive; manifest.json lists the same (a test keeps them equal).
BOT_SCOPES = ["commands", "chat:write", "app_mentions:read", "channels:history", "groups:history",
              "links:read", "links:write", "users:read", "channels:join"]


class Workspaces:
    def __init__(self, settings: Settings, engine: Engine, client: WebClient):
        self.settings = settings
        self.client = client  # with SLACK_BOT_TOKEN: the one workspace's; with OAuth: no token
        self.installations: SQLAlchemyInstallationStore | None = None
        self.states: SQLAlchemyOAuthStateStore | None = None
        if settings.oauth:
            self.installations = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
            self.states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRY_S, engine=engine)
            with exclusive(engine, "slack_sdk_oauth"), engine.begin() as conn:  # replicas starting together take turns
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(b"slack_sdk_oauth")})
                self.installations.metadata.create_all(conn)
                self.states.metadata.create_all(conn)

    def oauth_settings(self) -> OAuthSettings | None:
        if self.installations is None:
            return None
        extra = {"authorization_url": self.settings.slack_oauth_url} if self.settings.slack_oauth_url else {}
        return OAuthSettings(
            client_id=self.settings.slack_client_id,
            client_secret=self.settings.slack_client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
            installation_store=self.installations,
            state_store=self.states,
            **extra,
        )

    def client_for(self, team_id: str) -> WebClient:
        """A Web API client with the workspace's bot token."""
        if self.installations is None:
            return self.client
        bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise LookupError(f"workspace {team_id} has not installed the app (or uninstalled it)")
        return web_client(self.settings, bot.bot_token)
