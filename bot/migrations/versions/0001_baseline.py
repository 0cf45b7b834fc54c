"""The first release's bot table: the Slack events already handled.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_slack_events_seen_at", "slack_events", ["seen_at"])


def downgrade() -> None:
    op.drop_table("slack_events")
