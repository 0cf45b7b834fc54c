"""The workspaces the bot serves: one, with SLACK_BOT_TOKEN; or many, installed by OAuth.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, ``/slack/install`` starts Slack's OAuth flow and
``/slack/oauth_redirect`` finishes it; slack_sdk's SQLAlchemy stores keep the installations and
the OAuth states in the shared database (their tables are theirs: created here if missing). Every
workspace searches the one shared library; subscriptions and digests are per workspace (team id).

Enterprise Grid: an org-wide install (``is_enterprise_install``) is stored under its enterprise id
alone, with no team. Bolt finds it for events and commands from any of the organization's
workspaces; for a digest, which knows only its workspace, ``client_for`` asks each org-wide
install which workspaces it covers (``auth.teams.list``, remembered per process).

When a workspace uninstalls the app (``app_uninstalled``) or its bot token is revoked
(``tokens_revoked``; ``handlers.lifecycle``), its installation is deleted and its digest
subscriptions and keyword alerts removed; for an organization, those of every workspace known to
be in it, and any other's at its next digest or alert (``client_for`` then finds no installation).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import select
from sqlalchemy.engine import Engine

from index.migrations import exclusive_transaction

from .alerts import AlertStore
from .app import web_client
from .digests import DigestStore
from .settings import Settings

log = logging.getLogger("quotebot.workspaces")

STATE_EXPIRY_S = 600


# What the handlers call and receive; manifest.json lists the same (a test keeps them equal).
BOT_SCOPES = ["commands", "chat:write", "app_mentions:read", "channels:history", "groups:history",
              "links:read", "links:write", "users:read", "channels:join"]


class Workspaces:
    """The installations (``client_for``), and what happens when a workspace leaves
    (``handlers.lifecycle.Installations``)."""

    def __init__(self, settings: Settings, engine: Engine, client: WebClient, digests: DigestStore | None = None,
                 alerts: AlertStore | None = None):
        self.settings = settings
        self.digests = digests or DigestStore(engine)
        self.alerts = alerts or AlertStore(engine)
        self.grid_teams: dict[str, set[str]] = {}  # enterprise id -> its workspaces, as auth.teams.list said
        self.client = client  # with SLACK_BOT_TOKEN: the one workspace's; with OAuth: no token
        self.installations: SQLAlchemyInstallationStore | None = None
        self.states: SQLAlchemyOAuthStateStore | None = None
        if settings.oauth and settings.slack_client_id is not None:
            self.installations = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
            self.states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRY_S, engine=engine)
            with exclusive_transaction(engine, "slack_sdk_oauth") as conn:  # replicas starting together take turns
                self.installations.metadata.create_all(conn)
                self.states.metadata.create_all(conn)

    def oauth_settings(self) -> OAuthSettings | None:
        secret = self.settings.slack_client_secret
        if self.installations is None or secret is None:
            return None
        return OAuthSettings(
            client_id=self.settings.slack_client_id,
            client_secret=secret.get_secret_value(),
            scopes=BOT_SCOPES,
            installation_store=self.installations,
            state_store=self.states,
            authorization_url=self.settings.slack_oauth_url,  # None: Slack's own
        )

    def client_for(self, team_id: str) -> WebClient:
        """A Web API client with the workspace's bot token: its own install's, or its Enterprise
        Grid organization's org-wide one. Raises LookupError when neither exists."""
        if self.installations is None:
            return self.client
        bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
        token = bot.bot_token if bot is not None else self._grid_token(team_id)
        if not token:
            raise LookupError(f"workspace {team_id} has not installed the app (or uninstalled it)")
        return web_client(self.settings, token)

    def _grid_token(self, team_id: str) -> str | None:
        """The bot token of the org-wide install whose organization holds ``team_id``."""
        if self.installations is None:
            return None
        bots = self.installations.bots
        with self.installations.engine.connect() as conn:
            enterprises = [row[0] for row in conn.execute(
                select(bots.c.enterprise_id).where(bots.c.client_id == self.installations.client_id,
                                                   bots.c.is_enterprise_install.is_(True)).distinct())]
        for enterprise in enterprises:
            bot = self.installations.find_bot(enterprise_id=enterprise, team_id=None, is_enterprise_install=True)
            if bot is None or not bot.bot_token:
                continue
            if team_id not in self.grid_teams.get(enterprise, set()):
                self.grid_teams[enterprise] = self._teams_of(bot.bot_token)
            if team_id in self.grid_teams[enterprise]:
                return str(bot.bot_token)
        return None

    def _teams_of(self, token: str) -> set[str]:
        """The workspaces an org-wide install covers (``auth.teams.list``, every page)."""
        client, teams, cursor = web_client(self.settings, token), set(), None
        while True:
            page: Any = client.auth_teams_list(cursor=cursor, limit=200) if cursor else \
                client.auth_teams_list(limit=200)
            teams |= {str(t.get("id")) for t in page.get("teams") or [] if isinstance(t, dict)}
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return teams

    # --- handlers.lifecycle.Installations ----------------------------------------------------

    def uninstalled(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the installation (its bot and users) and end its digests and alerts."""
        if self.installations is not None:
            self.installations.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._forget(enterprise_id, team_id)

    def tokens_revoked(self, enterprise_id: str | None, team_id: str | None, *, bot: bool,
                       user_ids: list[str]) -> None:
        """Forget revoked user tokens; a revoked bot token ends the installation's bot, digests and alerts."""
        if self.installations is not None:
            for user in user_ids:
                self.installations.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user)
            if bot:  # the installation rows hold the bot token too (Bolt reads them first): all go
                self.installations.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        if bot:
            self._forget(enterprise_id, team_id)

    def _forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        """End the digest subscriptions and keyword alerts of a workspace that left, or of every
        workspace known to be in an organization that did."""
        teams = {team_id} if team_id else self.grid_teams.pop(enterprise_id or "", set())
        digests = sum(self.digests.remove_workspace(team) for team in teams)
        alerts = sum(self.alerts.remove_workspace(team) for team in teams)
        log.info("stopped %d digest subscriptions and %d alerts of %s", digests, alerts, team_id or enterprise_id)
