"""Settings: Slack's own names, QUOTEBOT_ names, a .env file, and secrets kept out of reprs."""

from __future__ import annotations

import os

import pytest

from bot.settings import Settings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"]:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("QUOTEBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults(clean_env):
    s = Settings()
    assert str(s.data_dir) == "data"
    assert s.db_url == "sqlite:///data/quotebot.db"
    assert s.slack_bot_token is None and s.max_bytes == 50_000_000  # MB, as the messages say


def test_environment_and_dotenv(clean_env, monkeypatch):
    (clean_env / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\nSLACK_SIGNING_SECRET=shh\nQUOTEBOT_MAX_FILE_MB=2\n"
    )
    monkeypatch.setenv("QUOTEBOT_DATA_DIR", str(clean_env / "store"))
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-from-env")
    s = Settings()
    assert s.slack_bot_token.get_secret_value() == "xoxb-from-dotenv"
    assert s.slack_app_token.get_secret_value() == "xapp-from-env"
    assert s.data_dir == clean_env / "store"
    assert s.max_bytes == 2_000_000
    shown = repr(s) + str(s.model_dump())
    assert "xoxb-from-dotenv" not in shown and "shh" not in shown and "xapp-from-env" not in shown


def test_database_url_overrides_sqlite(clean_env, monkeypatch):
    monkeypatch.setenv("QUOTEBOT_DATABASE_URL", "postgresql+psycopg://u:p@db/quotebot")
    assert Settings().db_url == "postgresql+psycopg://u:p@db/quotebot"


def test_bad_setting_names_the_field(clean_env, monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("QUOTEBOT_MAX_FILE_MB", "-3")
    with pytest.raises(ValidationError, match="max_file_mb"):
        Settings()
