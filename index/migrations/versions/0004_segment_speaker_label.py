"""Segments keep the source's diarization label (SPEAKER_00, spk_1, A) apart from a named speaker.

Cards show an unnamed label as "Speaker 1"; a sidecar or speaker inference can
name it later. Existing segments have no label (NULL).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("speaker_label", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("speaker_label")
