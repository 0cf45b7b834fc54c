"""Episodes keep the evidence for each speaker name that was inferred, not given (issue 14).

``episodes.speaker_evidence`` is JSON: ``[{"name", "rule", "time_s", "words"}, ...]``, written by
``speakers.attribute`` through the episode build and shown by ``quotebot episodes``. Existing
episodes get ``[]`` until they are rebuilt.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(sa.Column("speaker_evidence", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("speaker_evidence")
