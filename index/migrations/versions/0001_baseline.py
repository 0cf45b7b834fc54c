"""The library as the first release stored it: sources, transcripts, episodes, segments, version.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "episodes",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("title", sa.Text),
        sa.Column("podcast", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("published", sa.Date),
        sa.Column("duration_s", sa.Float),
        sa.Column("chapters", sa.Text, nullable=False),
        sa.Column("speakers", sa.Text, nullable=False),
        sa.Column("hosts", sa.Text, nullable=False),
        sa.Column("guests", sa.Text, nullable=False),
        sa.Column("stats", sa.Text, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("key", sa.String(1000), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "transcripts",
        sa.Column("source_key", sa.String(1000), sa.ForeignKey("sources.key", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("episode_id", sa.String(200), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("podcast", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_transcripts_episode_id", "transcripts", ["episode_id"])
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("episode_id", sa.String(200), sa.ForeignKey("episodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("start_s", sa.Float),
        sa.Column("end_s", sa.Float),
        sa.Column("speaker", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("translation", sa.Text),
        sa.Column("chapter", sa.Text),
        sa.Column("url", sa.Text),
    )
    op.create_index("ix_segments_episode_id", "segments", ["episode_id"])
    op.create_table(
        "library",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("segments", "transcripts", "library", "sources", "episodes"):
        op.drop_table(table)
