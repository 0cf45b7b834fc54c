"""The app's own lifecycle in a workspace: uninstalled, or its tokens revoked.

Slack sends ``app_uninstalled`` when a workspace (or, for an org-wide install, an Enterprise Grid
organization) removes the app, and ``tokens_revoked`` when tokens are revoked (the bot's, or
users'). Both come signed to ``/slack/events`` like any event (Bolt lets them through without
looking up an installation, since there may be none left to find;
https://api.slack.com/events/app_uninstalled, https://api.slack.com/events/tokens_revoked).
What to forget is the ``Installations``' business: this module only says who left.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_bolt import App, BoltContext

log = logging.getLogger("quotebot.lifecycle")


class Installations(Protocol):
    """What a workspace leaving asks of the bot's side (``bot.workspaces.Workspaces``)."""

    def uninstalled(self, enterprise_id: str | None, team_id: str | None) -> None:
        """The app was removed: forget its installation and end its digests and keyword alerts."""
        ...

    def tokens_revoked(self, enterprise_id: str | None, team_id: str | None, *, bot: bool,
                       user_ids: list[str]) -> None:
        """Tokens were revoked: the bot's (``bot``) and/or those of ``user_ids``."""
        ...


def register(app: App, installations: Installations) -> None:
    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        enterprise, team = _whose(context)
        log.info("app uninstalled from %s", team or enterprise)
        installations.uninstalled(enterprise, team)

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        enterprise, team = _whose(context)
        given = event.get("tokens")
        tokens: dict[str, Any] = given if isinstance(given, dict) else {}
        bot = bool(tokens.get("bot"))
        users = [u for u in tokens.get("oauth") or [] if isinstance(u, str)]
        log.info("tokens revoked in %s: %s", team or enterprise,
                 ", ".join([*(["the bot's"] if bot else []), *([f"{len(users)} users'"] if users else [])]) or "none")
        installations.tokens_revoked(enterprise, team, bot=bot, user_ids=users)


def _whose(context: BoltContext) -> tuple[str | None, str | None]:
    """(enterprise id, team id) of the installation an event is about; an org-wide install is
    its enterprise's alone (team None)."""
    if context.is_enterprise_install:
        return context.enterprise_id, None
    return context.enterprise_id, context.team_id
