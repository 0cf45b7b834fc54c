"""Episodes remember when they were first stored (the digest's "new this week").

Existing episodes get the time their earliest source was ingested.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(sa.Column("added_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE episodes SET added_at = (SELECT MIN(sources.ingested_at) FROM transcripts "
        "JOIN sources ON sources.key = transcripts.source_key WHERE transcripts.episode_id = episodes.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("added_at")
