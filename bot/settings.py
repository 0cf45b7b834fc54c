"""Settings from the environment and a ``.env`` file (pydantic-settings).

Slack's own names (``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``,
``SLACK_SIGNING_SECRET``) are read as they are; everything else is prefixed
``QUOTEBOT_``. Tokens are SecretStr, so they never show in logs or reprs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.sources import MB
from index.store import sqlite_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QUOTEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,  # "SLACK_BOT_TOKEN=" left empty in a copied .env means unset
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )

    # OAuth, to serve many workspaces (instead of SLACK_BOT_TOKEN)
    slack_client_id: str | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET"))
    slack_oauth_url: str | None = Field(None, validation_alias=AliasChoices("SLACK_OAUTH_URL"))  # authorize page

    slack_api_url: str | None = Field(None, validation_alias=AliasChoices("SLACK_API_URL"))
    port: int = Field(3000, validation_alias=AliasChoices("PORT", "QUOTEBOT_PORT"), ge=1, le=65535)

    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: SQLite in data_dir
    max_file_mb: float = Field(50.0, gt=0)  # megabytes: 10^6 bytes, as every size message says
    fetch_timeout_s: float = Field(20.0, gt=0)  # the deadline of one whole fetch
    fetch_allow_hosts: str = ""  # comma-separated URL hosts that may resolve to private addresses
    digest_tick_s: float = Field(30.0, gt=0, le=3600)  # how often serve looks for due digests
    reload_s: float = Field(15.0, gt=0, le=3600)  # how often serve checks the library version
    alert_settle_s: float = Field(30.0, ge=0, le=3600)  # alerts wait this quiet time, to batch a burst of episodes
    # the HTTP server (bot.httpd): gunicorn's gthread workers; wsgiref only as a benchmark baseline
    http_server: Literal["gunicorn", "wsgiref"] = "gunicorn"
    workers: int = Field(1, ge=1, le=64)  # processes; see the README's "The HTTP server" for why 1
    threads: int = Field(8, ge=1, le=256)  # request threads per worker
    backlog: int = Field(1024, ge=16, le=65535)  # connections the kernel queues while all are busy
    keepalive_s: float = Field(65.0, gt=0, le=3600)  # a connection idle between requests is closed after this
    # a request arrives whole within this (the first one counted from the connection)
    request_timeout_s: float = Field(10.0, gt=0, le=300)
    stop_timeout_s: float = Field(8.0, gt=0, le=300)  # a graceful stop's bound (Docker kills at 10 s)
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def oauth(self) -> bool:
        """Many workspaces, installed by OAuth (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set)."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def has_workspace(self) -> bool:
        """Slack can be reached: one workspace's bot token, or OAuth installations."""
        return self.slack_bot_token is not None or self.oauth

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def api_url(self) -> str | None:
        """The Web API base URL, ending in "/" as slack_sdk needs (it joins with urljoin)."""
        if not self.slack_api_url:
            return None
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    @property
    def max_bytes(self) -> int:
        """QUOTEBOT_MAX_FILE_MB in bytes (1 MB = 1,000,000 bytes)."""
        return int(self.max_file_mb * MB)

    @property
    def allow_hosts(self) -> frozenset[str]:
        """QUOTEBOT_FETCH_ALLOW_HOSTS as a set of lower-case host names or addresses."""
        return frozenset(h.strip().lower() for h in self.fetch_allow_hosts.split(",") if h.strip())
