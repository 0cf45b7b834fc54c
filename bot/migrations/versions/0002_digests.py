"""Daily digests: subscriptions, one claim per channel and local date, the quotes each channel got.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("team_id", sa.String(40), primary_key=True),
        sa.Column("channel_id", sa.String(40), primary_key=True),
        sa.Column("post_at", sa.String(5), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("weekends", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "digest_claims",
        sa.Column("team_id", sa.String(40), primary_key=True),
        sa.Column("channel_id", sa.String(40), primary_key=True),
        sa.Column("local_date", sa.Date, primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("message_ts", sa.String(40)),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "digest_quotes",
        sa.Column("team_id", sa.String(40), primary_key=True),
        sa.Column("channel_id", sa.String(40), primary_key=True),
        sa.Column("quote_key", sa.String(120), primary_key=True),
        sa.Column("sent_on", sa.Date, nullable=False),
    )


def downgrade() -> None:
    for table in ("digest_quotes", "digest_claims", "digest_subscriptions"):
        op.drop_table(table)
